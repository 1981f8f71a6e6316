/**
 * `npm run bench -- --dataset`: images/s of `biggan-serve dataset` (engine + PNG encoding + tar
 * writing + fsync, the whole pipeline) against the raw engine's images/s on the same model, engine
 * and batch size. The raw engine is measured before and after the dataset run and averaged, so
 * drift in the machine's load (other processes) does not favour either side. Target: >= 90%.
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
  /** Where the shards go (default a fresh temporary folder, removed afterwards). */
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

/** Runs raw, dataset, raw; prints and returns the figures. */
export async function runDatasetBench(o: DatasetBenchOptions): Promise<DatasetBenchResult> {
  const out = (s: string) => process.stdout.write(`${s}\n`);
  const before = await rawRate(o.engine, o.batchSize, o.seconds);
  out(`raw engine (${o.engine.name}/${o.engine.backend}), batch ${o.batchSize}: ${before.toFixed(2)} images/s`);
  // Enough samples for about `seconds` of work, in whole batches, over 10 classes and 4+ shards.
  const batches = Math.max(4, Math.ceil((before * o.seconds) / o.batchSize));
  const perClass = Math.ceil((batches * o.batchSize) / 10);
  const images = perClass * 10;
  const spec: DatasetSpec = {
    model: 'bench', weightsSha256: '0'.repeat(64), classes: Array.from({ length: 10 }, (_, i) => i * 97), perClass,
    truncation: 0.4, seed: '1', format: o.format, shardSize: Math.max(1, Math.ceil(images / 4)), prefix: 'bench',
  };
  const dir = o.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'biggan-bench-dataset-')));
  let datasetRate: number;
  try {
    const t0 = performance.now();
    await runDataset({ engine: o.engine, spec, dir, part: 0, parts: 1, batchSize: o.batchSize, depth: o.depth, progress: { write: () => true } });
    datasetRate = images / ((performance.now() - t0) / 1000);
  } finally {
    if (o.dir === undefined) await rm(dir, { recursive: true, force: true });
  }
  out(`dataset (${images} ${o.format} images, 4 shards, pipeline depth ${o.depth}): ${datasetRate.toFixed(2)} images/s`);
  const after = await rawRate(o.engine, o.batchSize, o.seconds);
  out(`raw engine again: ${after.toFixed(2)} images/s`);
  const raw = (before + after) / 2;
  const ratio = datasetRate / raw;
  out(`\ntarget: dataset ${datasetRate.toFixed(2)} images/s = ${(100 * ratio).toFixed(0)}% of the raw engine's ${raw.toFixed(2)} images/s (target >= 90%: ${ratio >= 0.9 ? 'met' : 'missed'})`);
  return { rawImagesPerSecond: raw, datasetImagesPerSecond: datasetRate, images, ratio };
}
