import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { interpolate, lerp, slerp } from '../../src/latents/interpolate.js';

interface CaseInputs {
  z: number[][];
  class_vector: number[][];
}

const f32 = (xs: number[]) => Float32Array.from(xs);

describe('interpolate', () => {
  it('reproduces the tiny-128 interp case bit for bit from its endpoints (lerp, 5 frames)', () => {
    const path = join(process.cwd(), 'test', 'fixtures', 'tiny-128', 'cases', 'interp', 'inputs.json');
    const inputs = JSON.parse(readFileSync(path, 'utf8')) as CaseInputs;
    assert.equal(inputs.z.length, 5);
    const from = { z: f32(inputs.z[0]), classVector: f32(inputs.class_vector[0]) };
    const to = { z: f32(inputs.z[4]), classVector: f32(inputs.class_vector[4]) };
    const out = interpolate(from, to, 5, 'lerp');
    assert.deepEqual(out.t, [0, 0.25, 0.5, 0.75, 1]);
    assert.deepEqual(out.z, f32(inputs.z.flat()));
    assert.deepEqual(out.classVector, f32(inputs.class_vector.flat()));
    // The middle frames really are blends (not copies of an endpoint).
    assert.equal(out.classVector[2 * 1000 + 207], 0.5);
    assert.equal(out.classVector[2 * 1000 + 1], 0.5);
  });

  it('slerps z but still lerps the class vector', () => {
    const from = { z: f32([1, 0]), classVector: f32([1, 0, 0]) };
    const to = { z: f32([0, 1]), classVector: f32([0, 0, 1]) };
    const out = interpolate(from, to, 3, 'slerp');
    assert.equal(out.z.length, 6);
    assert.deepEqual(out.z.subarray(2, 4), f32([Math.SQRT1_2, Math.SQRT1_2]));
    assert.deepEqual(out.classVector.subarray(3, 6), f32([0.5, 0, 0.5]));
    assert.deepEqual(out.z.subarray(0, 2), from.z);
    assert.deepEqual(out.z.subarray(4, 6), to.z);
  });

  it('rejects fewer than 2 frames and unknown methods', () => {
    const p = { z: f32([1]), classVector: f32([1]) };
    for (const bad of [1, 0, -2, 2.5, NaN]) {
      assert.throws(
        () => interpolate(p, p, bad, 'lerp'),
        { code: 'INVALID_ARGUMENT', field: 'frames', message: /^frames: must be an integer >= 2/ },
        String(bad),
      );
    }
    assert.throws(() => interpolate(p, p, 2, 'cubic' as 'lerp'), {
      field: 'method',
      message: /one of lerp, slerp, got "cubic"/,
    });
  });

  it('refuses endpoints of different lengths', () => {
    assert.throws(
      () => interpolate({ z: f32([1, 2]), classVector: f32([1]) }, { z: f32([1]), classVector: f32([1]) }, 2, 'lerp'),
      { code: 'INTERNAL' },
    );
  });
});

describe('lerp', () => {
  it('rounds each weight, each product and the sum to float32', () => {
    const a = f32([0.1, 3]);
    const b = f32([0.7, -1]);
    const t = 0.3;
    const wa = Math.fround(1 - t);
    const wb = Math.fround(t);
    const out = lerp(a, b, t);
    for (let i = 0; i < 2; i++) assert.equal(out[i], Math.fround(Math.fround(wa * a[i]) + Math.fround(wb * b[i])));
    assert.deepEqual(lerp(a, b, 0), a);
    assert.deepEqual(lerp(a, b, 1), b);
  });
});

describe('slerp', () => {
  it('keeps the norm between unit vectors and hits the endpoints', () => {
    const a = f32([1, 0, 0]);
    const b = f32([0, 0.6, 0.8]);
    for (const t of [0.1, 0.5, 0.9]) {
      const v = slerp(a, b, t);
      assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-6, `norm at ${t}`);
    }
    assert.deepEqual(slerp(a, b, 0), a);
    assert.deepEqual(slerp(a, b, 1), b);
  });

  it('falls back to lerp for parallel, antiparallel or zero vectors', () => {
    const a = f32([1, 2]);
    for (const b of [f32([2, 4]), f32([-1, -2]), f32([0, 0])]) {
      assert.deepEqual(slerp(a, b, 0.25), lerp(a, b, 0.25));
    }
    assert.deepEqual(slerp(f32([0, 0]), a, 0.5), lerp(f32([0, 0]), a, 0.5));
  });
});
