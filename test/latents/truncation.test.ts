import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BigGanError } from '../../src/errors.js';
import {
  DEFAULT_TRUNCATION,
  TRUNCATION_MAX,
  TRUNCATION_MIN_EXCLUSIVE,
  checkTruncation,
  truncationError,
} from '../../src/latents/truncation.js';
import { statRows } from '../../src/model/batch-norm-stats.js';
import { sampleZ } from '../../src/latents/truncnorm.js';

test('0 < t <= 1: both ends and the default', () => {
  assert.deepEqual([TRUNCATION_MIN_EXCLUSIVE, TRUNCATION_MAX, DEFAULT_TRUNCATION], [0, 1, 0.4]);
  for (const ok of [Number.MIN_VALUE, 0.02, DEFAULT_TRUNCATION, 1])
    assert.equal(truncationError(ok), undefined, String(ok));
  for (const bad of [0, -0, -0.5, 1 + 2 ** -52, 2, NaN, Infinity, -Infinity, '0.5', null, undefined]) {
    const err = truncationError(bad, 'samples[3].truncation');
    assert.ok(err instanceof BigGanError, String(bad));
    assert.equal(err.code, 'INVALID_ARGUMENT');
    assert.equal(err.field, 'samples[3].truncation');
  }
});

test('the message names the field, the rule and the value as sent', () => {
  assert.equal(truncationError(2)?.message, 'truncation: must be a number with 0 < truncation <= 1, got 2');
  assert.equal(truncationError(NaN, 't')?.message, 't: must be a number with 0 < truncation <= 1, got NaN');
  assert.equal(truncationError('0.5')?.message, 'truncation: must be a number with 0 < truncation <= 1, got "0.5"');
  assert.throws(() => checkTruncation(0, 'x'), { code: 'INVALID_ARGUMENT', field: 'x' });
  assert.doesNotThrow(() => checkTruncation(1));
});

test('the latent sampler and the statistics rule refuse exactly the same values', () => {
  for (const t of [0, 1e-300, 0.5, 1, 1.0000001, NaN]) {
    const refusedByStats = (() => {
      try {
        statRows(t, 51);
        return false;
      } catch {
        return true;
      }
    })();
    const refusedBySampler = (() => {
      try {
        sampleZ(1, 4, t);
        return false;
      } catch {
        return true;
      }
    })();
    assert.equal(refusedByStats, truncationError(t) !== undefined, `statRows ${t}`);
    assert.equal(refusedBySampler, truncationError(t) !== undefined, `sampleZ ${t}`);
  }
});
