import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { BigGanError, invalidArgument } from '../../../src/errors.js';
import type { InterpolateRequest } from '../../../src/service/types.js';
import { interpolateAll, startHarness, type Harness } from './harness.js';

describe('gRPC Interpolate', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());
  beforeEach(() => h.service.reset());

  const lastRequest = () => h.service.calls.at(-1)!.req as InterpolateRequest;

  it('maps both endpoints and every option', async () => {
    await interpolateAll(h.client, {
      from: { seed: '18446744073709551615', class: { name: 'goldfish' } },
      to: { z: [0.5, 1, -1, 0], classVector: [0, 0, 0.25, 0, 0, 0] },
      frames: 4,
      method: 'SLERP',
      truncation: 0.55,
      format: 'png',
      grid: true,
      timeoutMs: 900,
      priority: 'HIGH',
    });
    assert.deepEqual(lastRequest(), {
      from: { seed: '18446744073709551615', class: 'goldfish' },
      to: { z: [0.5, 1, -1, 0], classVector: [0, 0, 0.25, 0, 0, 0] },
      frames: 4,
      method: 'slerp',
      truncation: 0.55,
      format: 'png',
      grid: true,
      timeoutMs: 900,
      priority: 'high',
    });
    assert.equal(h.service.calls.at(-1)!.ctx.timeoutMs, 900);
    assert.equal(h.service.calls.at(-1)!.ctx.transport, 'grpc');

    await interpolateAll(h.client, {
      from: { class: { index: 0 } },
      to: { seed: '0', class: { mixture: { weights: { '1': 2 } } } },
      method: 'LERP',
    });
    assert.deepEqual(lastRequest(), {
      from: { class: 0 },
      to: { seed: '0', class: { '1': 2 } },
      method: 'lerp',
      priority: 'normal',
    });
  });

  it('streams frames in order, the first before the service has made the last', async () => {
    let firstSeen!: () => void;
    const clientGotFirst = new Promise<void>((resolve) => (firstSeen = resolve));
    const waited: boolean[] = [];
    // The service holds frame 1 until the client has frame 0 (or 3 s pass): buffering would stall it.
    h.service.beforeFrame = async (i) => {
      if (i !== 1) return;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 3_000)));
      waited.push(await Promise.race([clientGotFirst.then(() => true), timedOut]));
      clearTimeout(timer);
    };
    const { messages, error } = await interpolateAll(
      h.client,
      { from: { seed: '1', class: { index: 0 } }, to: { seed: '2', class: { index: 1 } }, frames: 3, format: 'png' },
      (m) => {
        if (m.index === 0) firstSeen();
      },
    );
    assert.equal(error, undefined);
    assert.deepEqual(waited, [true], 'frame 0 reached the client before frame 1 was made');
    assert.deepEqual(
      messages.map((m) => m.index),
      [0, 1, 2],
    );
    assert.deepEqual(
      messages.map((m) => m.t),
      [0, 0.5, 1],
    );
    assert.deepEqual(
      messages.map((m) => m.image?.data.toString()),
      ['frame 0', 'frame 1', 'frame 2'],
    );
    assert.equal(messages[0].image?.seed, '5');
    assert.equal(messages[1].image?.seed, undefined);
    assert.deepEqual(messages[0].image?.classWeights, { '1': 1 });
    assert.equal(messages[2].animation, undefined, 'png frames: no closing animation message');
  });

  it('ends an animation with a last message carrying it', async () => {
    const { messages } = await interpolateAll(h.client, {
      from: { seed: '1', class: { index: 0 } },
      to: { seed: '2', class: { index: 1 } },
      frames: 2,
      format: 'gif',
    });
    assert.equal(messages.length, 3);
    const last = messages[2];
    assert.equal(last.image, null);
    assert.equal(last.index, 2, 'index = number of frames');
    assert.equal(last.animation?.data.toString(), 'GIF89a');
    assert.equal(last.animation?.mimeType, 'image/gif');
  });

  it("rejects a missing endpoint or a bad value naming the field (row lengths are the service's check)", async () => {
    const cases: [Parameters<typeof interpolateAll>[1], RegExp][] = [
      [{ to: { seed: '1', class: { index: 0 } } }, /^from: is required/],
      [
        { from: { seed: '1', class: { index: 0 } }, to: { z: [1, 2e9], class: { index: 0 } } },
        /^to\.z\[1\]: must be a number in \[-100, 100\], got 2000000000/,
      ],
      [
        { from: { seed: '1', class: {} }, to: { seed: '1', class: { index: 0 } } },
        /^from\.class: must set one of index, name or mixture/,
      ],
    ];
    for (const [req, message] of cases) {
      const { messages, error } = await interpolateAll(h.client, req);
      assert.equal(error?.code, grpc.status.INVALID_ARGUMENT, String(message));
      assert.match(error.details, message);
      assert.equal(messages.length, 0);
    }
    assert.equal(h.service.calls.length, 0);
  });

  it("maps the service's errors to a status, renaming fields to the proto's", async () => {
    h.service.failWith = invalidArgument('from.classVector[0][1]', 'must be >= 0, got -1');
    let res = await interpolateAll(h.client, {
      from: { seed: '1', classVector: [0, 0, 0, 0, 0, 1] },
      to: { seed: '1', class: { index: 0 } },
    });
    assert.equal(res.error?.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(res.error?.details, 'from.class_vector[0][1]: must be >= 0, got -1');

    h.service.failWith = new BigGanError('OVERLOADED', 'queue is full');
    res = await interpolateAll(h.client, {
      from: { seed: '1', class: { index: 0 } },
      to: { seed: '1', class: { index: 0 } },
    });
    assert.equal(res.error?.code, grpc.status.UNAVAILABLE);
    assert.equal(res.error?.details, 'queue is full');
  });

  it('ends the stream with the error when the service fails after some frames', async () => {
    h.service.beforeFrame = async (i) => {
      if (i === 2) throw new BigGanError('DEADLINE_EXCEEDED', 'frame 2 waited too long');
    };
    const { messages, error } = await interpolateAll(h.client, {
      from: { seed: '1', class: { index: 0 } },
      to: { seed: '2', class: { index: 1 } },
      frames: 4,
      format: 'png',
    });
    assert.deepEqual(
      messages.map((m) => m.index),
      [0, 1],
    );
    assert.equal(error?.code, grpc.status.DEADLINE_EXCEEDED);
    assert.equal(error?.details, 'frame 2 waited too long');
  });
});
