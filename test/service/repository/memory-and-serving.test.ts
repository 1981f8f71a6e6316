/**
 * The memory budget follows the container (cgroup v2, then v1, else the machine), the estimate
 * grows with resolution and batch, and serving.json overrides the defaults by resolution.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cgroupMemoryLimit, defaultMemoryBudget, estimateModelMemory } from '../../../src/service/repository/memory.js';
import { defaultServing, readServing } from '../../../src/service/repository/model-source.js';
import { presetConfig } from '../../../src/model/config.js';

const GiB = 2 ** 30;

test('the budget is 80% of the cgroup limit when one is set below the machine, else of the machine', () => {
  const files = (map: Record<string, string>) => (f: string) => {
    if (!(f in map)) throw new Error('ENOENT');
    return map[f];
  };
  assert.equal(cgroupMemoryLimit(files({ '/sys/fs/cgroup/memory.max': '4294967296\n' })), 4 * GiB);
  assert.equal(cgroupMemoryLimit(files({ '/sys/fs/cgroup/memory.max': 'max\n' })), undefined);
  assert.equal(cgroupMemoryLimit(files({ '/sys/fs/cgroup/memory/memory.limit_in_bytes': '2147483648' })), 2 * GiB);
  assert.equal(
    cgroupMemoryLimit(files({ '/sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712' })),
    undefined,
  );
  assert.equal(defaultMemoryBudget(4 * GiB, 64 * GiB), Math.floor(3.2 * GiB));
  assert.equal(defaultMemoryBudget(undefined, 10 * GiB), 8 * GiB);
  assert.equal(defaultMemoryBudget(128 * GiB, 10 * GiB), 8 * GiB);
});

test('the estimate grows with resolution and batch size', () => {
  const e128 = estimateModelMemory(presetConfig('biggan-deep-128'), 8);
  const e512 = estimateModelMemory(presetConfig('biggan-deep-512'), 8);
  assert.ok(e512.activationBytes > 10 * e128.activationBytes, 'a 512 sample holds >10x the activations of a 128 one');
  assert.ok(estimateModelMemory(presetConfig('biggan-deep-128'), 16).totalBytes > e128.totalBytes);
});

test('serving.json overrides the defaults by resolution; unknown keys and bad values are refused naming the file', () => {
  const base = { maxBatchSize: 8, maxQueueDelayMs: 5, maxQueueSize: 256 };
  assert.deepEqual(
    [128, 256, 512].map((r) => defaultServing(r, base).maxBatchSize),
    [8, 4, 2],
  );
  const dir = mkdtempSync(path.join(os.tmpdir(), 'biggan-serving-'));
  assert.deepEqual(readServing(dir, base), { serving: base, from: 'default' });
  writeFileSync(path.join(dir, 'serving.json'), JSON.stringify({ maxBatchSize: 3, maxQueueDelayMs: 12.5 }));
  assert.deepEqual(readServing(dir, base), {
    serving: { maxBatchSize: 3, maxQueueDelayMs: 12.5, maxQueueSize: 256 },
    from: 'serving.json',
  });
  writeFileSync(path.join(dir, 'serving.json'), JSON.stringify({ maxBatch: 3 }));
  assert.throws(() => readServing(dir, base), /serving\.json: unknown key "maxBatch"/);
  writeFileSync(path.join(dir, 'serving.json'), JSON.stringify({ maxBatchSize: 0 }));
  assert.throws(() => readServing(dir, base), /maxBatchSize must be a positive integer/);
});
