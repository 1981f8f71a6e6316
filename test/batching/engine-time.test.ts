// The engine-time model alone: running means per batch size, priming, and scaling to unseen sizes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineTimeModel } from '../../src/batching/engine-time.js';

describe('EngineTimeModel', () => {
  test('knows nothing until primed or measured', () => {
    const m = new EngineTimeModel();
    assert.equal(m.known, false);
    assert.equal(m.batchMs(8), undefined);
  });

  test('a primed guess is used until the first measurement, which replaces it', () => {
    const m = new EngineTimeModel();
    m.prime(8, 4000);
    assert.equal(m.batchMs(8), 4000);
    assert.equal(m.batchMs(4), 2000);
    m.record(4, 300);
    assert.equal(m.batchMs(4), 300);
    assert.equal(m.batchMs(8), 600, 'scaled from the measured size, not the primed one');
    m.prime(8, 9999);
    assert.equal(m.batchMs(8), 600, 'priming after a measurement is ignored');
  });

  test('follows a change of batch time through a running mean, per size', () => {
    const m = new EngineTimeModel();
    m.record(8, 400);
    assert.equal(m.batchMs(8), 400);
    m.record(8, 900); // one slow batch moves the mean by a fifth of the difference
    assert.equal(m.batchMs(8), 500);
    for (let i = 0; i < 30; i++) m.record(8, 900);
    assert.ok(Math.abs(m.batchMs(8)! - 900) < 1);
    m.record(2, 50);
    assert.equal(m.batchMs(2), 50);
    assert.equal(m.batchMs(3), 75, 'an unseen size scales from the nearest known one');
  });

  test('ignores nonsense measurements', () => {
    const m = new EngineTimeModel();
    m.record(0, 10);
    m.record(4, Number.NaN);
    m.record(4, -1);
    assert.equal(m.known, false);
  });
});
