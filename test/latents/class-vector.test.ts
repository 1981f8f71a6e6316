import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classVector, describeClass, parseClassVectorRows, parseZRows } from '../../src/latents/class-vector.js';

describe('classVector', () => {
  it('is one-hot for an index, a numeric string, a WordNet id or a name', () => {
    for (const spec of [207, '207', 'n02099601', 'Golden Retriever']) {
      const v = classVector(spec, 1000, 'class');
      assert.equal(v.length, 1000);
      assert.equal(v[207], 1);
      assert.equal(
        v.reduce((a, b) => a + b, 0),
        1,
      );
    }
  });

  it('mixes weights without renormalising, like the fixture mix (f32(0.3) * 980 + f32(0.7) * 309)', () => {
    const v = classVector({ 980: 0.3, bee: 0.7 }, 1000, 'class');
    assert.equal(v[980], Math.fround(0.3));
    assert.equal(v[309], Math.fround(0.7));
    assert.deepEqual(describeClass(v), { 309: Math.fround(0.7), 980: Math.fround(0.3) });
    const unnormalised = classVector({ 1: 2, 2: 0.5 }, 1000, 'class');
    assert.deepEqual(describeClass(unnormalised), { 1: 2, 2: 0.5 });
  });

  it('adds the weights of a class named twice', () => {
    const v = classVector({ 207: 0.7, 'golden retriever': 0.3, 1: 0 }, 1000, 'class');
    assert.equal(v[207], 1);
    assert.deepEqual(describeClass(v), { 207: 1 });
  });

  it('rejects bad weights naming the key', () => {
    for (const w of [-0.1, NaN, Infinity, '0.5', null]) {
      assert.throws(
        () => classVector({ 207: 0.5, 1: w as number }, 1000, 'class'),
        {
          code: 'INVALID_ARGUMENT',
          field: 'class["1"]',
          message: /^class\["1"\]: mixture weight must be a finite number >= 0/,
        },
        String(w),
      );
    }
    assert.throws(() => classVector({ 207: 1e39 }, 1000, 'class'), { field: 'class', message: /overflows float32/ });
  });

  it('rejects empty and all-zero mixtures and unknown keys', () => {
    assert.throws(() => classVector({}, 1000, 'class'), { field: 'class', message: /at least one class/ });
    assert.throws(() => classVector({ 1: 0, 2: 0 }, 1000, 'class'), {
      field: 'class',
      message: /at least one weight > 0/,
    });
    assert.throws(() => classVector({ 'golden retreiver': 1 }, 1000, 'class'), {
      field: 'class["golden retreiver"]',
      message: /did you mean: golden retriever \(207\)/,
    });
    assert.throws(() => classVector({ 5: 1 }, 4, 'class'), { message: /0\.\.3, got "5"/ });
  });

  it('rejects other shapes of spec', () => {
    for (const bad of [null, [207], true, undefined]) {
      assert.throws(
        () => classVector(bad as unknown as number, 1000, 'class'),
        { code: 'INVALID_ARGUMENT', field: 'class' },
        String(bad),
      );
    }
  });
});

describe('describeClass', () => {
  it('lists only the non-zero weights keyed by index', () => {
    const v = new Float32Array(10);
    assert.deepEqual(describeClass(v), {});
    v[3] = 0.25;
    v[9] = 1;
    assert.deepEqual(describeClass(v), { 3: 0.25, 9: 1 });
  });
});

describe('parseClassVectorRows', () => {
  it('returns [n, numClasses] float32 rows', () => {
    const out = parseClassVectorRows(
      [
        [0, 1, 0.5],
        [0.1, 0, 0],
      ],
      3,
      'classVector',
    );
    assert.deepEqual(out, Float32Array.from([0, 1, 0.5, 0.1, 0, 0]));
  });

  it('names the row and element at fault', () => {
    assert.throws(
      () =>
        parseClassVectorRows(
          [
            [0, 0, 0],
            [0, 0, 0],
            [0, 0, 0, 0],
          ],
          3,
          'classVector',
        ),
      {
        field: 'classVector[2]',
        message: /^classVector\[2\]: must have 3 numbers \(one weight per class\), got 4$/,
      },
    );
    assert.throws(
      () =>
        parseClassVectorRows(
          [
            [0, 0, 0],
            [0, 0, -1],
          ],
          3,
          'classVector',
        ),
      { field: 'classVector[1][2]', message: /must be >= 0, got -1/ },
    );
    assert.throws(() => parseClassVectorRows([[0, 'x', 0]], 3, 'classVector'), {
      field: 'classVector[0][1]',
      message: /must be a number, got "x"/,
    });
    assert.throws(() => parseClassVectorRows([[0, null, 0]], 3, 'classVector'), { field: 'classVector[0][1]' });
    assert.throws(() => parseClassVectorRows([5], 3, 'classVector'), {
      field: 'classVector[0]',
      message: /must be a list of 3 numbers/,
    });
    assert.throws(() => parseClassVectorRows([], 3, 'classVector'), {
      field: 'classVector',
      message: /non-empty list of rows/,
    });
    assert.throws(() => parseClassVectorRows('x', 3, 'classVector'), { field: 'classVector' });
  });
});

describe('parseZRows', () => {
  it('keeps values as given (negative, beyond 2) as float32', () => {
    assert.deepEqual(parseZRows([[-3, 0.1]], 2, 'z'), Float32Array.from([-3, Math.fround(0.1)]));
  });

  it('names the row and the expected length', () => {
    assert.throws(() => parseZRows([[1, 2], [1]], 2, 'z'), {
      field: 'z[1]',
      message: /^z\[1\]: must have 2 numbers \(z_dim values\), got 1$/,
    });
    assert.throws(() => parseZRows([[1, NaN]], 2, 'z'), { field: 'z[0][1]', message: /finite/ });
    assert.throws(() => parseZRows([[1, 1e39]], 2, 'z'), { field: 'z[0][1]', message: /float32 range/ });
    assert.throws(() => parseZRows([1, 2], 2, 'z'), { field: 'z[0]', message: /must be a list of 2 numbers/ });
    assert.throws(() => parseZRows(null, 2, 'z'), {
      field: 'z',
      message: /non-empty list of rows, each a list of 2 numbers/,
    });
  });
});
