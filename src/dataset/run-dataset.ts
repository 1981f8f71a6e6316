/**
 * One run of `biggan-serve dataset` for part I of N: prepare the folder, remove this part's
 * leftovers of killed runs, verify the shards already finished (size and SHA-256 against their
 * records) and keep them, generate the rest, write the part manifest, and merge manifest.json if
 * every part is done.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Engine } from '../engine/engine.js';
import { fileDigest, listFolder, prepareFolder, TEMP_SUFFIX } from './files.js';
import {
  knownShards,
  mergeManifest,
  recordName,
  writePartManifest,
  writeShardRecord,
  type ShardRecord,
} from './manifest.js';
import { runPipeline } from './pipeline.js';
import { createDatasetProgress, type ProgressOut } from './progress.js';
import { shardName, shardRange, shardsOfPart, type DatasetSpec } from './spec.js';

/** A run's settings beyond the spec. */
export interface RunOptions {
  readonly engine: Engine;
  readonly spec: DatasetSpec;
  readonly dir: string;
  readonly part: number;
  readonly parts: number;
  readonly batchSize: number;
  readonly depth?: number;
  readonly progress?: ProgressOut;
  readonly logIntervalMs?: number;
  readonly stopRequested?: () => boolean;
}

/** What a run did. */
export interface RunResult {
  readonly written: ShardRecord[];
  readonly kept: ShardRecord[];
  readonly images: number;
  readonly seconds: number;
  /** True when this run wrote manifest.json (every part is done). */
  readonly merged: boolean;
  /** Shards still missing from the part manifests (other parts not done yet). */
  readonly missing: number;
}

/** Removes temporary files of this part's shards and records (left by killed runs of this part). */
async function removeLeftovers(dir: string, names: ReadonlySet<string>): Promise<void> {
  const files = await listFolder(dir);
  const mine = files.filter((f) => {
    if (!f.startsWith('.') || !f.endsWith(TEMP_SUFFIX)) return false;
    const base = f.slice(1).replace(/\.tar\..*$|\.record\.json\..*$/, '.tar');
    return names.has(base);
  });
  await Promise.all(mine.map((f) => rm(path.join(dir, f), { force: true })));
}

/** The shards of this part whose file matches its record; the others are to be (re)written. */
async function verifyFinished(
  dir: string,
  spec: DatasetSpec,
  shards: readonly number[],
): Promise<{ kept: ShardRecord[]; todo: number[] }> {
  const { shards: known } = await knownShards(dir, spec);
  const kept: ShardRecord[] = [];
  const todo: number[] = [];
  for (const k of shards) {
    const name = shardName(spec.prefix, k);
    const rec = known.get(name);
    const { start, end } = shardRange(spec, k);
    const actual = rec && rec.samples === end - start ? await fileDigest(path.join(dir, name)) : undefined;
    if (rec && actual && actual.bytes === rec.bytes && actual.sha256 === rec.sha256) kept.push(rec);
    else todo.push(k);
  }
  return { kept, todo };
}

/** Runs part `part` of `parts` of the dataset into `dir`. */
export async function runDataset(o: RunOptions): Promise<RunResult> {
  const { spec, dir } = o;
  await prepareFolder(dir);
  const mine = shardsOfPart(spec, o.part, o.parts);
  await removeLeftovers(dir, new Set(mine.map((k) => shardName(spec.prefix, k))));
  const { kept, todo } = await verifyFinished(dir, spec, mine);
  // A stale record of a shard to rewrite must not vouch for the new file before it is complete.
  await Promise.all(todo.map((k) => rm(path.join(dir, recordName(shardName(spec.prefix, k))), { force: true })));
  const images = todo.reduce((n, k) => n + shardRange(spec, k).end - shardRange(spec, k).start, 0);
  const label = o.parts > 1 ? `dataset part ${o.part}/${o.parts}` : 'dataset';
  const progress = createDatasetProgress(images, label, o.progress, o.logIntervalMs);
  const written: ShardRecord[] = [];
  const t0 = performance.now();
  await runPipeline({
    engine: o.engine,
    spec,
    dir,
    shards: todo,
    batchSize: o.batchSize,
    ...(o.depth !== undefined ? { depth: o.depth } : {}),
    onImages: (n) => progress.add(n),
    onShard: async (record) => {
      await writeShardRecord(dir, spec, record);
      written.push(record);
    },
    ...(o.stopRequested ? { stopRequested: o.stopRequested } : {}),
  });
  const seconds = (performance.now() - t0) / 1000;
  const all = [...kept, ...written].sort((a, b) => (a.name < b.name ? -1 : 1));
  await writePartManifest(dir, spec, o.part, o.parts, all);
  const missing = await mergeManifest(dir, spec);
  progress.end({
    images,
    shards: written.length,
    bytes: written.reduce((n, r) => n + r.bytes, 0),
    skippedShards: kept.length,
  });
  return { written, kept, images, seconds, merged: missing.length === 0, missing: missing.length };
}
