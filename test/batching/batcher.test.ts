// The batcher with a fake engine (each call waits until the test finishes it) and a fake clock
// (time moves only in advance()), so no test sleeps.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Batcher,
  type BatcherObserver,
  type BatcherSettings,
  type Sample,
  type SubmitOptions,
  type SubmittedRequest,
} from '../../src/batching/batcher.js';
import type { Clock } from '../../src/batching/clock.js';
import type { Engine, EngineBatch, EngineOutput } from '../../src/engine/engine.js';
import type { BigGanConfig } from '../../src/model/config.js';
import { BigGanError } from '../../src/errors.js';

/** A clock whose time moves only in `advance`, running due timers in time order. */
class FakeClock implements Clock {
  private t = 0;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Timers armed and not yet fired or cleared. */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing each due timer at its own time (ties in creation order). */
  advance(ms: number): void {
    const end = this.t + ms;
    // A batcher that re-arms a timer without making progress would loop forever: fail instead.
    for (let fired = 0; ; fired++) {
      assert.ok(fired < 10_000, 'timers keep firing without time passing');
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.timers)
        if (entry[1].at <= end && (next === undefined || entry[1].at < next[1].at)) next = entry;
      if (next === undefined) break;
      this.timers.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
    }
    this.t = end;
  }
}

// A tiny model shape: z [4], classes [3], 2x2 images, so an output sample is 12 floats.
const CONFIG: BigGanConfig = {
  outputDim: 2,
  zDim: 4,
  classEmbedDim: 4,
  channelWidth: 1,
  numClasses: 3,
  layers: [],
  attentionLayerPosition: 0,
  eps: 1e-4,
  nStats: 51,
};
const PIXELS = CONFIG.outputDim * CONFIG.outputDim * 3;

interface Call {
  readonly batch: EngineBatch;
  /** z[0] of each sample in the batch: the sample ids of `sample()`. */
  readonly ids: number[];
  readonly startedAt: number;
  /** Clock time of finish() or fail(); undefined while in flight. */
  finishedAt?: number;
  finish(): void;
  fail(error: Error): void;
}

/** An engine whose every output value of a sample is that sample's z[0], so mis-ordering shows. */
class FakeEngine implements Engine {
  readonly name = 'tfjs' as const;
  readonly backend = 'fake';
  readonly config = CONFIG;
  readonly calls: Call[] = [];
  private active = 0;
  /** Most calls in flight at once (the batcher must keep this at 1). */
  maxActive = 0;

  constructor(private readonly clock: FakeClock) {}

  generate(batch: EngineBatch): Promise<EngineOutput> {
    this.active += 1;
    this.maxActive = Math.max(this.maxActive, this.active);
    return new Promise((resolve, reject) => {
      const ids = Array.from({ length: batch.size }, (_, b) => batch.z[b * CONFIG.zDim]);
      const done = (): void => {
        this.active -= 1;
      };
      const call: Call = {
        batch,
        ids,
        startedAt: this.clock.now(),
        finish: () => {
          call.finishedAt = this.clock.now();
          done();
          const data = new Float32Array(batch.size * PIXELS);
          ids.forEach((id, b) => data.fill(id, b * PIXELS, (b + 1) * PIXELS));
          resolve({ size: batch.size, height: CONFIG.outputDim, width: CONFIG.outputDim, data });
        },
        fail: (error) => {
          call.finishedAt = this.clock.now();
          done();
          reject(error);
        },
      };
      this.calls.push(call);
    });
  }

  async dispose(): Promise<void> {}

  get last(): Call {
    const call = this.calls.at(-1);
    assert.ok(call, 'the engine was never called');
    return call;
  }
}

/** A sample whose id is carried in z[0] (and so in every value of its fake output). */
function sample(id: number, truncation = 0.5): Sample {
  const classVector = new Float32Array(CONFIG.numClasses);
  classVector[id % CONFIG.numClasses] = 1;
  return { z: Float32Array.from([id, 0, 0, 0]), classVector, truncation };
}

const samples = (...ids: number[]): Sample[] => ids.map((id) => sample(id));

/** Lets settled promises run their callbacks (no clock time passes). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The id a fake output carries; also checks the result is one [H, W, 3] image. */
function idOf(image: Float32Array): number {
  assert.equal(image.length, PIXELS);
  assert.ok(
    image.every((v) => v === image[0]),
    'a result mixes values of several samples',
  );
  return image[0];
}

/** Whether a promise has settled yet, and how. */
function track<T>(promise: Promise<T>): { state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown } {
  const t: { state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown } = { state: 'pending' };
  promise.then(
    (value) => Object.assign(t, { state: 'resolved', value }),
    (error: unknown) => Object.assign(t, { state: 'rejected', error }),
  );
  return t;
}

