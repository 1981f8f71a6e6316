/**
 * The repository's lifecycle with a fake loader: lazy loads, LRU unloading of idle models within
 * the budget, never unloading a leased one, refusing a model that can never fit, failures kept as
 * state with their reason, and the load wait bounded by the request's deadline.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelRepository, type LoadedModel } from '../../../src/service/repository/model-repository.js';
import type { ModelSource } from '../../../src/service/repository/model-source.js';
import { presetConfig } from '../../../src/model/config.js';
import { BigGanError } from '../../../src/errors.js';

const MiB = 2 ** 20;
function source(name: string, mib: number): ModelSource {
  return {
    name,
    dir: `/nowhere/${name}`,
    config: presetConfig('biggan-deep-128', 8),
    weightFile: '',
    digest: name,
    serving: { maxBatchSize: 1, maxQueueDelayMs: 0, maxQueueSize: 8 },
    servingFrom: 'default',
    memory: { weightsBytes: mib * MiB, activationBytes: 0, totalBytes: mib * MiB },
  };
}

function fakeModel(log: string[], name: string): LoadedModel {
  const service = {
    whenIdle: async () => undefined,
    startDrain: () => undefined,
    leaveRotation: () => undefined,
    isReady: () => true,
  } as unknown as LoadedModel['service'];
  return { service, engine: 'fake', backend: 'none', dispose: async () => void log.push(`unload ${name}`) };
}

function repo(budgetMiB: number, log: string[], gate?: Promise<void>) {
  let t = 0;
  return new ModelRepository([source('a', 40), source('b', 40), source('c', 40), source('huge', 500)], {
    budgetBytes: budgetMiB * MiB,
    defaultModel: 'a',
    now: () => ++t,
    load: async (s) => {
      if (s.name === 'c' && gate) await gate;
      log.push(`load ${s.name}`);
      return fakeModel(log, s.name);
    },
  });
}

test('loads on first use; over the budget the least recently used idle model is unloaded first', async () => {
  const log: string[] = [];
  const r = repo(100, log);
  (await r.acquire('a')).release();
  (await r.acquire('b')).release();
  (await r.acquire('a')).release(); // b is now the least recently used
  (await r.acquire('c')).release();
  assert.deepEqual(log, ['load a', 'load b', 'unload b', 'load c']);
  assert.equal(r.status('b').state, 'unloaded');
  assert.ok(r.reservedBytes() <= 100 * MiB);
});

test('a leased model is never unloaded: the load waits until one is released', async () => {
  const log: string[] = [];
  const r = repo(100, log);
  const la = await r.acquire('a');
  const lb = await r.acquire('b');
  const pending = r.acquire('c');
  await new Promise((res) => setImmediate(res));
  assert.deepEqual(log, ['load a', 'load b'], 'nothing unloaded while both are leased');
  lb.release();
  (await pending).release();
  assert.deepEqual(log, ['load a', 'load b', 'unload b', 'load c']);
  assert.equal(r.status('a').state, 'ready');
  la.release();
});

test('a model larger than the budget is refused naming the budget; unknown names list the models', async () => {
  const r = repo(100, []);
  await assert.rejects(
    r.acquire('huge'),
    (e: BigGanError) => e.code === 'RESOURCE_EXHAUSTED' && /--memory-budget 100 MiB/.test(e.message),
  );
  assert.equal(r.status('huge').state, 'failed');
  assert.match(r.status('huge').reason ?? '', /memory budget/);
  await assert.rejects(
    r.acquire('zzz'),
    (e: BigGanError) => e.code === 'NOT_FOUND' && /models: a, b, c, huge/.test(e.message),
  );
});

test('the wait for a load is bounded by the request deadline; the load goes on', async () => {
  let open!: () => void;
  const gate = new Promise<void>((res) => (open = res));
  const r = repo(200, [], gate);
  await assert.rejects(r.acquire('c', { timeoutMs: 20 }), (e: BigGanError) => e.code === 'DEADLINE_EXCEEDED');
  assert.equal(r.status('c').state, 'loading');
  open();
  (await r.acquire('c')).release();
  assert.equal(r.status('c').state, 'ready');
});
