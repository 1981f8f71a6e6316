/**
 * The records of a dataset folder and how they are merged:
 *
 * - `<prefix>-NNNNNN.record.json`: written (atomically) as soon as one shard is renamed into place;
 *   what a killed run resumes from.
 * - `manifest.part-I-of-N.json`: written when part I of N has all its shards; the part's shard
 *   records are then removed.
 * - `manifest.json`: written once the part manifests together cover every shard, by whichever
 *   part finishes last (or `dataset --merge`). Its content depends only on the spec and the shard
 *   bytes (no times, no host names), so two parts merging at once write identical bytes and the
 *   atomic rename makes either one win: safe on a shared (NFS, CephFS) folder.
 *
 * Every record carries the spec's digest; records of another spec in the folder are an error.
 */
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { BigGanError } from '../errors.js';
import { listFolder, TEMP_SUFFIX, writeFileAtomic } from './files.js';
import { DATASET_FORMAT, shardCount, shardName, specDigest, specJson, totalSamples, type DatasetSpec } from './spec.js';

/** One finished shard. */
export interface ShardRecord {
  readonly name: string;
  readonly samples: number;
  readonly bytes: number;
  /** SHA-256 of the shard file, lowercase hex. */
  readonly sha256: string;
}

export const MANIFEST = 'manifest.json';
const PART_MANIFEST = /^manifest\.part-(\d+)-of-(\d+)\.json$/;
const RECORD_SUFFIX = '.record.json';

/** `manifest.part-I-of-N.json`. */
export function partManifestName(part: number, parts: number): string {
  return `manifest.part-${part}-of-${parts}.json`;
}

/** `<prefix>-NNNNNN.record.json` of a shard name. */
export function recordName(shard: string): string {
  return shard.replace(/\.tar$/, RECORD_SUFFIX);
}

/** The bytes of a record file: stable key order, trailing newline. */
function recordText(spec: DatasetSpec, extra: Record<string, unknown>): string {
  return `${JSON.stringify({ format: DATASET_FORMAT, spec_sha256: specDigest(spec), ...extra }, null, 2)}\n`;
}

/** Writes the record of one finished shard. */
export async function writeShardRecord(dir: string, spec: DatasetSpec, record: ShardRecord): Promise<void> {
  await writeFileAtomic(dir, recordName(record.name), recordText(spec, { shard: record }));
}

/** Writes part I of N's manifest, then removes the shard records it folds in. */
export async function writePartManifest(
  dir: string,
  spec: DatasetSpec,
  part: number,
  parts: number,
  shards: readonly ShardRecord[],
): Promise<void> {
  await writeFileAtomic(
    dir,
    partManifestName(part, parts),
    recordText(spec, { spec: specJson(spec), part, parts, shards }),
  );
  await Promise.all(shards.map((s) => rm(path.join(dir, recordName(s.name)), { force: true })));
}

interface RecordFile {
  readonly file: string;
  readonly shards: readonly ShardRecord[];
  readonly part?: { part: number; parts: number };
}

async function readRecordFile(dir: string, file: string, digest: string): Promise<RecordFile | undefined> {
  let raw: {
    format?: string;
    spec_sha256?: string;
    shard?: ShardRecord;
    shards?: ShardRecord[];
    part?: number;
    parts?: number;
  };
  try {
    raw = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as typeof raw;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // removed by a finishing part meanwhile
    throw new BigGanError(
      'IO_ERROR',
      `${path.join(dir, file)}: unreadable dataset record (${(err as Error).message}); remove it and rerun`,
      { cause: err },
    );
  }
  if (raw.format !== DATASET_FORMAT || raw.spec_sha256 !== digest) {
    throw new BigGanError(
      'INVALID_ARGUMENT',
      `--out ${dir} holds another dataset (${file} has a different spec: model, weights, classes, per-class, truncation, seed, format, shard size or prefix); ` +
        'give the same options as before, or another --out',
    );
  }
  const shards = raw.shard ? [raw.shard] : (raw.shards ?? []);
  return {
    file,
    shards,
    ...(raw.part !== undefined && raw.parts !== undefined ? { part: { part: raw.part, parts: raw.parts } } : {}),
  };
}