function isCode(code: string): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof BigGanError, `expected a BigGanError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  };
}

function setup(settings: Partial<BatcherSettings> = {}, observer?: BatcherObserver) {
  const clock = new FakeClock();
  const engine = new FakeEngine(clock);
  const batcher = new Batcher(
    engine,
    { maxBatchSize: 8, maxQueueDelayMs: 10, maxQueueSize: 64, ...settings },
    { clock, ...(observer ? { observer } : {}) },
  );
  return { clock, engine, batcher };
}

async function finishLast(engine: FakeEngine): Promise<void> {
  engine.last.finish();
  await settle();
}

describe('Batcher: dispatch', () => {
  test('caps batches at maxBatchSize: 20 samples with maxBatchSize 8 run as 8, 8, 4', async () => {
    const { clock, engine, batcher } = setup({ maxBatchSize: 8, maxQueueDelayMs: 10 });
    const requests = Array.from({ length: 20 }, (_, i) => batcher.submit(samples(i)));
    assert.deepEqual(
      engine.calls.map((c) => c.batch.size),
      [8],
      'the 8th sample completes a full batch',
    );
    await finishLast(engine);
    assert.deepEqual(
      engine.calls.map((c) => c.batch.size),
      [8, 8],
    );
    await finishLast(engine);
    // The last 4 form a partial batch that was queued at t=0, so it goes at t=10.
    assert.equal(engine.calls.length, 2);
    clock.advance(10);
    assert.deepEqual(
      engine.calls.map((c) => c.batch.size),
      [8, 8, 4],
    );
    await finishLast(engine);
    const ids = await Promise.all(requests.map(async (r) => idOf((await r.done)[0])));
    assert.deepEqual(
      ids,
      Array.from({ length: 20 }, (_, i) => i),
    );
    assert.equal(engine.maxActive, 1);
    assert.deepEqual(batcher.stats(), { queued: 0, running: 0, batches: 3, samples: 20 });
  });

  test('a partial batch waits exactly maxQueueDelayMs', () => {
    const { clock, engine, batcher } = setup({ maxQueueDelayMs: 50 });
    batcher.submit(samples(1));
    clock.advance(20);
    batcher.submit(samples(2));
    clock.advance(29);
    assert.equal(engine.calls.length, 0, 'ran before the oldest sample waited 50 ms');
    clock.advance(1);
    assert.equal(engine.calls.length, 1);
    assert.equal(engine.last.startedAt, 50);
    assert.deepEqual(engine.last.ids, [1, 2]);
  });

  test('a full batch does not wait', () => {
    const { engine, batcher } = setup({ maxBatchSize: 4, maxQueueDelayMs: 1000 });
    batcher.submit(samples(1, 2, 3));
    assert.equal(engine.calls.length, 0);
    batcher.submit(samples(4));
    assert.equal(engine.calls.length, 1);
    assert.equal(engine.last.startedAt, 0);
  });

  test('with maxQueueDelayMs 0 a lone sample runs at once', () => {
    const { engine, batcher } = setup({ maxQueueDelayMs: 0 });
    batcher.submit(samples(7));
    assert.deepEqual(
      engine.calls.map((c) => c.ids),
      [[7]],
    );
  });

  test('after a long run the next batch is taken immediately when it is already due', async () => {
    const { clock, engine, batcher } = setup({ maxQueueDelayMs: 10 });
    batcher.submit(samples(1));
    clock.advance(10);
    assert.equal(engine.calls.length, 1);
    clock.advance(2);
    batcher.submit(samples(2, 3)); // queued at t=12 while the engine is busy
    clock.advance(88);
    assert.equal(engine.calls.length, 1, 'only one engine call at a time');
    await finishLast(engine); // t=100: samples 2, 3 waited 88 ms >= 10 ms
    assert.equal(engine.calls.length, 2);
    assert.equal(engine.last.startedAt, 100);
    assert.deepEqual(engine.last.ids, [2, 3]);
  });

  test('after a run, a sample that has not waited maxQueueDelayMs still waits only the rest', async () => {
    const { clock, engine, batcher } = setup({ maxQueueDelayMs: 10 });
    batcher.submit(samples(1));
    clock.advance(10);
    clock.advance(85);
    batcher.submit(samples(2)); // t=95
    clock.advance(5);
    await finishLast(engine); // t=100
    assert.equal(engine.calls.length, 1);
    clock.advance(4);
    assert.equal(engine.calls.length, 1);
    clock.advance(1);
    assert.equal(engine.calls.length, 2);
    assert.equal(engine.last.startedAt, 105);
  });

  test('high priority samples submitted later run first; FIFO within a level', async () => {
    const { engine, batcher } = setup({ maxBatchSize: 5, maxQueueDelayMs: 10 });
    const a = batcher.submit(samples(1, 2));
    const b = batcher.submit(samples(3));
    const c = batcher.submit(samples(4), { priority: 'high' });
    const d = batcher.submit(samples(5, 6), { priority: 'high' }); // 6 queued >= 5: a full batch
    assert.deepEqual(
      engine.calls.map((call) => call.ids),
      [[4, 5, 6, 1, 2]],
    );
    await finishLast(engine);
    assert.deepEqual(
      engine.calls.map((call) => call.ids),
      [[4, 5, 6, 1, 2]],
      'sample 3 waits for its delay',
    );
    assert.deepEqual((await a.done).map(idOf), [1, 2]);
    assert.deepEqual((await c.done).map(idOf), [4]);
    assert.deepEqual((await d.done).map(idOf), [5, 6]);
    assert.equal(track(b.done).state, 'pending');
  });

  test('one request spread over several batches gets its results in order, each as its batch ends', async () => {
    const { engine, batcher } = setup({ maxBatchSize: 4, maxQueueDelayMs: 0 });
    const ids = Array.from({ length: 10 }, (_, i) => 100 + i);
    const request = batcher.submit(samples(...ids));
    const results = request.results.map(track);
    assert.deepEqual(engine.last.ids, [100, 101, 102, 103]);
    await finishLast(engine);
    assert.deepEqual(
      results.map((r) => r.state),
      [...Array(4).fill('resolved'), ...Array(6).fill('pending')],
    );
    assert.deepEqual(engine.last.ids, [104, 105, 106, 107]);
    await finishLast(engine);
    assert.deepEqual(engine.last.ids, [108, 109]);
    await finishLast(engine);
    assert.deepEqual((await request.done).map(idOf), ids);
    assert.deepEqual(await Promise.all(request.results.map(async (r) => idOf(await r))), ids);
    assert.deepEqual(
      engine.calls.map((c) => c.batch.size),
      [4, 4, 2],
    );
  });

  test('samples of different truncations, classes and latents share one batch, concatenated', () => {
    const { engine, batcher } = setup({ maxBatchSize: 2, maxQueueDelayMs: 10 });
    batcher.submit([sample(1, 0.4)]);
    batcher.submit([sample(2, 1)]);
    assert.equal(engine.calls.length, 1);
    const { batch } = engine.last;
    assert.equal(batch.size, 2);
    assert.deepEqual(Array.from(batch.truncation), [0.4, 1]); // exact: no float32 rounding of 0.4
    assert.deepEqual(Array.from(batch.z), [1, 0, 0, 0, 2, 0, 0, 0]);
    assert.deepEqual(Array.from(batch.classVector), [0, 1, 0, 0, 0, 1]);
  });

  test('malformed samples are rejected at submit so they cannot fail their batch-mates', () => {
    const { engine, batcher } = setup();
    const bad: Sample = { z: new Float32Array(3), classVector: new Float32Array(3), truncation: 0.5 };
    assert.throws(() => batcher.submit([sample(1), bad]), isCode('INVALID_ARGUMENT'));
    assert.throws(() => batcher.submit([sample(1, 0)]), isCode('INVALID_ARGUMENT'));
    assert.throws(() => batcher.submit([]), isCode('INVALID_ARGUMENT'));
    assert.equal(batcher.queued, 0);
    assert.equal(engine.calls.length, 0);
  });

  test('settings are validated and frozen', () => {
    const clock = new FakeClock();
    const engine = new FakeEngine(clock);
    assert.throws(
      () => new Batcher(engine, { maxBatchSize: 0, maxQueueDelayMs: 0, maxQueueSize: 1 }),
      isCode('INVALID_CONFIG'),
    );
    assert.throws(
      () => new Batcher(engine, { maxBatchSize: 1, maxQueueDelayMs: -1, maxQueueSize: 1 }),
      isCode('INVALID_CONFIG'),
    );
    const batcher = new Batcher(engine, { maxBatchSize: 2, maxQueueDelayMs: 5, maxQueueSize: 3 }, { clock });
    assert.ok(Object.isFrozen(batcher.settings));
    assert.deepEqual(batcher.settings, {
      maxBatchSize: 2,
      maxQueueDelayMs: 5,
      maxQueueSize: 3,
      maxConcurrentBatches: 1,
      maxQueueWaitMs: Infinity,
    });
    assert.throws(
      () => new Batcher(engine, { maxBatchSize: 1, maxQueueDelayMs: 0, maxQueueSize: 1, maxQueueWaitMs: 0 }),
      isCode('INVALID_CONFIG'),
    );
  });
});

describe('Batcher: cancellation and deadlines', () => {
  test('cancelling a queued request removes its samples: the engine never sees them', async () => {
    const { clock, engine, batcher } = setup({ maxQueueDelayMs: 0 });
    batcher.submit(samples(1)); // occupies the engine
    const controller = new AbortController();
    const cancelled = batcher.submit(samples(2, 3), { signal: controller.signal });
    const kept = batcher.submit(samples(4));
    assert.equal(batcher.queued, 3);
    controller.abort();
    assert.equal(batcher.queued, 1);
    await assert.rejects(cancelled.done, isCode('CANCELLED'));
    await assert.rejects(cancelled.results[1], isCode('CANCELLED'));
    await finishLast(engine);
    assert.deepEqual(engine.last.ids, [4]);
    await finishLast(engine);
    clock.advance(1000);
    assert.deepEqual(
      engine.calls.flatMap((c) => c.ids),
      [1, 4],
    );
    assert.deepEqual((await kept.done).map(idOf), [4]);
  });

  test('an already aborted signal is CANCELLED at once and never queued', async () => {
    const { engine, batcher } = setup({ maxQueueDelayMs: 0 });
    const request = batcher.submit(samples(1), { signal: AbortSignal.abort() });
    await assert.rejects(request.done, isCode('CANCELLED'));
    assert.equal(engine.calls.length, 0);
    assert.equal(batcher.queued, 0);
  });

  test('cancelling while running rejects at once and discards the result; batch-mates still get theirs', async () => {
    const { engine, batcher } = setup({ maxBatchSize: 2, maxQueueDelayMs: 10 });
    const controller = new AbortController();
    const cancelled = batcher.submit(samples(1), { signal: controller.signal });
    const other = batcher.submit(samples(2));
    assert.equal(engine.calls.length, 1);
    const result = track(cancelled.results[0]);
    controller.abort();
    await settle();
    assert.equal(result.state, 'rejected', 'answered before the batch finished');
    await finishLast(engine);
    assert.equal(result.state, 'rejected');
    assert.ok(isCode('CANCELLED')(result.error));
    assert.deepEqual((await other.done).map(idOf), [2]);
  });

  test('a deadline passing while the engine is busy rejects at the deadline; the samples never run', async () => {
    const { clock, engine, batcher } = setup({ maxQueueDelayMs: 0 });
    batcher.submit(samples(1)); // busy
    const late = batcher.submit(samples(2, 3), { timeoutMs: 30 });
    const state = track(late.done);
    clock.advance(29);
    await settle();
    assert.equal(state.state, 'pending');
    clock.advance(1);
    await settle();
    assert.equal(state.state, 'rejected');
    assert.ok(isCode('DEADLINE_EXCEEDED')(state.error));
    assert.equal(batcher.queued, 0);
    await finishLast(engine);
    clock.advance(100);
    assert.deepEqual(
      engine.calls.flatMap((c) => c.ids),
      [1],
    );
  });

  test('a deadline passing while the engine is idle rejects at the deadline', async () => {
    const { clock, engine, batcher } = setup({ maxQueueDelayMs: 100 });
    const request = batcher.submit(samples(1), { timeoutMs: 20 });
    const state = track(request.results[0]);
    clock.advance(19);
    await settle();
    assert.equal(state.state, 'pending');
    clock.advance(1);
    await settle();
    assert.ok(isCode('DEADLINE_EXCEEDED')(state.error));
    clock.advance(200);
    assert.equal(engine.calls.length, 0);
  });

  test('a deadline does not cut a running sample, and only queued samples of a request expire', async () => {
    const { clock, engine, batcher } = setup({ maxBatchSize: 2, maxQueueDelayMs: 0 });
    const request = batcher.submit(samples(1, 2, 3), { timeoutMs: 30 });
    const results = request.results.map(track);
    assert.deepEqual(engine.last.ids, [1, 2]);
    clock.advance(30); // sample 3 is still queued: the request fails, samples 1, 2 keep running
    await settle();
    assert.ok(isCode('DEADLINE_EXCEEDED')(results[2].error));
    await assert.rejects(request.done, isCode('DEADLINE_EXCEEDED'));
    await finishLast(engine);
    assert.equal(engine.calls.length, 1, 'sample 3 never ran');
    assert.deepEqual(
      results.map((r) => r.state),
      ['rejected', 'rejected', 'rejected'],
    );
  });

  test('a request whose samples all started is not failed by its deadline', async () => {
    const { clock, engine, batcher } = setup({ maxQueueDelayMs: 0 });
    const request = batcher.submit(samples(1), { timeoutMs: 5 });
    clock.advance(50);
    await finishLast(engine);
    assert.deepEqual((await request.done).map(idOf), [1]);
  });
});

describe('Batcher: overload, failures, lifecycle', () => {
  test('overload rejects at once with Retry-After, queues nothing, and the bound is never exceeded', () => {
    let maxDepth = 0;
    const rejects: string[] = [];
    const observer: BatcherObserver = {
      onQueueDepth: (n) => (maxDepth = Math.max(maxDepth, n)),
      onReject: (reason) => rejects.push(reason),
    };
    const { engine, batcher } = setup({ maxBatchSize: 2, maxQueueDelayMs: 0, maxQueueSize: 4 }, observer);
    batcher.submit(samples(1, 2)); // running: not counted in the queue
    batcher.submit(samples(3, 4, 5));
    assert.throws(
      () => batcher.submit(samples(6, 7)),
      (error: unknown) => isCode('OVERLOADED')(error) && ((error as BigGanError).retryAfterSeconds ?? 0) >= 1,
    );
    assert.equal(batcher.queued, 3);
    batcher.submit(samples(8));
    assert.throws(() => batcher.submit(samples(9)), isCode('OVERLOADED'));
    assert.equal(batcher.queued, 4);
    assert.equal(maxDepth, 4);
    assert.deepEqual(rejects, ['overload', 'overload']);
    assert.equal(engine.calls.length, 1);
  });

  test('a request larger than maxQueueSize is rejected even when the queue is empty', () => {
    const { batcher } = setup({ maxQueueSize: 3 });
    assert.throws(() => batcher.submit(samples(1, 2, 3, 4)), isCode('OVERLOADED'));
    assert.equal(batcher.queued, 0);
  });

  test('Retry-After of a full queue is the predicted time until the request fits, not the whole backlog', async () => {
    const { clock, engine, batcher } = setup({ maxBatchSize: 4, maxQueueDelayMs: 0, maxQueueSize: 8 });
    batcher.submit(samples(1));
    clock.advance(2500);
    await finishLast(engine); // one batch of 1 sample: 2.5 s
    batcher.submit(samples(2)); // running
    batcher.submit(samples(...Array.from({ length: 8 }, (_, i) => 10 + i))); // 2 batches queued
    // One sample must leave the queue: that happens when the running batch ends (2.5 s) and the
    // next batch is formed, not after the whole backlog (7.5 s, the old answer).
    assert.throws(
      () => batcher.submit(samples(99)),
      (error: unknown) => isCode('OVERLOADED')(error) && (error as BigGanError).retryAfterSeconds === 3,
    );
  });

  test('an engine failure rejects that batch with INTERNAL and later batches still run', async () => {
    const { engine, batcher } = setup({ maxBatchSize: 2, maxQueueDelayMs: 0 });
    const a = batcher.submit(samples(1, 2));
    const b = batcher.submit(samples(3));
    engine.last.fail(new Error('out of memory'));
    await settle();
    await assert.rejects(
      a.done,
      (error: unknown) => isCode('INTERNAL')(error) && /engine failed: out of memory/.test((error as Error).message),
    );
    await assert.rejects(a.results[0], isCode('INTERNAL'));
    assert.deepEqual(engine.last.ids, [3]);
    await finishLast(engine);
    assert.deepEqual((await b.done).map(idOf), [3]);
  });

  test("an engine failure also drops the failed request's samples still queued", async () => {
    const { clock, engine, batcher } = setup({ maxBatchSize: 2, maxQueueDelayMs: 0 });
    const request = batcher.submit(samples(1, 2, 3));
    engine.last.fail(new Error('boom'));
    await settle();
    await assert.rejects(request.results[2], isCode('INTERNAL'));
    assert.equal(batcher.queued, 0);
    clock.advance(100);
    assert.equal(engine.calls.length, 1);
  });

  test('an engine output of the wrong shape fails its batch with INTERNAL', async () => {
    const { engine, batcher } = setup({ maxQueueDelayMs: 0 });
    engine.generate = async (batch) => ({ size: batch.size + 1, height: 2, width: 2, data: new Float32Array(0) });
    const request = batcher.submit(samples(1));
    await assert.rejects(request.done, isCode('INTERNAL'));
    assert.equal(batcher.stats().running, 0);
  });

  test('awaiting only done (or only one result) of a failed request leaves no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const { engine, batcher } = setup({ maxQueueDelayMs: 0 });
      const a = batcher.submit(samples(1, 2));
      const b = batcher.submit(samples(3, 4), { signal: AbortSignal.abort() });
      engine.last.fail(new Error('boom'));
      await assert.rejects(a.done, isCode('INTERNAL'));
      await assert.rejects(b.results[0], isCode('CANCELLED'));
      await settle();
      await settle();
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  test('drain resolves only once the queue is empty and no batch runs', async () => {
    const { clock, engine, batcher } = setup({ maxBatchSize: 2, maxQueueDelayMs: 10 });
    await batcher.drain(); // idle: resolves at once
    batcher.submit(samples(1, 2, 3));
    const drained = track(batcher.drain());
    await finishLast(engine);
    assert.equal(drained.state, 'pending', 'sample 3 is still queued');
    clock.advance(10);
    await settle();
    assert.equal(drained.state, 'pending', 'sample 3 is running');
    await finishLast(engine);
    assert.equal(drained.state, 'resolved');
  });

  test('close rejects queued requests with UNAVAILABLE, lets the running batch finish and stops timers', async () => {
    const { clock, engine, batcher } = setup({ maxBatchSize: 1, maxQueueDelayMs: 10 });
    const running = batcher.submit(samples(1));
    const queued = batcher.submit(samples(2), { timeoutMs: 500 });
    assert.ok(clock.pending > 0);
    batcher.close();
    assert.equal(clock.pending, 0);
    await assert.rejects(queued.done, isCode('UNAVAILABLE'));
    assert.throws(() => batcher.submit(samples(3)), isCode('UNAVAILABLE'));
    const drained = track(batcher.drain());
    await finishLast(engine);
    assert.deepEqual((await running.done).map(idOf), [1]);
    assert.equal(drained.state, 'resolved');
    clock.advance(1000);
    assert.equal(engine.calls.length, 1);
  });

  test('the observer sees batches, queue waits, queue depth and rejections', async () => {
    const seen = {
      batches: [] as { size: number; durationMs: number }[],
      waits: [] as number[],
      depths: [] as number[],
      rejects: [] as string[],
    };
    const observer: BatcherObserver = {
      onBatch: (b) => seen.batches.push(b),
      onQueueWait: (ms) => seen.waits.push(ms),
      onQueueDepth: (n) => seen.depths.push(n),
      onReject: (reason) => seen.rejects.push(reason),
    };
    const { clock, engine, batcher } = setup({ maxBatchSize: 2, maxQueueDelayMs: 10, maxQueueSize: 3 }, observer);
    batcher.submit(samples(1)); // depth 1
    clock.advance(4);
    batcher.submit(samples(2)); // depth 2 -> full batch at t=4: depth 0
    clock.advance(6);
    await finishLast(engine); // a 6 ms batch
    batcher.submit(samples(3), { timeoutMs: 5 }); // depth 1
    batcher.submit(samples(4), { signal: AbortSignal.abort() });
    assert.throws(() => batcher.submit(samples(5, 6, 7, 8)));
    clock.advance(5); // sample 3 expires: depth 0
    await settle();
    assert.deepEqual(seen.batches, [{ size: 2, durationMs: 6 }]);
    assert.deepEqual(seen.waits, [4, 0]);
    assert.deepEqual(seen.depths, [1, 2, 0, 1, 0]);
    assert.deepEqual(seen.rejects, ['cancelled', 'overload', 'deadline']);
  });

  test('a throwing observer does not break serving', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const observer: BatcherObserver = {
        onBatch: () => {
          throw new Error('metrics bug');
        },
      };
      const { engine, batcher } = setup({ maxQueueDelayMs: 0 }, observer);
      const request: SubmittedRequest = batcher.submit(samples(1));
      await finishLast(engine);
      assert.deepEqual((await request.done).map(idOf), [1]);
      await settle();
      assert.ok(warnings.some((m) => m.includes('metrics bug')));
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('Batcher: pipelining (maxConcurrentBatches)', () => {
  test('with 2, a full batch is handed over while one runs; partial batches still wait for an idle engine', async () => {
    const { clock, engine, batcher } = setup({ maxBatchSize: 4, maxQueueDelayMs: 10, maxConcurrentBatches: 2 });
    const requests = Array.from({ length: 11 }, (_, i) => batcher.submit(samples(i)));
    // Two full batches go at once (one runs, one waits in the engine); the third is partial.
    assert.deepEqual(
      engine.calls.map((c) => c.batch.size),
      [4, 4],
    );
    assert.equal(engine.maxActive, 2);
    clock.advance(10);
    assert.equal(engine.calls.length, 2, 'a partial batch does not pipeline');
    engine.calls[0].finish();
    await settle();
    // One call still in flight: the partial batch (due since t=10) must wait for it.
    assert.equal(engine.calls.length, 2);
    engine.calls[1].finish();
    await settle();
    assert.deepEqual(
      engine.calls.map((c) => c.batch.size),
      [4, 4, 3],
    );
    await finishLast(engine);
    const ids = await Promise.all(requests.map(async (r) => idOf((await r.done)[0])));
    assert.deepEqual(
      ids,
      Array.from({ length: 11 }, (_, i) => i),
    );
    assert.deepEqual(batcher.stats(), { queued: 0, running: 0, batches: 3, samples: 11 });
  });

  test('the default keeps one engine call at a time', () => {
    const { engine, batcher } = setup({ maxBatchSize: 4 });
    for (let i = 0; i < 12; i++) batcher.submit(samples(i));
    assert.equal(engine.calls.length, 1);
    assert.equal(engine.maxActive, 1);
  });

  test('an invalid maxConcurrentBatches is refused', () => {
    assert.throws(() => setup({ maxConcurrentBatches: 0 }), isCode('INVALID_CONFIG'));
  });
});

/**
 * Runs the fake engine as a real one would: calls one at a time in the order handed over, each
 * taking `batchMs` of clock time from when it was handed over or the previous one ended. Time
 * moves in steps of at most `stepMs`; after each step `probe` is asked whether to stop. Returns
 * the clock time at which it stopped.
 */
async function runEngine(
  clock: FakeClock,
  engine: FakeEngine,
  batchMs: number,
  stepMs: number,
  probe: () => boolean,
  maxMs = 60_000,
): Promise<number> {
  let finished = engine.calls.filter((c) => c.finishedAt !== undefined).length;
  let freeAt = Math.max(clock.now(), ...engine.calls.map((c) => c.finishedAt ?? -Infinity));
  const end = clock.now() + maxMs;
  while (clock.now() < end) {
    const next = engine.calls[finished];
    const endsAt = next === undefined ? Infinity : Math.max(next.startedAt, freeAt) + batchMs;
    const target = Math.min(endsAt, clock.now() + stepMs);
    clock.advance(target - clock.now());
    if (target === endsAt && next !== undefined) {
      next.finish();
      freeAt = endsAt;
      finished += 1;
      await settle();
    }
    if (probe()) return clock.now();
  }
  assert.fail(`probe never succeeded within ${maxMs} ms`);
}

/** Measures one full batch of `size` samples taking `ms`, so the batcher knows its engine time. */
async function measure(
  clock: FakeClock,
  engine: FakeEngine,
  batcher: Batcher,
  size: number,
  ms: number,
): Promise<void> {
  batcher.submit(samples(...Array.from({ length: size }, (_, i) => 1000 + i)));
  clock.advance(ms);
  await finishLast(engine);
}

/** Whether `submit` accepts a 1-sample request now (a refusal changes nothing but the counters). */
function accepts(batcher: Batcher, id: number, opts: SubmitOptions = {}): boolean {
  try {
    batcher.submit(samples(id), opts);
    return true;
  } catch (error) {
    assert.ok(isCode('OVERLOADED')(error));
    return false;
  }
}

function overloadedAfter(seconds: number, pattern: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(isCode('OVERLOADED')(error));
    assert.equal((error as BigGanError).retryAfterSeconds, seconds);
    assert.match((error as Error).message, pattern);
    return true;
  };
}

describe('Batcher: time-bounded admission', () => {
  test('before any engine time is known only the count bound applies', () => {
    const { batcher } = setup({ maxBatchSize: 4, maxQueueDelayMs: 0, maxQueueSize: 64, maxQueueWaitMs: 1 });
    for (let i = 0; i < 10; i++) batcher.submit(samples(...Array.from({ length: 4 }, (_, k) => i * 4 + k)));
    assert.equal(batcher.queued, 36);
    assert.equal(batcher.estimateWaitMs(), undefined);
  });

  test('refuses at once what is predicted to start later than maxQueueWaitMs, counting the running batch', async () => {
    const rejects: string[] = [];
    const { clock, engine, batcher } = setup(
      { maxBatchSize: 4, maxQueueDelayMs: 0, maxQueueWaitMs: 1000 },
      { onReject: (r) => rejects.push(r) },
    );
    await measure(clock, engine, batcher, 4, 500);
    batcher.submit(samples(1, 2, 3, 4)); // running: 500 ms left
    batcher.submit(samples(5, 6, 7, 8)); // queued batch 0: starts at 500
    batcher.submit(samples(9, 10, 11, 12)); // queued batch 1: starts at 1000 (= the limit: accepted)
    assert.equal(batcher.estimateWaitMs(), 1500);
    assert.throws(
      () => batcher.submit(samples(13, 14)),
      overloadedAfter(1, /estimated wait 1500 ms exceeds the queue wait limit of 1000 ms/),
    );
    assert.equal(batcher.queued, 8, 'a refusal queues nothing');
    assert.deepEqual(rejects, ['overload']);
    clock.advance(300); // the running batch has 200 ms left: 1200 ms
    assert.equal(batcher.estimateWaitMs(), 1200);
    assert.throws(() => batcher.submit(samples(13, 14)), isCode('OVERLOADED'));
    clock.advance(200); // running past its prediction counts as ending now
    assert.equal(batcher.estimateWaitMs(), 1000);
    batcher.submit(samples(13, 14));
    assert.equal(batcher.queued, 10);
  });

  test("the limit bounds the backlog ahead, not the request's own samples: a large request is accepted by an idle engine", async () => {
    const { clock, engine, batcher } = setup({ maxBatchSize: 4, maxQueueDelayMs: 0, maxQueueWaitMs: 1000 });
    await measure(clock, engine, batcher, 4, 500);
    const big = batcher.submit(samples(...Array.from({ length: 16 }, (_, i) => i))); // its last sample starts at 1500
    assert.equal(engine.calls.length, 2);
    assert.equal(track(big.done).state, 'pending');
    assert.throws(() => batcher.submit(samples(99)), isCode('OVERLOADED'), 'but it is backlog for the next request');
  });

  test('a request whose own samples cannot all start within its timeout even when idle gets DEADLINE_EXCEEDED at once', async () => {
    const rejects: string[] = [];
    const { clock, engine, batcher } = setup(
      { maxBatchSize: 4, maxQueueDelayMs: 0 },
      { onReject: (r) => rejects.push(r) },
    );
    await measure(clock, engine, batcher, 4, 500);
    const request = batcher.submit(samples(...Array.from({ length: 12 }, (_, i) => i)), { timeoutMs: 900 }); // needs 1000 ms
    await assert.rejects(
      request.done,
      (error: unknown) => isCode('DEADLINE_EXCEEDED')(error) && /even on an idle engine/.test((error as Error).message),
    );
    assert.equal(batcher.queued, 0);
    assert.deepEqual(rejects, ['deadline']);
    assert.equal(engine.calls.length, 1, 'nothing ran');
  });

  test('high priority passes queued normal samples, so it is admitted where normal is refused', async () => {
    const { clock, engine, batcher } = setup({ maxBatchSize: 4, maxQueueDelayMs: 0, maxQueueWaitMs: 1000 });
    await measure(clock, engine, batcher, 4, 500);
    batcher.submit(samples(1, 2, 3, 4)); // running
    batcher.submit(samples(...Array.from({ length: 8 }, (_, i) => 10 + i))); // 2 queued batches
    assert.equal(accepts(batcher, 50), false);
    assert.equal(batcher.estimateWaitMs(1, 'high'), 500);
    assert.equal(accepts(batcher, 51, { priority: 'high' }), true);
  });

  test("refuses what cannot finish within the request's own timeout (predicted start plus run time), with Retry-After from the prediction", async () => {
    const { clock, engine, batcher } = setup({ maxBatchSize: 4, maxQueueDelayMs: 0, maxQueueWaitMs: 10_000 });
    await measure(clock, engine, batcher, 4, 800);
    batcher.submit(samples(1, 2, 3, 4)); // running: 800 ms left
    batcher.submit(samples(5, 6, 7, 8)); // next sample waits 1600 ms
    // Sample 9 would start at 1600 ms and end at 1800 ms (a batch of 1): a timeout that only covers its start is too short.
    assert.throws(
      () => batcher.submit(samples(9), { timeoutMs: 1700 }),
      overloadedAfter(1, /estimated completion 1800 ms exceeds the request's timeout of 1700 ms/),
    );
    assert.throws(() => batcher.submit(samples(9), { timeoutMs: 200 }), overloadedAfter(2, /timeout of 200 ms/)); // 1600 ms -> 2 s
    const ok = batcher.submit(samples(9), { timeoutMs: 1900 });
    await runEngine(clock, engine, 800, 100, () => engine.calls.some((c) => c.ids.includes(9)));
    assert.equal(clock.now() - 800, 1600, 'started when predicted');
    await finishLast(engine);
    clock.advance(800);
    await runEngine(clock, engine, 800, 100, () => true);
    assert.deepEqual((await ok.done).map(idOf), [9]);
  });

  test('queued work is dropped when its batch is predicted to end after its deadline, not only when it would start after it', async () => {
    const { clock, engine, batcher } = setup({ maxBatchSize: 4, maxQueueDelayMs: 0 });
    await measure(clock, engine, batcher, 4, 800);
    batcher.submit(samples(1, 2, 3, 4)); // running: predicted to end at +800 ms
    const late = batcher.submit(samples(5, 6, 7, 8), { timeoutMs: 1700 }); // predicted 800 -> 1600: admitted
    const lateDone = track(late.done);
    clock.advance(1000); // the running batch overruns: the next one would run 1000 -> ~1900, past 1700
    await finishLast(engine);
    await settle();
    assert.equal(lateDone.state, 'rejected');
    assert.ok(isCode('DEADLINE_EXCEEDED')(lateDone.error), String(lateDone.error));
    assert.ok(!engine.calls.some((c) => c.ids.includes(5)), 'the batch that could not finish in time never ran');
  });

  test('Retry-After is within a second of the actual time until the request is admitted (the backlog drains)', async () => {
    // The case: 256 samples queued at 20 samples/s (batches of 8 in 400 ms) = 12.8 s of
    // work; the old Retry-After added the running mean of every batch and said 27-29 s.
    for (const maxConcurrentBatches of [1, 2]) {
      const { clock, engine, batcher } = setup({
        maxBatchSize: 8,
        maxQueueDelayMs: 5,
        maxQueueSize: 256,
        maxQueueWaitMs: 2000,
        maxConcurrentBatches,
      });
      // Queued before any engine time is known: only the count bound holds, so 264 get in.
      for (let i = 0; i < 33; i++) batcher.submit(samples(...Array.from({ length: 8 }, (_, k) => i * 8 + k)));
      await runEngine(clock, engine, 400, 400, () => true); // the first batch ends: 400 ms known
      let retryAfter = 0;
      assert.throws(
        () => batcher.submit(samples(999)),
        (error: unknown) => {
          assert.ok(isCode('OVERLOADED')(error));
          retryAfter = (error as BigGanError).retryAfterSeconds ?? 0;
          return true;
        },
      );
      const refusedAt = clock.now();
      const admittedAt = await runEngine(clock, engine, 400, 50, () => accepts(batcher, 999));
      const actual = (admittedAt - refusedAt) / 1000;
      assert.ok(
        actual <= retryAfter && retryAfter < actual + 1.05,
        `maxConcurrentBatches ${maxConcurrentBatches}: Retry-After ${retryAfter} s, admitted after ${actual} s`,
      );
      assert.ok(retryAfter >= 9 && retryAfter <= 11, `about 12.4 s of work minus the 2 s limit, got ${retryAfter}`);
    }
  });

  test('Retry-After of a full queue matches when the request actually fits', async () => {
    const { clock, engine, batcher } = setup({ maxBatchSize: 4, maxQueueDelayMs: 0, maxQueueSize: 16 });
    await measure(clock, engine, batcher, 4, 1000);
    batcher.submit(samples(1, 2, 3, 4)); // running
    for (let i = 0; i < 4; i++) batcher.submit(samples(...Array.from({ length: 4 }, (_, k) => 10 + i * 4 + k)));
    clock.advance(100);
    let retryAfter = 0;
    assert.throws(
      () => batcher.submit(samples(...Array.from({ length: 10 }, (_, k) => 100 + k))),
      (error: unknown) => {
        assert.ok(isCode('OVERLOADED')(error));
        retryAfter = (error as BigGanError).retryAfterSeconds ?? 0;
        return true;
      },
    );
    const refusedAt = clock.now();
    const fitsAt = await runEngine(clock, engine, 1000, 50, () => batcher.queued + 10 <= 16);
    const actual = (fitsAt - refusedAt) / 1000; // 10 samples must leave: 3 batches formed = 2.9 s
    assert.ok(
      actual <= retryAfter && retryAfter < actual + 1.05,
      `Retry-After ${retryAfter} s, fits after ${actual} s`,
    );
  });

  test('a pipelined batch formed early drops samples that could not finish by their deadline', async () => {
    const rejects: string[] = [];
    const { clock, engine, batcher } = setup(
      { maxBatchSize: 4, maxQueueDelayMs: 0, maxConcurrentBatches: 2 },
      { onReject: (r) => rejects.push(r) },
    );
    await measure(clock, engine, batcher, 4, 500);
    batcher.submit(samples(1, 2, 3, 4)); // A runs, 500 ms
    const late = batcher.submit(samples(5), { timeoutMs: 900 }); // predicted 500 -> 625: admitted
    const state = track(late.done);
    // B: pipelined behind A, passes sample 5, which could now only run after B: 1000 -> past 900.
    batcher.submit(samples(6, 7, 8, 9), { priority: 'high' });
    await settle();
    assert.deepEqual(
      engine.calls.slice(1).map((c) => c.ids),
      [
        [1, 2, 3, 4],
        [6, 7, 8, 9],
      ],
    );
    assert.equal(state.state, 'rejected', 'dropped when B was formed, not when it would have started');
    assert.ok(isCode('DEADLINE_EXCEEDED')(state.error));
    assert.deepEqual(rejects, ['deadline']);
    batcher.submit(samples(10, 11, 12));
    clock.advance(500);
    await finishLast(engine); // B ends (A is taken to have ended too): C runs
    clock.advance(500);
    engine.calls[1].finish();
    await settle();
    assert.ok(!engine.calls.some((c) => c.ids.includes(5)), 'sample 5 never reaches the engine');
  });

  test("engine time excludes a pipelined batch's wait behind the previous call", async () => {
    const batches: { size: number; durationMs: number }[] = [];
    const { clock, engine, batcher } = setup(
      { maxBatchSize: 4, maxQueueDelayMs: 0, maxConcurrentBatches: 2 },
      { onBatch: (b) => batches.push(b) },
    );
    batcher.submit(samples(1, 2, 3, 4));
    batcher.submit(samples(5, 6, 7, 8)); // handed over at 0, waits in the engine until 300
    await runEngine(clock, engine, 300, 300, () => engine.calls.every((c) => c.finishedAt !== undefined));
    assert.deepEqual(batches, [
      { size: 4, durationMs: 300 },
      { size: 4, durationMs: 300 },
    ]);
    assert.equal(batcher.estimateWaitMs(5), 300, 'one full batch ahead of the 5th sample');
  });

  test('a primed engine time bounds admission from the start; the first real batch replaces it', async () => {
    const estimates: number[] = [];
    const { clock, engine, batcher } = setup(
      { maxBatchSize: 4, maxQueueDelayMs: 0, maxQueueWaitMs: 1000 },
      { onWaitEstimate: (ms) => estimates.push(ms) },
    );
    batcher.primeEngineTime(4, 2000); // a slow warm-up batch
    batcher.submit(samples(1, 2, 3, 4)); // running, predicted 2000 ms
    assert.equal(batcher.estimateWaitMs(), 2000);
    assert.equal(accepts(batcher, 5), false, 'conservative until measured');
    clock.advance(400);
    await finishLast(engine); // really 400 ms
    assert.equal(batcher.estimateWaitMs(9), 800);
    assert.ok(estimates.includes(2000) && estimates.at(-1) === 0, `estimates ${estimates.join(',')}`);
  });
});
