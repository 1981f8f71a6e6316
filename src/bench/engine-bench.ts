/**
 * Engine throughput: images/s and GFLOP/s per batch size, on random latents with mixed
 * truncations (the serving case: one batch, several truncations). Used by `npm run bench`.
 */
import type { Engine, EngineBatch } from '../engine/engine.js';
import { macsPerImage } from '../model/config.js';

/** Options of `benchEngine`. */
export interface BenchOptions {
  readonly batchSizes: readonly number[];
  /** Keep running each batch size at least this long (seconds); default 3. */
  readonly minSeconds?: number;
  /** And at least this many timed batches; default 3. */
  readonly minIterations?: number;
  /** Seed of the random inputs; default 1. */
  readonly seed?: number;
}

/** One batch size's result. */
export interface BenchRow {
  readonly batchSize: number;
  /** Mean over the timed batches. */
  readonly imagesPerSecond: number;
  readonly secondsPerBatch: number;
  /** The fastest single batch (less sensitive to other load on the machine). */
  readonly bestSecondsPerBatch: number;
  /** 2 x macsPerImage x images/s / 1e9 (nominal FLOPs of the model, see `macsPerImage`). */
  readonly gflops: number;
  readonly iterations: number;
}

/** Truncations cycled through a batch: grid points, off-grid blends and the extremes. */
const TRUNCATIONS = [0.4, 0.55, 1.0, 0.545, 0.58, 0.1, 0.7, 0.02];

/** A random batch: z = truncation * (a normal clipped to [-2, 2]), one-hot classes. */
export function randomBatch(engine: Engine, size: number, seed: number): EngineBatch {
  const { zDim, numClasses } = engine.config;
  let s = seed >>> 0 || 1;
  const uniform = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
  const truncation = Array.from({ length: size }, (_, i) => TRUNCATIONS[i % TRUNCATIONS.length]);
  const z = new Float32Array(size * zDim);
  for (let b = 0; b < size; b++) {
    for (let i = 0; i < zDim; i++) {
      const n = Math.sqrt(-2 * Math.log(uniform() || 1e-12)) * Math.cos(2 * Math.PI * uniform());
      z[b * zDim + i] = truncation[b] * Math.max(-2, Math.min(2, n));
    }
  }
  const classVector = new Float32Array(size * numClasses);
  for (let b = 0; b < size; b++) classVector[b * numClasses + Math.floor(uniform() * numClasses)] = 1;
  return { size, z, classVector, truncation };
}

/** Measures each batch size after one untimed warm-up batch (allocation, weight prepacking). */
export async function benchEngine(engine: Engine, opts: BenchOptions): Promise<BenchRow[]> {
  const minMs = (opts.minSeconds ?? 3) * 1000;
  const minIterations = opts.minIterations ?? 3;
  const flopPerImage = 2 * macsPerImage(engine.config);
  const rows: BenchRow[] = [];
  for (const size of opts.batchSizes) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`batch size must be a positive integer, got ${size}`);
    const batch = randomBatch(engine, size, (opts.seed ?? 1) + size);
    await engine.generate(batch); // warm-up
    let iterations = 0;
    let best = Infinity;
    const start = performance.now();
    while (iterations < minIterations || performance.now() - start < minMs) {
      const t = performance.now();
      await engine.generate(batch);
      best = Math.min(best, performance.now() - t);
      iterations++;
    }
    const secondsPerBatch = (performance.now() - start) / 1000 / iterations;
    const imagesPerSecond = size / secondsPerBatch;
    rows.push({
      batchSize: size,
      imagesPerSecond,
      secondsPerBatch,
      bestSecondsPerBatch: best / 1000,
      gflops: (flopPerImage * imagesPerSecond) / 1e9,
      iterations,
    });
  }
  return rows;
}

/** A plain-text table of bench rows; with a ceiling, each row also shows its share of it. */
export function formatBenchTable(
  rows: readonly BenchRow[],
  opts: { readonly title?: string; readonly ceilingGflops?: number } = {},
): string {
  const head = [
    'batch',
    'images/s',
    's/batch',
    'best s/batch',
    'GFLOP/s',
    ...(opts.ceilingGflops ? ['% of ceiling'] : []),
    'runs',
  ];
  const body = rows.map((r) => [
    String(r.batchSize),
    r.imagesPerSecond.toFixed(2),
    r.secondsPerBatch.toFixed(3),
    r.bestSecondsPerBatch.toFixed(3),
    r.gflops.toFixed(0),
    ...(opts.ceilingGflops ? [((100 * r.gflops) / opts.ceilingGflops).toFixed(0) + '%'] : []),
    String(r.iterations),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i])).join('  ');
  const lines = [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)];
  if (opts.ceilingGflops) lines.push(`single 3x3 convolution ceiling: ${opts.ceilingGflops.toFixed(0)} GFLOP/s`);
  if (opts.title) lines.unshift(opts.title);
  return lines.join('\n');
}
