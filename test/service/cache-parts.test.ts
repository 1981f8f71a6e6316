// The cache's parts without a model: the byte-bounded LRU and single flight with cancellation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteLru } from '../../src/service/cache/lru-cache.js';
import { SingleFlight } from '../../src/service/cache/single-flight.js';
import { BigGanError } from '../../src/errors.js';
import { ifNoneMatchHits } from '../../src/service/cache/cache-keys.js';

test('the LRU holds at most maxBytes and evicts the least recently used first', () => {
  let evicted = 0;
  const lru = new ByteLru<Buffer>(3000, { onEvict: (n) => (evicted += n) });
  lru.set('a', Buffer.alloc(1000));
  lru.set('b', Buffer.alloc(1000));
  assert.ok(lru.get('a')); // a is now the most recent
  lru.set('c', Buffer.alloc(1000)); // over the bound with overheads: b goes first
  assert.ok(lru.bytes <= 3000, `${lru.bytes} bytes held`);
  assert.equal(lru.get('b'), undefined);
  assert.ok(lru.get('a') && lru.get('c'));
  assert.equal(evicted, 1);
  lru.set('huge', Buffer.alloc(5000)); // larger than the bound: not stored, nothing else lost
  assert.equal(lru.get('huge'), undefined);
  assert.ok(lru.get('a'));
  const off = new ByteLru<Buffer>(0);
  off.set('x', Buffer.alloc(1));
  assert.equal(off.size, 0);
});

test('single flight: identical keys share one computation; one waiter leaving does not cancel the others', async () => {
  const flights = new SingleFlight<string>();
  let runs = 0;
  let aborted = false;
  let finish!: (v: string[]) => void;
  const compute = (missing: number[], signal: AbortSignal) => {
    runs++;
    signal.addEventListener('abort', () => (aborted = true));
    return new Promise<string[]>((resolve) => (finish = resolve)).then((v) => v.slice(0, missing.length));
  };
  const a = new AbortController();
  const b = new AbortController();
  const [first] = flights.run(['k'], compute, a.signal);
  const [second] = flights.run(['k'], compute, b.signal);
  assert.equal(first.joined, false);
  assert.equal(second.joined, true);
  await Promise.resolve();
  assert.equal(runs, 1);
  a.abort();
  await assert.rejects(first.result, (e: unknown) => e instanceof BigGanError && e.code === 'CANCELLED');
  assert.equal(aborted, false, 'the other waiter still wants it');
  finish(['value']);
  assert.equal(await second.result, 'value');
});

test('single flight: the computation stops when every waiter has gone, and a new caller starts afresh', async () => {
  const flights = new SingleFlight<string>();
  const signals: AbortSignal[] = [];
  const compute = (_missing: number[], signal: AbortSignal) => {
    signals.push(signal);
    return new Promise<string[]>((_resolve, reject) =>
      signal.addEventListener('abort', () => reject(new BigGanError('CANCELLED', 'stopped'))),
    );
  };
  const a = new AbortController();
  const [only] = flights.run(['k', 'k2'], compute, a.signal).slice(0, 1);
  await Promise.resolve();
  a.abort();
  await assert.rejects(only.result);
  await Promise.resolve();
  assert.equal(signals[0].aborted, true);
  assert.equal(flights.inFlight, 0);
  const [again] = flights.run(['k'], async () => ['fresh']);
  assert.equal(again.joined, false);
  assert.equal(await again.result, 'fresh');
});

test('If-None-Match: lists, weak prefixes and * match; other tags do not', () => {
  assert.equal(ifNoneMatchHits('"abc"', '"abc"'), true);
  assert.equal(ifNoneMatchHits('"x", W/"abc"', '"abc"'), true);
  assert.equal(ifNoneMatchHits('*', '"abc"'), true);
  assert.equal(ifNoneMatchHits('"abd"', '"abc"'), false);
  assert.equal(ifNoneMatchHits(undefined, '"abc"'), false);
});
