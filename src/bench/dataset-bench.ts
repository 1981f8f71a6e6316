/**
 * `npm run bench -- --dataset`: images/s of `biggan-serve dataset` (engine + PNG encoding + tar
 * writing + fsync, the whole pipeline) against the raw engine's images/s on the same model, engine
 * and batch size. Target: >= 90%.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Engine } from '../engine/engine.js';
import { benchEngine } from './engine-bench.js';
import { runDataset } from '../dataset/run-dataset.js';
import type { DatasetSpec } from '../dataset/spec.js';
import type { ImageFormat } from '../image/encode.js';

/** Options of the dataset bench. */
export interface DatasetBenchOptions {
  readonly engine: Engine;
  readonly batchSize: number;
  /** Seconds of each raw measurement and the rough length of the dataset run. */
  readonly seconds: number;
  readonly format: ImageFormat;
  readonly depth: number;
  /** Dataset runs, each between two raw runs (default 3). */
  readonly rounds?: number;
  /** Where the shards go (a fresh folder inside it, removed afterwards; default the temp folder). */
  readonly dir?: string;
}

/** The measured figures. */
export interface DatasetBenchResult {
  readonly rawImagesPerSecond: number;
  readonly datasetImagesPerSecond: number;
  readonly images: number;
  readonly ratio: number;
}

async function rawRate(engine: Engine, batchSize: number, seconds: number): Promise<number> {
  const [row] = await benchEngine(engine, { batchSizes: [batchSize], minSeconds: seconds });
  return row.imagesPerSecond;
}

/** One dataset run of about `seconds` at the given raw rate; returns its images/s. */
async function datasetRate(
  o: DatasetBenchOptions,
  raw: number,
  round: number,
): Promise<{ rate: number; images: number }> {
  // Enough samples for about `seconds` of work, in whole batches, over 10 classes and 4 shards.
  const batches = Math.max(4, Math.ceil((raw * o.seconds) / o.batchSize));
  const perClass = Math.ceil((batches * o.batchSize) / 10);
  const images = perClass * 10;
  const spec: DatasetSpec = {
    model: 'bench',
    weightsSha256: '0'.repeat(64),
    classes: Array.from({ length: 10 }, (_, i) => i * 97),
    perClass,
    truncation: 0.4,
    seed: String(round * 1_000_000),
    format: o.format,
    shardSize: Math.max(1, Math.ceil(images / 4)),
    prefix: 'bench',
  };
  const dir = await mkdtemp(path.join(o.dir ?? os.tmpdir(), 'biggan-bench-dataset-'));
  try {
    const t0 = performance.now();
    await runDataset({
      engine: o.engine,
      spec,
      dir,
      part: 0,
      parts: 1,
      batchSize: o.batchSize,
      depth: o.depth,
      progress: { write: () => true },
    });
    return { rate: images / ((performance.now() - t0) / 1000), images };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Alternates raw and dataset runs (raw, dataset, raw, ..., raw) for `rounds` rounds; each dataset
 * run is compared with the mean of the raw runs on either side, and the median ratio reported, so
 * a change in the machine's load during one run moves one ratio, not the result.
 */
export async function runDatasetBench(o: DatasetBenchOptions): Promise<DatasetBenchResult> {
  const out = (s: string) => process.stdout.write(`${s}\n`);
  let before = await rawRate(o.engine, o.batchSize, o.seconds);
  out(`raw engine (${o.engine.name}/${o.engine.backend}), batch ${o.batchSize}: ${before.toFixed(2)} images/s`);
  const rounds: DatasetBenchResult[] = [];
  for (let r = 0; r < (o.rounds ?? 3); r++) {
    const { rate, images } = await datasetRate(o, before, r);
    const after = await rawRate(o.engine, o.batchSize, o.seconds);
    const raw = (before + after) / 2;
    rounds.push({ rawImagesPerSecond: raw, datasetImagesPerSecond: rate, images, ratio: rate / raw });
    out(
      `dataset (${images} ${o.format} images, 4 shards, pipeline depth ${o.depth}): ${rate.toFixed(2)} images/s; raw engine after: ${after.toFixed(2)} images/s; ratio ${((100 * rate) / raw).toFixed(0)}%`,
    );
    before = after;
  }
  const median = [...rounds].sort((a, b) => a.ratio - b.ratio)[Math.floor(rounds.length / 2)];
  out(
    `\ntarget: dataset ${median.datasetImagesPerSecond.toFixed(2)} images/s = ${(100 * median.ratio).toFixed(0)}% of the raw engine's ${median.rawImagesPerSecond.toFixed(2)} images/s (median of ${rounds.length} rounds; target >= 90%: ${median.ratio >= 0.9 ? 'met' : 'missed'})`,
  );
  return median;
}
