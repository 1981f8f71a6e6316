import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { BigGanError, invalidArgument } from '../../../src/errors.js';
import type { GenerateRequest } from '../../../src/service/types.js';
import { abortedWithin, callError, generate, startHarness, type Harness } from './harness.js';

const MAX_U64 = '18446744073709551615';

describe('gRPC Generate', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());
  beforeEach(() => h.service.reset());

  const lastRequest = () => h.service.calls.at(-1)!.req as GenerateRequest;

  it('maps every field of a full request and answers every image', async () => {
    const res = await generate(h.client, {
      classes: [
        { index: 207 },
        { name: 'n02099601' },
        { mixture: { weights: { '207': 0.7, 'golden retriever': 0.5 } } },
      ],
      truncation: 0.4,
      seed: MAX_U64,
      count: 3,
      format: 'jpeg',
      timeoutMs: 1500,
      priority: 'HIGH',
    });
    assert.deepEqual(lastRequest(), {
      class: [207, 'n02099601', { '207': Math.fround(0.7), 'golden retriever': 0.5 }],
      // float 0.4 arrives as 0.4000000059604645; the adapter restores the decimal the client meant.
      truncation: 0.4,
      seed: '18446744073709551615',
      count: 3,
      format: 'jpeg',
      timeoutMs: 1500,
      priority: 'high',
    });
    assert.equal(res.images.length, 3);
    assert.deepEqual(
      res.images.map((i) => i.data.toString()),
      ['image 0', 'image 1', 'image 2'],
    );
    assert.equal(res.images[1].mimeType, 'image/png');
    assert.equal(res.images[1].truncation, Math.fround(0.4));
    assert.deepEqual(res.images[1].classWeights, { '207': 0.75, '3': 0.25 });
    assert.deepEqual(
      res.images.map((i) => i.index),
      [0, 1, 2],
    );
    assert.equal(res.width, 128);
    assert.equal(res.height, 128);
    assert.equal(res.grid, undefined);
  });

  it('round-trips seeds up to 2^64-1 exactly, and tells seed 0 from no seed', async () => {
    const res = await generate(h.client, { classes: [{ index: 1 }], seed: MAX_U64, count: 2 });
    assert.equal(lastRequest().seed, '18446744073709551615');
    assert.equal(res.seed, MAX_U64);
    // The fake answers seed + i mod 2^64: the second sample wraps to 0, which must still be present.
    assert.deepEqual(
      res.images.map((i) => i.seed),
      [MAX_U64, '0'],
    );

    await generate(h.client, { classes: [{ index: 1 }], seed: '0' });
    assert.equal(lastRequest().seed, '0');
    await generate(h.client, { classes: [{ index: 1 }] });
    assert.equal('seed' in lastRequest(), false);
  });

  it('passes one class spec as a single class, and index 0 as 0', async () => {
    await generate(h.client, { classes: [{ index: 0 }], count: 4 });
    assert.equal(lastRequest().class, 0);
    await generate(h.client, { classes: [{ name: '207' }] });
    assert.equal(lastRequest().class, '207');
  });

  it('leaves proto3 zero values unset so the service applies its defaults', async () => {
    await generate(h.client, {});
    assert.deepEqual(lastRequest(), { priority: 'normal' });
  });

  it('un-flattens z and class_vector rows (row-major)', async () => {
    const z = [0.5, -1.25, 2, 0, 1, 2, 3, -4];
    const classVector = [1, 0, 0, 0, 0, 0, 0, 0.25, 0.75, 0, 0, 0];
    const res = await generate(h.client, { z, classVector });
    assert.deepEqual(lastRequest(), {
      z: [
        [0.5, -1.25, 2, 0],
        [1, 2, 3, -4],
      ],
      classVector: [
        [1, 0, 0, 0, 0, 0],
        [0, 0.25, 0.75, 0, 0, 0],
      ],
      priority: 'normal',
    });
    assert.equal(res.images.length, 2);
    assert.equal(res.seed, undefined, 'no seed with explicit z');
    assert.equal(res.images[0].seed, undefined);
  });

  it('answers one grid image when grid is set', async () => {
    const res = await generate(h.client, { classes: [{ index: 3 }], count: 4, grid: true });
    assert.equal(lastRequest().grid, true);
    assert.deepEqual(res.images, []);
    assert.equal(res.grid?.data.toString(), 'grid image');
    assert.equal(res.grid?.mimeType, 'image/png');
  });

  it('rejects wire-level mistakes as INVALID_ARGUMENT naming the proto field, without calling the service', async () => {
    const cases: [Parameters<typeof generate>[1], RegExp][] = [
      [{ classes: [{ index: 1 }, {}] }, /^classes\[1\]: must set one of index, name or mixture/],
      [{ classes: [{ index: 1 }], z: [1, 2, 3] }, /^z: must hold whole rows of 4 values/],
      [{ classes: [{ index: 1 }], z: [1, 2, 3, NaN] }, /^z\[0\]\[3\]: must be a finite number, got NaN/],
      [{ classVector: [1, 0, 0, 0, 0, -1] }, /^class_vector\[0\]\[5\]: must be a number >= 0, got -1/],
      [{ classes: [{ index: 1 }], truncation: 2 }, /^truncation: must be a number in \(0, 1\], got 2$/],
    ];
    for (const [req, message] of cases) {
      const err = await callError(generate(h.client, req));
      assert.equal(err.code, grpc.status.INVALID_ARGUMENT, String(message));
      assert.match(err.details, message);
    }
    assert.equal(h.service.calls.length, 0);
  });

  it("answers the service's INVALID_ARGUMENT with its message, renamed to the proto's fields", async () => {
    h.service.failWith = invalidArgument('truncation', 'must be a number with 0 < truncation <= 1, got 2');
    let err = await callError(generate(h.client, { classes: [{ index: 1 }], truncation: 0.5 }));
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(err.details, 'truncation: must be a number with 0 < truncation <= 1, got 2');

    h.service.failWith = invalidArgument('class[1]["dog"]', 'unknown class "dog"');
    err = await callError(generate(h.client, { classes: [{ index: 1 }, { mixture: { weights: { dog: 1 } } }] }));
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(err.details, 'classes[1]["dog"]: unknown class "dog"');

    h.service.failWith = invalidArgument('class', 'unknown class "x"');
    err = await callError(generate(h.client, { classes: [{ name: 'x' }] }));
    assert.equal(err.details, 'classes[0]: unknown class "x"');

    h.service.failWith = invalidArgument('classVector[0][2]', 'must be >= 0, got -1');
    err = await callError(generate(h.client, { classVector: [0, 0, 0, 0, 0, 1] }));
    assert.equal(err.details, 'class_vector[0][2]: must be >= 0, got -1');
  });

  it('maps service errors through ERROR_TABLE: OVERLOADED, DEADLINE_EXCEEDED, UNAVAILABLE', async () => {
    h.service.failWith = new BigGanError('OVERLOADED', 'queue is full (64 samples); retry later', {
      retryAfterSeconds: 3,
    });
    let err = await callError(generate(h.client, { classes: [{ index: 1 }] }));
    assert.equal(err.code, grpc.status.UNAVAILABLE);
    assert.equal(err.details, 'queue is full (64 samples); retry later');
    assert.deepEqual(err.metadata.get('retry-after'), ['3']);

    h.service.failWith = new BigGanError('DEADLINE_EXCEEDED', 'waited 100 ms in the queue');
    err = await callError(generate(h.client, { classes: [{ index: 1 }] }));
    assert.equal(err.code, grpc.status.DEADLINE_EXCEEDED);
    assert.equal(err.details, 'waited 100 ms in the queue');

    h.service.failWith = new BigGanError('UNAVAILABLE', 'server is draining');
    err = await callError(generate(h.client, { classes: [{ index: 1 }] }));
    assert.equal(err.code, grpc.status.UNAVAILABLE);
  });

  it('answers INTERNAL without leaking the cause', async () => {
    for (const failure of [
      new BigGanError('INTERNAL', 'engine failed at /secret/path'),
      new TypeError('x is undefined'),
    ]) {
      h.service.failWith = failure;
      const err = await callError(generate(h.client, { classes: [{ index: 1 }] }));
      assert.equal(err.code, grpc.status.INTERNAL);
      assert.equal(err.details, 'internal error');
    }
  });

  it('passes transport grpc, the request timeout and the client deadline as timeoutMs (the smaller wins)', async () => {
    await generate(h.client, { classes: [{ index: 1 }] });
    assert.equal(h.service.calls.at(-1)!.ctx.transport, 'grpc');
    assert.equal(h.service.calls.at(-1)!.ctx.timeoutMs, undefined, 'no timeout and no deadline');

    await generate(h.client, { classes: [{ index: 1 }] }, 5_000);
    const fromDeadline = h.service.calls.at(-1)!.ctx.timeoutMs!;
    assert.ok(fromDeadline > 3_000 && fromDeadline <= 5_000, `timeoutMs ${fromDeadline}`);

    await generate(h.client, { classes: [{ index: 1 }], timeoutMs: 700 }, 5_000);
    assert.equal(h.service.calls.at(-1)!.ctx.timeoutMs, 700);

    await generate(h.client, { classes: [{ index: 1 }], timeoutMs: 60_000 }, 5_000);
    assert.ok(h.service.calls.at(-1)!.ctx.timeoutMs! <= 5_000);
  });

  it('aborts the signal the service saw when the client cancels', async () => {
    let sawAbort: Promise<boolean> = Promise.resolve(false);
    h.service.hold = (ctx) => {
      sawAbort = abortedWithin(ctx.signal, 5_000);
      return sawAbort.then(() => undefined);
    };
    const arrived = h.service.nextCall();
    const result = new Promise<grpc.ServiceError | null>((resolve) => {
      const call = h.client.Generate({ classes: [{ index: 1 }] }, (err) => resolve(err));
      void arrived.then(({ ctx }) => {
        assert.equal(ctx.signal?.aborted, false, 'not aborted before the cancel');
        call.cancel();
      });
    });
    const err = await result;
    assert.equal(err?.code, grpc.status.CANCELLED);
    assert.equal(await sawAbort, true);
  });

  it('aborts the signal when the client deadline passes while the call is in flight', async () => {
    let sawAbort: Promise<boolean> = Promise.resolve(false);
    h.service.hold = (ctx) => {
      sawAbort = abortedWithin(ctx.signal, 5_000);
      return sawAbort.then(() => undefined);
    };
    const err = await callError(generate(h.client, { classes: [{ index: 1 }] }, 200));
    assert.equal(err.code, grpc.status.DEADLINE_EXCEEDED);
    assert.equal(await sawAbort, true);
  });
});
