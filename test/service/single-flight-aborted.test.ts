/**
 * Single flight with a caller whose signal is already aborted (a client that hung up before the
 * cache was consulted) asking for several new keys at once: each wait ends with CANCELLED, the
 * computation is abandoned, and nothing is left in flight. (It used to throw INTERNAL "no flight
 * for key": the first key's abandoned wait dropped the whole group before the second key was
 * counted as wanted.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SingleFlight } from '../../src/service/cache/single-flight.js';
import { BigGanError } from '../../src/errors.js';

const cancelled = (e: unknown) => e instanceof BigGanError && e.code === 'CANCELLED';

test('single flight: an already-aborted caller of several new keys gets CANCELLED for each', async () => {
  const flights = new SingleFlight<string>();
  const signals: AbortSignal[] = [];
  const compute = (_missing: number[], signal: AbortSignal) => {
    signals.push(signal);
    return Promise.resolve(['a', 'b', 'c']);
  };
  const gone = new AbortController();
  gone.abort();
  const joined = flights.run(['k1', 'k2', 'k3'], compute, gone.signal);
  assert.equal(joined.length, 3);
  for (const j of joined) await assert.rejects(j.result, cancelled);
  assert.equal(flights.inFlight, 0, 'nobody waits: nothing stays in flight');
  await Promise.resolve();
  assert.ok(
    signals.every((s) => s.aborted),
    'the computation is told to stop',
  );
});

test('single flight: an aborted caller leaves a shared key to the callers still waiting', async () => {
  const flights = new SingleFlight<string>();
  let finish!: (v: string[]) => void;
  const compute = (missing: number[]) =>
    new Promise<string[]>((resolve) => (finish = resolve)).then((v) => v.slice(0, missing.length));
  const [kept] = flights.run(['shared'], compute);
  const gone = new AbortController();
  gone.abort();
  const [a, b] = flights.run(['shared', 'own'], async () => ['own'], gone.signal);
  await assert.rejects(a.result, cancelled);
  await assert.rejects(b.result, cancelled);
  finish(['value']);
  assert.equal(await kept.result, 'value');
});
