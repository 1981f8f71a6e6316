import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statRows, statWeights, blendStats, concatStatTables } from '../../src/model/batch-norm-stats.js';
import { BigGanError } from '../../src/errors.js';

test('grid truncations use their own row; float64 division moves some multiples of 0.02', () => {
  assert.deepEqual(statRows(0.4, 51).rows, [20]);
  assert.deepEqual(statRows(0.6, 51).rows, [30]);
  assert.deepEqual(statRows(1.0, 51).rows, [50]);
  // 0.14 / 0.02 = 7.000000000000001: almost all weight on row 8.
  const r014 = statRows(0.14, 51);
  assert.deepEqual(r014.rows, [7, 8]);
  assert.ok(r014.weights[0] < 1e-14 && r014.weights[1] === 1);
  for (const [t, row] of [
    [0.28, 15],
    [0.56, 29],
  ] as const) {
    const r = statRows(t, 51);
    assert.equal(r.rows[1], row);
    assert.equal(r.weights[1], 1);
  }
  // 0.58 -> 28.999999999999996: row 28 with weight f32(0.9999999999999964) = 1.
  const r058 = statRows(0.58, 51);
  assert.deepEqual(r058.rows, [28, 29]);
  assert.equal(r058.weights[0], 1);
  assert.equal(r058.weights[1], Math.fround(3.552713678800501e-15));
  assert.deepEqual(statRows(0.94, 51).rows, [46, 47]);
});

test('off-grid truncations weight row i by frac and row i+1 by 1 - frac (reversed lerp)', () => {
  const r = statRows(0.545, 51);
  assert.deepEqual(r.rows, [27, 28]);
  assert.equal(r.weights[0], 0.25); // f32(0.2500000000000036)
  assert.equal(r.weights[1], 0.75);
  assert.deepEqual(statRows(0.55, 51).weights, [0.5, 0.5]);
  // Just above a grid point the result is almost the NEXT row.
  const above = statRows(0.4 + 1e-9, 51);
  assert.ok(above.weights[1] > 0.999);
});

test('statWeights gives each sample its own row weights', () => {
  const w = statWeights([0.4, 0.545, 1.0], 51);
  assert.equal(w.length, 3 * 51);
  assert.equal(w[20], 1);
  assert.equal(w[51 + 27], 0.25);
  assert.equal(w[51 + 28], 0.75);
  assert.equal(w[102 + 50], 1);
  assert.equal(
    w.reduce((a, b) => a + b, 0),
    3,
  );
});

test('blendStats rounds each product to float32 like PyTorch', () => {
  const rows = new Float32Array(51 * 2).map((_, i) => Math.fround(0.1 * i));
  const out = blendStats(rows, 2, 0.545, 51);
  assert.equal(out[0], Math.fround(Math.fround(rows[54] * 0.25) + Math.fround(rows[56] * 0.75)));
});

test('truncation outside (0, 1] is refused naming the field', () => {
  for (const t of [0, -0.1, 1.01, Number.NaN, Infinity]) {
    assert.throws(
      () => statRows(t, 51),
      (e: unknown) => e instanceof BigGanError && e.code === 'INVALID_ARGUMENT' && e.field === 'truncation',
    );
  }
});

test("concatStatTables lays out [nStats, 2S]: every table's means, then every table's vars, per row", () => {
  const nStats = 3;
  // Table a: 2 channels, table b: 1 channel; values encode (table, row, channel, mean|var).
  const table = (id: number, C: number) => ({
    channels: C,
    means: Float32Array.from({ length: nStats * C }, (_, i) => id * 100 + Math.floor(i / C) * 10 + (i % C)),
    vars: Float32Array.from({ length: nStats * C }, (_, i) => -(id * 100 + Math.floor(i / C) * 10 + (i % C))),
  });
  const { data, channels } = concatStatTables([table(1, 2), table(2, 1)], nStats);
  assert.equal(channels, 3);
  assert.deepEqual(
    [...data],
    [
      100,
      101,
      200,
      -100,
      -101,
      -200, // row 0: means a0 a1 b0 | vars a0 a1 b0
      110,
      111,
      210,
      -110,
      -111,
      -210,
      120,
      121,
      220,
      -120,
      -121,
      -220,
    ],
  );
  // statWeights [B, nStats] @ table gives the blended statistics of every batch-norm at once.
  const w = statWeights([0.5], nStats); // row 1 exactly
  const blended = Array.from({ length: 2 * channels }, (_, c) =>
    w.reduce((a, wj, j) => a + wj * data[j * 2 * channels + c], 0),
  );
  assert.deepEqual(blended, [110, 111, 210, -110, -111, -210]);
});
