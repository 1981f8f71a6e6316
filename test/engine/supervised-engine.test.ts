/**
 * SupervisedEngine: engine time without the wait, unhealthy after consecutive failures and back
 * after a probe, and a dead worker answered UNAVAILABLE, replaced and counted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SupervisedEngine } from '../../src/engine/supervised-engine.js';
import { startWorker } from '../../src/engine/worker-host.js';
import type { Engine, EngineBatch, EngineOutput } from '../../src/engine/engine.js';
import { BigGanError } from '../../src/errors.js';
import { presetConfig } from '../../src/model/config.js';

// The fake engines below only read the sizes; outputs are 2 x 2 images (12 floats per sample).
const config = presetConfig('biggan-deep-128');

function batch(size = 1): EngineBatch {
  return {
    size,
    z: new Float32Array(size * config.zDim),
    classVector: new Float32Array(size * config.numClasses),
    truncation: Array(size).fill(0.4),
  };
}

/** An engine whose calls are answered by the test: each call waits for `next()` to settle it. */
class ScriptedEngine implements Engine {
  readonly name = 'ort' as const;
  readonly backend = 'cpu';
  readonly config = config;
  calls = 0;
  /** When set, calls fail with this at once. */
  failWith: Error | undefined;
  disposed = false;
  private waiting: { resolve: (o: EngineOutput) => void }[] = [];
  private arrived: (() => void)[] = [];

  async generate(): Promise<EngineOutput> {
    this.calls += 1;
    if (this.failWith) throw this.failWith;
    return new Promise((resolve) => {
      this.waiting.push({ resolve });
      for (const a of this.arrived.splice(0)) a();
    });
  }

  /** Resolves once a call is running. */
  async started(): Promise<void> {
    if (this.waiting.length === 0) await new Promise<void>((r) => this.arrived.push(r));
  }

  /** Waits until a call is running, then finishes it. */
  async finishNext(): Promise<void> {
    await this.started();
    this.waiting.shift()?.resolve({ size: 1, height: 2, width: 2, data: new Float32Array(12) });
  }

  async dispose(): Promise<void> {
    this.disposed = true;
  }
}

test('engine time starts when the engine starts the call; the wait behind another batch is separate', async () => {
  let now = 0;
  const inner = new ScriptedEngine();
  const compute: number[] = [];
  const waits: number[] = [];
  const engine = new SupervisedEngine(
    inner,
    async () => inner,
    { failureThreshold: 3, probeIntervalMs: 1000, now: () => now },
    {
      onCompute: ({ durationMs }) => compute.push(durationMs),
      onWait: (ms) => waits.push(ms),
    },
  );
  const a = engine.generate(batch());
  const b = engine.generate(batch()); // handed over while `a` runs (pipelining)
  await inner.started();
  now = 100;
  await inner.finishNext();
  await a;
  await inner.started();
  now = 150;
  await inner.finishNext();
  await b;
  assert.deepEqual(compute, [100, 50]);
  assert.deepEqual(waits, [0, 100]);
});

test('unhealthy after N consecutive failures, healthy again when a probe batch succeeds', async () => {
  const inner = new ScriptedEngine();
  const health: boolean[] = [];
  let recovered!: () => void;
  const back = new Promise<void>((r) => (recovered = r));
  const engine = new SupervisedEngine(
    inner,
    async () => inner,
    { failureThreshold: 3, probeIntervalMs: 10 },
    {
      onHealthChange: (h) => {
        health.push(h);
        if (h) recovered();
      },
    },
  );
  inner.failWith = new BigGanError('INTERNAL', 'boom');
  for (let i = 0; i < 2; i++) await assert.rejects(engine.generate(batch()), /boom/);
  assert.equal(engine.healthy, true, 'two failures are below the threshold');
  await assert.rejects(engine.generate(batch()), /boom/);
  assert.equal(engine.healthy, false);
  assert.deepEqual(health, [false]);
  inner.failWith = undefined; // the engine works again: the next probe succeeds
  const keepAlive = setInterval(() => undefined, 1000); // the probe timer itself never holds the process
  await inner.finishNext();
  await back;
  clearInterval(keepAlive);
  assert.equal(engine.healthy, true);
  assert.deepEqual(health, [false, true]);
  await engine.dispose();
});

test('a success resets the count: failures must be consecutive', async () => {
  const inner = new ScriptedEngine();
  const engine = new SupervisedEngine(inner, async () => inner, { failureThreshold: 2, probeIntervalMs: 1000 });
  inner.failWith = new Error('boom');
  await assert.rejects(engine.generate(batch()));
  inner.failWith = undefined;
  const ok = engine.generate(batch());
  await inner.finishNext();
  await ok;
  inner.failWith = new Error('boom');
  await assert.rejects(engine.generate(batch()));
  assert.equal(engine.healthy, true);
  await engine.dispose();
});

/** An engine over the exiting test worker: a batch of size 99 kills the worker. */
async function workerEngine(): Promise<Engine> {
  const handle = await startWorker<null, string, number, Float32Array>(
    new URL('../helpers/exiting-worker.js', import.meta.url),
    null,
  );
  return {
    name: 'ort',
    backend: 'cpu',
    config,
    generate: async (b) => ({
      size: b.size,
      height: 2,
      width: 2,
      data: await handle.run(b.size === 99 ? -1 : b.size * 12),
    }),
    dispose: () => handle.close(),
  };
}

test('worker-host: a worker that dies rejects its in-flight run with UNAVAILABLE', async () => {
  const engine = await workerEngine();
  await assert.rejects(
    engine.generate(batch(99)),
    (err: unknown) => err instanceof BigGanError && err.code === 'UNAVAILABLE' && /exited/.test(err.message),
  );
  await engine.dispose();
});

test('a dead worker: its call gets UNAVAILABLE, a new engine is started and counted, the next call works', async () => {
  let restarts = 0;
  let created = 0;
  const factory = async () => {
    created += 1;
    return workerEngine();
  };
  const engine = new SupervisedEngine(
    await factory(),
    factory,
    { failureThreshold: 5, probeIntervalMs: 1000 },
    { onRestart: () => (restarts += 1) },
  );
  assert.equal((await engine.generate(batch(2))).data.length, 24);
  await assert.rejects(
    engine.generate(batch(99)),
    (err: unknown) => err instanceof BigGanError && err.code === 'UNAVAILABLE',
  );
  assert.equal((await engine.generate(batch(1))).data.length, 12);
  assert.equal(created, 2);
  assert.equal(restarts, 1);
  await engine.dispose();
});
