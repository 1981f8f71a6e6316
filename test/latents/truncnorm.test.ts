import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TRUNCNORM_STD, sampleLatents, sampleZ } from '../../src/latents/truncnorm.js';

const f32 = (xs: number[]) => Float32Array.from(xs);

describe('sampleZ', () => {
  it('pins the first values of seeds 0 and 2^64-1 (golden: a change to the algorithm must show here)', () => {
    // Also reproduced by an independent Python implementation of the documented algorithm.
    assert.deepEqual(
      sampleZ(0, 6, 1),
      f32([
        0.8230684995651245, 0.3774554431438446, -0.6867027282714844, 1.286577582359314, 0.5091696977615356,
        1.2651304006576538,
      ]),
    );
    assert.deepEqual(
      sampleZ(2n ** 64n - 1n, 6, 1),
      f32([
        -0.254101425409317, 0.04031747207045555, -0.7418997287750244, -1.7494248151779175, -0.7494088411331177,
        0.7434971332550049,
      ]),
    );
    assert.deepEqual(
      sampleZ(123456789, 4, 0.4),
      f32([-0.7158924341201782, -0.27401837706565857, 0.33233442902565, 0.18501438200473785]),
    );
  });

  it('is deterministic, and a longer vector starts with the shorter one', () => {
    const a = sampleZ(77n, 128, 0.5);
    assert.deepEqual(sampleZ(77, 128, 0.5), a);
    assert.deepEqual(sampleZ(77, 16, 0.5), a.subarray(0, 16));
  });

  it('differs between seeds', () => {
    const a = sampleZ(1, 128, 1);
    const b = sampleZ(2, 128, 1);
    let same = 0;
    for (let i = 0; i < 128; i++) if (a[i] === b[i]) same++;
    assert.ok(same < 3, `${same} equal values`);
  });

  it('scales the same draws by the truncation (z = f32(t * x), x in float64)', () => {
    const one = sampleZ(5, 64, 1);
    const t = sampleZ(5, 64, 0.3);
    // one[i] is x rounded to float32, so t[i] matches 0.3 * one[i] to within two float32 roundings.
    for (let i = 0; i < 64; i++) assert.ok(Math.abs(t[i] - 0.3 * one[i]) <= 2 ** -22 * Math.abs(t[i]), `z[${i}]`);
  });

  it('rejects a truncation outside (0, 1] naming the field', () => {
    for (const bad of [0, -0.1, 1.01, NaN, Infinity]) {
      assert.throws(() => sampleZ(0, 8, bad), {
        code: 'INVALID_ARGUMENT',
        field: 'truncation',
        message: /truncation: must be a number with 0 < truncation <= 1/,
      });
    }
  });

  it('rejects bad seeds', () => {
    assert.throws(() => sampleZ(-1, 8, 1), { code: 'INVALID_ARGUMENT', field: 'seed' });
    assert.throws(() => sampleZ(0.5, 8, 1), { code: 'INVALID_ARGUMENT', field: 'seed' });
  });
});

describe('sampleLatents', () => {
  it('row i equals sampleZ(seed + i), wrapping at 2^64', () => {
    const seed = 2n ** 64n - 2n;
    const rows = sampleLatents(seed, 4, 32, 0.7);
    assert.equal(rows.length, 4 * 32);
    const seeds = [seed, seed + 1n, 0n, 1n];
    seeds.forEach((s, i) => assert.deepEqual(rows.subarray(i * 32, (i + 1) * 32), sampleZ(s, 32, 0.7), `row ${i}`));
  });

  it('has the moments of truncnorm(-2, 2) over 51,200 draws, all within [-2t, 2t]', () => {
    const t = 0.9;
    const z = sampleLatents(2024, 400, 128, t);
    let sum = 0;
    let sq = 0;
    let inside1 = 0;
    for (const v of z) {
      assert.ok(Math.abs(v) <= Math.fround(2 * t), `|z| = ${Math.abs(v)} > 2t`);
      sum += v / t;
      sq += (v / t) ** 2;
      if (Math.abs(v / t) < 1) inside1++;
    }
    const n = z.length;
    const mean = sum / n;
    const std = Math.sqrt(sq / n - mean * mean);
    assert.ok(Math.abs(mean) < 0.02, `mean ${mean}`); // standard error 0.004
    assert.ok(Math.abs(std - TRUNCNORM_STD) < 0.01, `std ${std}`); // expected 0.8796
    // P(|x| < 1 | |x| <= 2) = 0.6827 / 0.9545 = 0.7152 for a truncated standard normal.
    assert.ok(Math.abs(inside1 / n - 0.7152) < 0.01, `P(|x|<1) ${inside1 / n}`);
  });

  it('returns an empty array for count 0 and rejects a bad count', () => {
    assert.equal(sampleLatents(0, 0, 128, 1).length, 0);
    assert.throws(() => sampleLatents(0, -1, 128, 1), { code: 'INVALID_ARGUMENT', field: 'count' });
    assert.throws(() => sampleLatents(0, 1.5, 128, 1), { code: 'INVALID_ARGUMENT', field: 'count' });
  });
});
