/**
 * gRPC against hostile or mistaken input through the real service (tiny-128 fixture): long values
 * echoed in errors, latents far outside the prior, contradictory interpolation options, bytes
 * that are not a message, and deadlines, each answered with the right status and metrics, leaving
 * the connection usable.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createMetrics, type Metrics } from '../../../src/metrics/metrics.js';
import { BigGanError } from '../../../src/errors.js';
import {
  createGrpcServer,
  createGeneratorClient,
  type GeneratorClient,
  type GrpcServer,
} from '../../../src/transport/grpc/server.js';
import { createStack, type Stack } from '../../helpers/stack.js';
import { callError, generate, interpolateAll, startHarness } from './harness.js';

/** An 80 kB string: past the ~72 kB at which an echoed status used to wedge the connection. */
const HUGE = 'x'.repeat(80_000);

async function counted(metrics: Metrics, route: string, status: string): Promise<number> {
  const values = (await metrics.requests.get()).values;
  return (
    values.find((v) => v.labels.transport === 'grpc' && v.labels.route === route && v.labels.status === status)
      ?.value ?? 0
  );
}

async function rejected(metrics: Metrics, reason: string): Promise<number> {
  // Summed over the model label.
  return (await metrics.rejections.get()).values
    .filter((v) => v.labels.reason === reason)
    .reduce((n, v) => n + v.value, 0);
}

describe('gRPC with hostile input on the real service', () => {
  let s: Stack;
  let server: GrpcServer;
  let client: GeneratorClient;
  let port: number;
  before(async () => {
    s = await createStack();
    server = createGrpcServer(s.requests, s.catalog, {
      maxConnectionAgeMs: 60_000,
      maxConnectionAgeGraceMs: 1_000,
      metrics: s.metrics,
    });
    port = await server.start('127.0.0.1', 0);
    client = createGeneratorClient(`127.0.0.1:${port}`);
  });
  after(async () => {
    client.close();
    await server.shutdown(1_000);
  });

  it('answers an 80 kB format, class name or mixture key with a short INVALID_ARGUMENT at once; the connection still works', async () => {
    const cases: [object, RegExp][] = [
      [
        { classes: [{ index: 1 }], format: HUGE },
        /^format: must be one of png, jpeg, webp, got "x{20,}\.\.\." \(80000 characters\)$/,
      ],
      [{ classes: [{ name: HUGE }] }, /^classes\[0\]: must be 1\.\.200 characters, got 80000$/],
      [
        { classes: [{ mixture: { weights: { [HUGE]: 1 } } }] },
        /^classes\[0\]\["x+\.\.\." \(80000 characters\)\]: unknown class/,
      ],
    ];
    for (const [req, message] of cases) {
      const startedAt = Date.now();
      // A deadline, so a wedged call fails the test in seconds instead of hanging it.
      const err = await callError(generate(client, req, 5_000));
      assert.equal(err.code, grpc.status.INVALID_ARGUMENT, `${err.code} ${err.details.slice(0, 80)}`);
      assert.match(err.details, message);
      assert.ok(err.details.length <= 300, `details are ${err.details.length} characters`);
      assert.ok(Date.now() - startedAt < 2_000, 'answered promptly');
      const ok = await generate(client, { classes: [{ index: 1 }], seed: '3' }, 5_000);
      assert.equal(ok.images.length, 1, 'the next call on the same connection works');
    }
  });

  it('refuses |z| > 100 naming the element; NaN and Infinity too', async () => {
    const z = Array.from({ length: 128 }, () => 0.5);
    for (const [bad, pattern] of [
      [1e30, /must be a number in \[-100, 100\]/],
      [-101, /must be a number in \[-100, 100\]/],
      [NaN, /finite/],
      [Infinity, /finite/],
    ] as const) {
      const row = [...z];
      row[5] = bad;
      const err = await callError(generate(client, { classes: [{ index: 1 }], z: [...z, ...row] }, 5_000));
      assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
      assert.match(err.details, /^z\[1\]\[5\]: /);
      assert.match(err.details, pattern);
      const { error } = await interpolateAll(client, {
        from: { z: row, class: { index: 1 } },
        to: { seed: '1', class: { index: 2 } },
        frames: 2,
      });
      assert.equal(error?.code, grpc.status.INVALID_ARGUMENT);
      assert.match(error?.details ?? '', /^from\.z\[5\]: /);
    }
    const edge = [100, -100, ...z.slice(2)];
    const ok = await generate(client, { classes: [{ index: 1 }], z: edge }, 5_000);
    assert.equal(ok.images.length, 1, 'the bound itself is allowed');
  });

  it('refuses Interpolate with gif and grid naming both fields; grid alone answers a still grid', async () => {
    const req = { from: { seed: '1', class: { index: 1 } }, to: { seed: '2', class: { index: 2 } }, frames: 2 };
    const { messages, error } = await interpolateAll(client, { ...req, format: 'gif', grid: true });
    assert.equal(error?.code, grpc.status.INVALID_ARGUMENT, 'gif + grid must not drop the grid silently');
    assert.equal(messages.length, 0);
    assert.match(error?.details ?? '', /^grid: .*format gif/);
    const still = await interpolateAll(client, { ...req, grid: true });
    assert.equal(still.error, undefined);
    const closing = still.messages.at(-1);
    assert.equal(closing?.grid?.mimeType, 'image/png');
    assert.equal(closing?.animation, undefined);
  });

  it('answers bytes that are not a message with INVALID_ARGUMENT and counts them as invalid', async () => {
    const raw = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const before = await rejected(s.metrics, 'invalid');
      const beforeCount = await counted(s.metrics, 'Generate', 'INVALID_ARGUMENT');
      // Field 1 (classes), length-delimited, claiming 100 bytes that never come.
      const garbage = Buffer.from([0x0a, 0x64, 0x01]);
      const err = await new Promise<grpc.ServiceError>((resolve, reject) => {
        raw.makeUnaryRequest(
          '/biggan.v1.Generator/Generate',
          (b: Buffer) => b,
          (b: Buffer) => b,
          garbage,
          new grpc.Metadata(),
          { deadline: Date.now() + 5_000 },
          (e) => (e ? resolve(e) : reject(new Error('garbage was accepted'))),
        );
      });
      assert.equal(err.code, grpc.status.INVALID_ARGUMENT, `${err.code} ${err.details}`);
      assert.match(err.details, /not a valid biggan\.v1\.GenerateRequest/);
      assert.equal(await rejected(s.metrics, 'invalid'), before + 1);
      assert.equal(await counted(s.metrics, 'Generate', 'INVALID_ARGUMENT'), beforeCount + 1);
    } finally {
      raw.close();
    }
  });
});

