/**
 * GenerationService under failure: every request is answered once and no per-sample or per-frame
 * promise is ever left without a rejection handler (which would kill the process).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createStack, type Stack } from '../helpers/stack.js';
import { BigGanError } from '../../src/errors.js';

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};
let stack: Stack;

before(async () => {
  process.on('unhandledRejection', onUnhandled);
  stack = await createStack({ maxBatchSize: 2, maxQueueDelayMs: 0 });
});
after(() => process.off('unhandledRejection', onUnhandled));

/** Lets pending promise reactions and the unhandled-rejection check run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 20));
}

const interpolation = { from: { seed: 1, class: 1 }, to: { seed: 2, class: 2 }, frames: 6 };

for (const format of ['png', 'gif', 'webp'] as const) {
  test(`interpolate (${format}) cancelled while queued: CANCELLED, no unhandled rejection`, async () => {
    unhandled.length = 0;
    stack.engine.hold();
    const controller = new AbortController();
    const frames: number[] = [];
    const answer = stack.service.interpolate(
      { ...interpolation, format },
      { signal: controller.signal, transport: 'grpc' },
      (f) => frames.push(f.index),
    );
    controller.abort();
    await assert.rejects(answer, (err: unknown) => err instanceof BigGanError && err.code === 'CANCELLED');
    stack.engine.release();
    await stack.batcher.drain();
    await settle();
    assert.deepEqual(unhandled, []);
    assert.equal(stack.batcher.queued, 0);
  });
}

test('interpolate cancelled after its first frame was streamed: CANCELLED, no unhandled rejection', async () => {
  unhandled.length = 0;
  const controller = new AbortController();
  const frames: number[] = [];
  const answer = stack.service.interpolate(
    { ...interpolation, format: 'png' },
    { signal: controller.signal, transport: 'grpc' },
    (f) => {
      frames.push(f.index);
      if (frames.length === 1) {
        stack.engine.hold(); // the remaining batches wait, so the abort finds them queued or running
        controller.abort();
      }
    },
  );
  await assert.rejects(answer, (err: unknown) => err instanceof BigGanError && err.code === 'CANCELLED');
  stack.engine.release();
  await stack.batcher.drain();
  await settle();
  assert.deepEqual(frames, [0]);
  assert.deepEqual(unhandled, []);
});

test('generate (count 4) cancelled while queued: CANCELLED, no unhandled rejection', async () => {
  unhandled.length = 0;
  stack.engine.hold();
  const controller = new AbortController();
  const answer = stack.service.generate(
    { class: 1, seed: 1, count: 4 },
    { signal: controller.signal, transport: 'http' },
  );
  controller.abort();
  await assert.rejects(answer, (err: unknown) => err instanceof BigGanError && err.code === 'CANCELLED');
  stack.engine.release();
  await stack.batcher.drain();
  await settle();
  assert.deepEqual(unhandled, []);
});

test('a sample the engine answers with NaN fails its own request (counted); its batch-mates succeed', async () => {
  const { fixtureEngine } = await import('../helpers/stack.js');
  const { Batcher } = await import('../../src/batching/batcher.js');
  const { createMetrics } = await import('../../src/metrics/metrics.js');
  const { GenerationService } = await import('../../src/service/generation-service.js');
  const real = await fixtureEngine();
  const POISONED_CLASS = 7;
  // Answers NaN for every sample whose class vector selects POISONED_CLASS.
  const poisoning = {
    name: real.name,
    backend: real.backend,
    config: real.config,
    dispose: async () => undefined,
    generate: async (b: Parameters<typeof real.generate>[0]) => {
      const out = await real.generate(b);
      const per = out.height * out.width * 3;
      const C = real.config.numClasses;
      for (let i = 0; i < b.size; i++)
        if (b.classVector[i * C + POISONED_CLASS] === 1) out.data.fill(NaN, i * per, (i + 1) * per);
      return out;
    },
  };
  const metrics = createMetrics();
  const batcher = new Batcher(
    poisoning,
    { maxBatchSize: 4, maxQueueDelayMs: 20, maxQueueSize: 16 },
    { observer: metrics.batcherObserver },
  );
  const service = new GenerationService(poisoning, batcher, metrics, { modelName: 'tiny', maxSamplesPerRequest: 4 });
  service.setReady();
  const bad = service.generate({ class: POISONED_CLASS, seed: 1 }, { transport: 'http' });
  const good = service.generate({ class: 1, seed: 1 }, { transport: 'http' });
  await assert.rejects(
    bad,
    (err: unknown) => err instanceof BigGanError && err.code === 'INTERNAL' && /non-finite/.test(err.message),
  );
  assert.equal((await good).images.length, 1);
  assert.equal((await metrics.nonFiniteOutputs.get()).values[0].value, 1);
  assert.equal(batcher.stats().batches, 1, 'both requests shared one batch');
});