/** Every record in the folder of this spec (manifest, part manifests, shard records), by shard name. */
export async function knownShards(
  dir: string,
  spec: DatasetSpec,
): Promise<{ shards: Map<string, ShardRecord>; partManifests: RecordFile[] }> {
  const digest = specDigest(spec);
  const files = (await listFolder(dir))
    .filter((f) => f === MANIFEST || PART_MANIFEST.test(f) || f.endsWith(RECORD_SUFFIX))
    .sort();
  const shards = new Map<string, ShardRecord>();
  const partManifests: RecordFile[] = [];
  for (const f of files) {
    const rec = await readRecordFile(dir, f, digest);
    if (!rec) continue;
    if (rec.part) partManifests.push(rec);
    for (const s of rec.shards) shards.set(s.name, s);
  }
  return { shards, partManifests };
}

/** The complete manifest's bytes from the shard records (shards in order). */
function manifestText(spec: DatasetSpec, records: readonly ShardRecord[]): string {
  return recordText(spec, {
    spec: specJson(spec),
    weights_sha256: spec.weightsSha256,
    samples: totalSamples(spec),
    shards: records,
  });
}

/**
 * Writes manifest.json when the part manifests cover every shard, then removes leftovers (shard
 * records, temporary shard files of killed runs). Returns the missing shard names (empty: merged).
 */
export async function mergeManifest(dir: string, spec: DatasetSpec): Promise<string[]> {
  const { partManifests } = await knownShards(dir, spec);
  const byName = new Map<string, ShardRecord>();
  for (const p of partManifests) for (const s of p.shards) byName.set(s.name, s);
  const names = Array.from({ length: shardCount(spec) }, (_, k) => shardName(spec.prefix, k));
  const missing = names.filter((n) => !byName.has(n));
  if (missing.length > 0) return missing;
  await writeFileAtomic(
    dir,
    MANIFEST,
    manifestText(
      spec,
      names.map((n) => byName.get(n)!),
    ),
  );
  await sweepLeftovers(dir, spec.prefix);
  return [];
}

/**
 * Removes shard records and temporary files of shards (any host, any process): once every part is
 * done nobody writes them. Temporary manifests are left alone: another part may be merging now.
 */
async function sweepLeftovers(dir: string, prefix: string): Promise<void> {
  const files = await listFolder(dir);
  const stale = files.filter(
    (f) =>
      (f.startsWith(`${prefix}-`) && f.endsWith(RECORD_SUFFIX)) ||
      (f.endsWith(TEMP_SUFFIX) && (f.startsWith(`.${prefix}-`) || f.startsWith('.write-probe.'))),
  );
  await Promise.all(stale.map((f) => rm(path.join(dir, f), { force: true })));
}

/** Reads manifest.json's spec back (for `dataset --merge`, which is given only the folder). */
export async function readSpecFromPartManifests(dir: string): Promise<DatasetSpec> {
  const files = (await listFolder(dir)).filter((f) => PART_MANIFEST.test(f) || f === MANIFEST).sort();
  if (files.length === 0)
    throw new BigGanError('INVALID_ARGUMENT', `--out ${dir}: no manifest.part-I-of-N.json there; run the parts first`);
  const raw = JSON.parse(await readFile(path.join(dir, files[0]), 'utf8')) as { spec: Record<string, unknown> };
  const s = raw.spec;
  return {
    model: String(s.model),
    weightsSha256: String(s.weights_sha256),
    classes: s.classes as number[],
    perClass: Number(s.per_class),
    truncation: Number(s.truncation),
    seed: String(s.seed),
    format: s.format as DatasetSpec['format'],
    shardSize: Number(s.shard_size),
    prefix: String(s.prefix),
  };
}
