/**
 * The benchmark helpers (engine-bench.ts) and the convolution ceiling, on the tiny model and a
 * small convolution so that they stay fast.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../../../src/model/load-model.js';
import { macsPerImage } from '../../../src/model/config.js';
import { createOrtEngine } from '../../../src/engine/ort/ort-engine.js';
import { ortConvCeilingGflops } from '../../../src/engine/ort/conv-ceiling.js';
import { benchEngine, formatBenchTable, randomBatch } from '../../../src/bench/engine-bench.js';
import { FIXTURE_DIR } from '../../helpers/fixtures.js';

test('benchEngine measures each batch size; GFLOP/s follows from macsPerImage', async () => {
  const engine = await createOrtEngine((await loadModel(FIXTURE_DIR)).folded, { threads: 2, executionProvider: 'cpu' });
  try {
    const rows = await benchEngine(engine, { batchSizes: [1, 2], minSeconds: 0, minIterations: 2 });
    assert.deepEqual(
      rows.map((r) => r.batchSize),
      [1, 2],
    );
    for (const r of rows) {
      assert.ok(r.iterations >= 2);
      assert.ok(r.imagesPerSecond > 0 && Number.isFinite(r.imagesPerSecond));
      assert.ok(Math.abs(r.imagesPerSecond - r.batchSize / r.secondsPerBatch) < 1e-9);
      assert.ok(r.bestSecondsPerBatch <= r.secondsPerBatch + 1e-9);
      const expected = (2 * macsPerImage(engine.config) * r.imagesPerSecond) / 1e9;
      assert.ok(Math.abs(r.gflops - expected) < 1e-9 * expected);
    }
    const table = formatBenchTable(rows, { title: 'tiny', ceilingGflops: 100 });
    const lines = table.split('\n');
    assert.equal(lines[0], 'tiny');
    assert.match(lines[1], /batch\s+images\/s\s+s\/batch\s+best s\/batch\s+GFLOP\/s\s+% of ceiling\s+runs/);
    assert.equal(lines.length, 1 + 2 + rows.length + 1);
    assert.match(lines[lines.length - 1], /ceiling: 100 GFLOP\/s/);
  } finally {
    await engine.dispose();
  }
});

test('randomBatch mixes truncations and keeps |z| <= 2 * truncation', async () => {
  const engine = { config: (await loadModel(FIXTURE_DIR)).folded.config } as Parameters<typeof randomBatch>[0];
  const b = randomBatch(engine, 8, 7);
  assert.equal(new Set(Array.from(b.truncation)).size, 8);
  for (let i = 0; i < 8; i++) {
    const row = b.z.subarray(i * 128, (i + 1) * 128);
    assert.ok(row.every((v) => Math.abs(v) <= 2 * b.truncation[i] + 1e-6));
    assert.equal(
      b.classVector.subarray(i * 1000, (i + 1) * 1000).reduce((a, v) => a + v, 0),
      1,
    );
  }
  assert.deepEqual(randomBatch(engine, 8, 7).z, b.z); // seeded
});

test('ortConvCeilingGflops returns a plausible positive rate', async () => {
  const g = await ortConvCeilingGflops({ threads: 1, shape: [1, 32, 16, 16], runs: 2 });
  assert.ok(Number.isFinite(g) && g > 0.1 && g < 1e5, `got ${g}`);
});
