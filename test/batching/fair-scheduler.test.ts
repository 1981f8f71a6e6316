/**
 * The cross-model scheduler: one engine call at a time overall, turns round-robin among models
 * with work, so a flood on one model cannot starve another.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FairScheduler } from '../../src/batching/fair-scheduler.js';

test('a model with one call waits behind at most one call of a flooding model', async () => {
  const s = new FairScheduler(1);
  const order: string[] = [];
  let running = 0;
  let most = 0;
  const call = async (model: string, i: number) => {
    const done = await s.turn(model);
    running++;
    most = Math.max(most, running);
    order.push(`${model}${i}`);
    await new Promise((r) => setImmediate(r));
    running--;
    done();
  };
  const flood = Array.from({ length: 6 }, (_, i) => call('a', i));
  const small = [call('b', 0), call('b', 1)];
  await Promise.all([...flood, ...small]);
  assert.equal(most, 1, 'one call at a time');
  assert.deepEqual(order, ['a0', 'b0', 'a1', 'b1', 'a2', 'a3', 'a4', 'a5']);
});

test('within a model calls keep their order, and a turn ended twice frees one slot only', async () => {
  const s = new FairScheduler(1);
  const first = await s.turn('a');
  const second = s.turn('a');
  let started = false;
  void second.then(() => (started = true));
  first();
  first();
  const end = await second;
  assert.ok(started);
  const third = s.turn('b');
  let thirdStarted = false;
  void third.then(() => (thirdStarted = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(thirdStarted, false, 'the double end did not open a second slot');
  end();
  (await third)();
});
