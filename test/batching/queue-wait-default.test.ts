/**
 * The default queue-wait limit fits the model: 2.5 full batches at the measured engine time
 * (at least 2 s), unless --max-queue-wait-ms or the model's serving.json sets it. A 512 model
 * whose batches take seconds no longer refuses clients that would gladly wait, and a fast 128
 * model keeps a limit short enough (about 3 s) for clients that give up after 5 s.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Batcher } from '../../src/batching/batcher.js';
import type { Engine } from '../../src/engine/engine.js';
import { presetConfig } from '../../src/model/config.js';
import { parseServerConfig } from '../../src/config/server-config.js';
import { readServing } from '../../src/service/repository/model-source.js';

const engine: Engine = {
  name: 'tfjs',
  backend: 'none',
  config: presetConfig('biggan-deep-128'),
  generate: () => Promise.reject(new Error('not run')),
  dispose: () => Promise.resolve(),
};

test('without a set limit, the queue wait allowed is 2.5 measured full batches, at least 2 s', () => {
  const slow = new Batcher(engine, { maxBatchSize: 2, maxQueueDelayMs: 0, maxQueueSize: 16, queueWaitBatches: 2.5 });
  slow.primeEngineTime(2, 3000); // a 512 batch of 2 in 3 s
  assert.equal(slow.maxQueueWaitMs(), 7500);
  const fast = new Batcher(engine, { maxBatchSize: 8, maxQueueDelayMs: 0, maxQueueSize: 64, queueWaitBatches: 2.5 });
  fast.primeEngineTime(8, 1232); // a full-width 128 batch of 8 in 1.23 s (the build machine)
  assert.equal(fast.maxQueueWaitMs(), 3080);
  const tiny = new Batcher(engine, { maxBatchSize: 8, maxQueueDelayMs: 0, maxQueueSize: 64, queueWaitBatches: 2.5 });
  tiny.primeEngineTime(8, 20);
  assert.equal(tiny.maxQueueWaitMs(), 2000);
  const set = new Batcher(engine, {
    maxBatchSize: 8,
    maxQueueDelayMs: 0,
    maxQueueSize: 64,
    maxQueueWaitMs: 500,
    queueWaitBatches: 2.5,
  });
  set.primeEngineTime(8, 750);
  assert.equal(set.maxQueueWaitMs(), 500);
});

test('--max-queue-wait-ms is unset by default (per model), and serving.json may set it per model', () => {
  assert.equal(parseServerConfig([], {}).config.batching.maxQueueWaitMs, undefined);
  assert.equal(parseServerConfig(['--max-queue-wait-ms', '2500'], {}).config.batching.maxQueueWaitMs, 2500);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'biggan-serving-'));
  writeFileSync(path.join(dir, 'serving.json'), JSON.stringify({ maxQueueWaitMs: 20_000 }));
  const { serving } = readServing(dir, { maxBatchSize: 2, maxQueueDelayMs: 5, maxQueueSize: 64 });
  assert.equal(serving.maxQueueWaitMs, 20_000);
  writeFileSync(path.join(dir, 'serving.json'), JSON.stringify({ maxQueueWaitMs: 0 }));
  assert.throws(
    () => readServing(dir, { maxBatchSize: 2, maxQueueDelayMs: 5, maxQueueSize: 64 }),
    /maxQueueWaitMs must be a number > 0/,
  );
});
