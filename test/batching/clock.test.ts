// The real clock: monotonic time and timers on the same base (waits of a few ms only).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { realClock } from '../../src/batching/clock.js';

test('realClock timers fire no earlier than asked (to the ms) and can be cleared', async () => {
  const start = realClock.now();
  let cleared = false;
  const handle = realClock.setTimeout(() => (cleared = true), 1);
  realClock.clearTimeout(handle);
  const firedAt = await new Promise<number>((resolve) => realClock.setTimeout(() => resolve(realClock.now()), 2.2));
  // Node timers may fire up to ~1 ms early against performance.now(); ceil(2.2) = 3 ms keeps us >= 2.
  assert.ok(firedAt - start >= 2, `fired after ${firedAt - start} ms`);
  assert.equal(cleared, false);
});
