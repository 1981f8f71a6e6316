// The queue alone, as pure state: no clock, no engine (times are plain numbers in ms).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SampleQueue, type Priority, type QueuedSample } from '../../src/batching/queue.js';

interface Tagged extends QueuedSample {
  readonly tag: string;
}

/** `n` samples of one request, tagged `${requestId}.${index}`. */
function request(
  requestId: number,
  n: number,
  opts: { priority?: Priority; at?: number; deadline?: number } = {},
): Tagged[] {
  return Array.from({ length: n }, (_, i) => ({
    requestId,
    priority: opts.priority ?? 'normal',
    enqueuedAt: opts.at ?? 0,
    deadline: opts.deadline ?? Infinity,
    tag: `${requestId}.${i}`,
  }));
}

const tags = (items: readonly Tagged[]): string[] => items.map((i) => i.tag);

describe('SampleQueue', () => {
  test('counts samples, not requests', () => {
    const q = new SampleQueue<Tagged>();
    assert.equal(q.size, 0);
    q.append(request(1, 3));
    q.append(request(2, 2));
    assert.equal(q.size, 5);
  });

  test('nextBatch caps at maxBatchSize and keeps FIFO order across batches', () => {
    const q = new SampleQueue<Tagged>();
    q.append(request(1, 3));
    q.append(request(2, 3));
    assert.deepEqual(tags(q.nextBatch(4, 0).batch), ['1.0', '1.1', '1.2', '2.0']);
    assert.deepEqual(tags(q.nextBatch(4, 0).batch), ['2.1', '2.2']);
    assert.deepEqual(q.nextBatch(4, 0).batch, []);
    assert.equal(q.size, 0);
  });

  test('high priority samples come before normal ones, FIFO within each level', () => {
    const q = new SampleQueue<Tagged>();
    q.append(request(1, 2));
    q.append(request(2, 1, { priority: 'high', at: 1 }));
    q.append(request(3, 1));
    q.append(request(4, 2, { priority: 'high', at: 2 }));
    assert.deepEqual(tags(q.nextBatch(5, 3).batch), ['2.0', '4.0', '4.1', '1.0', '1.1']);
    assert.deepEqual(tags(q.nextBatch(5, 3).batch), ['3.0']);
  });

  test('nextBatch drops expired requests whole (all their samples) before taking a batch', () => {
    const q = new SampleQueue<Tagged>();
    q.append(request(1, 2, { deadline: 50 }));
    q.append(request(2, 2, { deadline: 100 }));
    q.append(request(3, 1));
    const { batch, expired } = q.nextBatch(2, 50); // deadline <= now counts as expired
    assert.deepEqual(tags(expired), ['1.0', '1.1']);
    assert.deepEqual(tags(batch), ['2.0', '2.1']);
    assert.deepEqual(tags(q.removeExpired(1000)), []); // request 3 has no deadline
    assert.equal(q.size, 1);
  });

  test('removeExpired removes a request even when only one of its samples is overdue', () => {
    const q = new SampleQueue<Tagged>();
    q.append([...request(1, 1, { deadline: 10 }), ...request(1, 1, { deadline: 99 })]);
    q.append(request(2, 1, { deadline: 99 }));
    assert.deepEqual(q.removeExpired(9), []);
    assert.deepEqual(q.removeExpired(10).length, 2);
    assert.equal(q.size, 1);
  });

  test('removeRequest removes only that request, in both levels', () => {
    const q = new SampleQueue<Tagged>();
    q.append(request(1, 2));
    q.append(request(2, 2, { priority: 'high' }));
    q.append(request(3, 1));
    assert.deepEqual(tags(q.removeRequest(2)), ['2.0', '2.1']);
    assert.deepEqual(tags(q.removeRequest(7)), []);
    assert.deepEqual(tags(q.nextBatch(8, 0).batch), ['1.0', '1.1', '3.0']);
  });

  test('oldestEnqueuedAt is the oldest sample over both levels', () => {
    const q = new SampleQueue<Tagged>();
    assert.equal(q.oldestEnqueuedAt(), undefined);
    q.append(request(1, 1, { at: 5 }));
    q.append(request(2, 1, { priority: 'high', at: 7 }));
    assert.equal(q.oldestEnqueuedAt(), 5);
    q.removeRequest(1);
    assert.equal(q.oldestEnqueuedAt(), 7);
  });

  test('earliestDeadline is the minimum finite deadline, wherever it sits', () => {
    const q = new SampleQueue<Tagged>();
    q.append(request(1, 1));
    assert.equal(q.earliestDeadline(), undefined);
    q.append(request(2, 1, { deadline: 80 }));
    q.append(request(3, 1, { deadline: 30, priority: 'high' }));
    assert.equal(q.earliestDeadline(), 30);
    q.removeRequest(3);
    assert.equal(q.earliestDeadline(), 80);
  });

  test('removeAll empties both levels', () => {
    const q = new SampleQueue<Tagged>();
    q.append(request(1, 2));
    q.append(request(2, 1, { priority: 'high' }));
    assert.deepEqual(tags(q.removeAll()), ['2.0', '1.0', '1.1']);
    assert.equal(q.size, 0);
    assert.equal(q.oldestEnqueuedAt(), undefined);
  });

  test('aheadOf counts the samples a new one of each priority would wait behind', () => {
    const q = new SampleQueue<Tagged>();
    q.append(request(1, 3));
    q.append(request(2, 2, { priority: 'high' }));
    assert.equal(q.aheadOf('high'), 2);
    assert.equal(q.aheadOf('normal'), 5);
  });
});
