/**
 * What the service does differently on a GPU backend, shown with the real server and a fake
 * engine that says it runs on `cuda` (it computes with the real CPU ort engine underneath and
 * records every batch size it is asked for): the warm-up runs every batch size 1..maxBatchSize,
 * and an engine that keeps failing (a sticky CUDA error) fails /healthz after
 * --engine-liveness-timeout-ms so Kubernetes restarts the pod. On `cpu` neither happens.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseServerConfig } from '../../src/config/server-config.js';
import { startServer, type RunningServer } from '../../src/server/start.js';
import { createEngine } from '../../src/engine/create-engine.js';
import type { Engine, EngineBatch, EngineOutput } from '../../src/engine/engine.js';
import { EngineLiveness } from '../../src/engine/liveness.js';
import { warmUpBatchSizes, warmUpEngine } from '../../src/engine/warm-up.js';
import { FIXTURE_DIR } from '../helpers/fixtures.js';

/** A real engine under another backend name, recording batch sizes; fails every call once told to. */
class RecordingEngine implements Engine {
  readonly name;
  readonly config;
  readonly sizes: number[] = [];
  failing = false;

  constructor(
    private readonly inner: Engine,
    readonly backend: string,
  ) {
    this.name = inner.name;
    this.config = inner.config;
  }

  async generate(batch: EngineBatch): Promise<EngineOutput> {
    this.sizes.push(batch.size);
    if (this.failing) throw new Error('CUDA error: an illegal memory access was encountered (fake)');
    return this.inner.generate(batch);
  }

  dispose(): Promise<void> {
    return this.inner.dispose();
  }
}

async function serve(
  backend: string,
  extra: string[] = [],
): Promise<{ server: RunningServer; engine: () => RecordingEngine }> {
  const { config } = parseServerConfig(
    [
      '--weights',
      FIXTURE_DIR,
      '--host',
      '127.0.0.1',
      '--http-port',
      '0',
      '--grpc-port',
      '-1',
      '--max-batch-size',
      '4',
      '--threads',
      '1',
      '--engine',
      'ort',
      '--backend',
      'cpu',
      ...extra,
    ],
    {},
  );
  let made: RecordingEngine | undefined;
  const server = await startServer(config, {
    logger: false,
    createEngine: async (folded, opts) => (made = new RecordingEngine(await createEngine(folded, opts), backend)),
  });
  return { server, engine: () => made! };
}

test('warmUpBatchSizes: every size up to the maximum on cuda and tensorrt, only the maximum elsewhere', () => {
  assert.deepEqual(warmUpBatchSizes('cuda', 5), [1, 2, 3, 4, 5]);
  assert.deepEqual(warmUpBatchSizes('tensorrt', 2), [1, 2]);
  for (const b of ['cpu', 'wasm', 'tensorflow']) assert.deepEqual(warmUpBatchSizes(b, 5), [5]);
});

test('warmUpEngine resolves with the full batch time and runs valid batches', async () => {
  const seen: EngineBatch[] = [];
  const fake = {
    name: 'ort',
    backend: 'cuda',
    config: { zDim: 3, numClasses: 4 },
    generate: async (b: EngineBatch) => {
      seen.push(b);
      await new Promise((r) => setTimeout(r, b.size === 3 ? 30 : 0));
      return { size: b.size, height: 1, width: 1, data: new Float32Array(3 * b.size) };
    },
    dispose: async () => undefined,
  } as unknown as Engine;
  const ms = await warmUpEngine(fake, 3, 0.4);
  assert.deepEqual(
    seen.map((b) => b.size),
    [1, 2, 3],
  );
  assert.ok(ms >= 25, `the full batch (30 ms) is the one timed, got ${ms}`);
  for (const b of seen) {
    assert.equal(b.z.length, b.size * 3);
    assert.equal(b.classVector.length, b.size * 4);
    assert.deepEqual(Array.from(b.truncation), Array(b.size).fill(0.4));
  }
});

