/** eachInOrder: ordered delivery, first failure wins, and no promise is ever left unhandled. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eachInOrder } from '../../src/service/in-order.js';

test('delivers values in list order even when later promises resolve first', async () => {
  let resolveFirst!: (v: string) => void;
  const first = new Promise<string>((r) => (resolveFirst = r));
  const seen: string[] = [];
  const all = eachInOrder([first, Promise.resolve('b'), Promise.resolve('c')], (v, i) => seen.push(`${i}:${v}`));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(seen, []);
  resolveFirst('a');
  assert.deepEqual(await all, ['a', 'b', 'c']);
  assert.deepEqual(seen, ['0:a', '1:b', '2:c']);
});

test('a failure rejects once and leaves no later promise unhandled', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (r: unknown): void => {
    unhandled.push(r);
  };
  process.on('unhandledRejection', onUnhandled);
  try {
    const ps = [
      Promise.reject(new Error('first')),
      Promise.reject(new Error('second')),
      Promise.reject(new Error('third')),
    ];
    await assert.rejects(eachInOrder(ps), /first/);
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});
