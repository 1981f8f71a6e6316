/**
 * Warming an engine up before it takes traffic. On the CPU one full batch is enough (allocation,
 * weight prepacking). On a GPU, cuDNN picks each convolution's algorithm per input shape the
 * first time it sees it (a search that takes seconds), and most batches the batcher forms are
 * partial: so on `cuda` and `tensorrt` every batch size 1..maxBatchSize is run once at start,
 * instead of making the first request of each size pay for the search.
 */
import type { Engine, EngineBatch } from './engine.js';

/** Backends whose first run of each batch shape is slow (cuDNN algorithm search, TensorRT profiles). */
export const SHAPE_TUNED_BACKENDS: readonly string[] = ['cuda', 'tensorrt'];

/** Whether `backend` runs on a GPU (the ort providers that do). */
export function isGpuBackend(backend: string): boolean {
  return SHAPE_TUNED_BACKENDS.includes(backend);
}

/** The batch sizes warmed, in order: 1..max on a GPU backend, else only max. */
export function warmUpBatchSizes(backend: string, maxBatchSize: number): number[] {
  if (!isGpuBackend(backend)) return [maxBatchSize];
  return Array.from({ length: maxBatchSize }, (_, i) => i + 1);
}

/** A batch of `size` samples: z = 0, classes 0, 1, 2, ..., the given truncation. */
export function warmUpBatch(engine: Pick<Engine, 'config'>, size: number, truncation: number): EngineBatch {
  const c = engine.config;
  const classVector = new Float32Array(size * c.numClasses);
  for (let i = 0; i < size; i++) classVector[i * c.numClasses + (i % c.numClasses)] = 1;
  return { size, z: new Float32Array(size * c.zDim), classVector, truncation: Array<number>(size).fill(truncation) };
}

/**
 * Runs the warm-up batches; resolves with the time of the full batch (ms), the last one run, which
 * seeds the batcher's engine-time model.
 */
export async function warmUpEngine(engine: Engine, maxBatchSize: number, truncation: number): Promise<number> {
  let fullMs = 0;
  for (const size of warmUpBatchSizes(engine.backend, maxBatchSize)) {
    const t0 = performance.now();
    await engine.generate(warmUpBatch(engine, size, truncation));
    fullMs = performance.now() - t0;
  }
  return fullMs;
}