test('the server warms up every batch size on cuda, one full batch on cpu', { timeout: 120_000 }, async () => {
  for (const [backend, expected] of [
    ['cuda', [1, 2, 3, 4]],
    ['cpu', [4]],
  ] as const) {
    const { server, engine } = await serve(backend);
    try {
      assert.deepEqual(engine().sizes, expected, `${backend} warm-up`);
    } finally {
      await server.stop();
    }
  }
});

test('EngineLiveness: only a GPU engine unhealthy past the limit fails liveness; recovery, unload and 0 clear it', () => {
  let now = 0;
  const live = new EngineLiveness({ unhealthyLimitMs: 1000, now: () => now });
  live.report('a', 'cpu', false);
  live.report('b', 'cuda', false);
  now = 999;
  assert.equal(live.failure(), undefined);
  now = 1000;
  assert.match(live.failure() ?? '', /the cuda engine of b has failed for 1 s \(limit 1 s\)/);
  live.report('b', 'cuda', false); // a repeated report keeps the first time
  live.report('b', 'cuda', true);
  assert.equal(live.failure(), undefined, 'healthy again');
  live.report('b', 'cuda', false);
  now = 5000;
  live.forget('b');
  assert.equal(live.failure(), undefined, 'unloaded');
  const never = new EngineLiveness({ unhealthyLimitMs: 0, now: () => now });
  never.report('c', 'cuda', false);
  now = 1e9;
  assert.equal(never.failure(), undefined);
  assert.throws(() => new EngineLiveness({ unhealthyLimitMs: -1 }), /unhealthyLimitMs/);
});

/** Polls `check` every 50 ms until it is true or `ms` pass. */
async function eventually(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

test(
  'a cuda engine that keeps failing: /readyz 503 at once, /healthz and OIP /v2/health/live 503 after the liveness timeout; cpu stays live',
  { timeout: 120_000 },
  async () => {
    const flags = [
      '--engine-failure-threshold',
      '1',
      '--engine-probe-interval-ms',
      '50',
      '--engine-liveness-timeout-ms',
      '400',
    ];
    for (const backend of ['cuda', 'cpu']) {
      const { server, engine } = await serve(backend, flags);
      try {
        const status = async (url: string) => (await server.http.inject({ method: 'GET', url })).statusCode;
        assert.equal(await status('/healthz'), 200);
        engine().failing = true;
        const res = await server.http.inject({
          method: 'POST',
          url: '/generate',
          headers: { 'content-type': 'application/json' },
          payload: '{"class": 1}',
        });
        assert.ok(res.statusCode >= 500, `a failed batch is a server error, got ${res.statusCode}`);
        assert.equal(await status('/readyz'), 503, 'unready after the failure threshold');
        if (backend === 'cpu') {
          await new Promise((r) => setTimeout(r, 900));
          assert.equal(await status('/healthz'), 200, 'a failing cpu engine never fails liveness');
          assert.equal(await status('/v2/health/live'), 200, 'nor the OIP liveness');
          continue;
        }
        assert.equal(await status('/healthz'), 200, 'live until the timeout');
        assert.equal(await status('/v2/health/live'), 200, 'OIP live until the timeout');
        assert.ok(
          await eventually(async () => (await status('/healthz')) === 503, 10_000),
          '/healthz 503 after the timeout',
        );
        const body = (await server.http.inject({ method: 'GET', url: '/healthz' })).json<{ status: string }>();
        assert.match(body.status, /not live: the cuda engine of tiny-128 has failed/);
        // The Open Inference Protocol's liveness probe (KServe's) answers from the same check.
        const live = await server.http.inject({ method: 'GET', url: '/v2/health/live' });
        assert.equal(live.statusCode, 503);
        assert.deepEqual(live.json(), { live: false });
      } finally {
        await server.stop();
      }
    }
  },
);