describe('gRPC deadlines in the metrics', () => {
  it('counts a call cut by its deadline as DEADLINE_EXCEEDED, a client cancel as CANCELLED', async () => {
    const metrics = createMetrics();
    const h = await startHarness({ metrics });
    try {
      // The service holds every call until the client is gone.
      h.service.hold = (ctx) =>
        new Promise((resolve) => ctx.signal?.addEventListener('abort', () => resolve(), { once: true }));
      const err = await callError(generate(h.client, { classes: [{ index: 1 }] }, 200));
      assert.equal(err.code, grpc.status.DEADLINE_EXCEEDED);
      const reason = await new Promise<unknown>((resolve) => {
        const ctx = h.service.calls.at(-1)!.ctx;
        if (ctx.signal?.aborted) resolve(ctx.signal.reason);
        else ctx.signal?.addEventListener('abort', () => resolve(ctx.signal?.reason), { once: true });
      });
      assert.ok(reason instanceof BigGanError && reason.code === 'DEADLINE_EXCEEDED', 'the service is told why');
      await waitFor(async () => (await counted(metrics, 'Generate', 'DEADLINE_EXCEEDED')) === 1);
      assert.equal(await counted(metrics, 'Generate', 'CANCELLED'), 0);

      const call = h.client.Generate({ classes: [{ index: 1 }] }, () => undefined);
      await h.service.nextCall();
      call.cancel();
      await waitFor(async () => (await counted(metrics, 'Generate', 'CANCELLED')) === 1);
      assert.equal(await counted(metrics, 'Generate', 'DEADLINE_EXCEEDED'), 1);
    } finally {
      await h.close();
    }
  });
});

/** Polls `check` until it holds (every 10 ms, at most 5 s): the metric is recorded just after the status is sent. */
async function waitFor(check: () => Promise<boolean>): Promise<void> {
  const until = Date.now() + 5_000;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
