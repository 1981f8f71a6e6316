/**
 * What a dataset is: its spec (classes, samples per class, truncation, seed, format, shard size),
 * and the fixed layout every run, part and resume agrees on: sample order, per-sample seeds, keys,
 * shard names and which part owns which shard. Pure functions: no files, no engine.
 */
import { createHash } from 'node:crypto';
import { resolveClass, listClasses, IMAGENET_NUM_CLASSES } from '../latents/imagenet-classes.js';
import { parseSeed, seedForSample } from '../latents/prng.js';
import type { ImageFormat } from '../image/encode.js';
import { invalidArgument } from '../errors.js';

/** Version tag written into every record, so a reader can tell our layout apart from a later one. */
export const DATASET_FORMAT = 'biggan-serve-dataset/1';

/** Everything that decides a dataset's bytes (with the weights). */
export interface DatasetSpec {
  /** Model name as the server names it (the model folder's name), for POST /generate's `model`. */
  readonly model: string;
  /** SHA-256 of config.json and the weight file, as the server computes it (hex). */
  readonly weightsSha256: string;
  /** Class indices in sample order. */
  readonly classes: readonly number[];
  readonly perClass: number;
  readonly truncation: number;
  /** Base seed (0..2^64-1) as decimal text: JSON has no 64-bit integers. */
  readonly seed: string;
  readonly format: ImageFormat;
  readonly shardSize: number;
  /** Shard name prefix: shards are `<prefix>-000000.tar`, ... */
  readonly prefix: string;
}

/** One sample's place and inputs. */
export interface SampleInfo {
  /** Index in the whole dataset (0-based, dataset order). */
  readonly index: number;
  readonly key: string;
  readonly classIndex: number;
  /** Seed that reproduces this sample alone with POST /generate count 1. */
  readonly seed: bigint;
}

const CLASS_RANGE = /^(\d+)\s*-\s*(\d+)$/;

/**
 * The classes of `--classes`: comma-separated items, each an index, a range `a-b` (inclusive), a
 * WordNet id or a class name. A name that contains a comma (ImageNet has few) is still matched
 * when the whole text is one name. Duplicates are refused: each class appears once.
 */
export function parseClassList(raw: string, numClasses: number, field = '--classes'): number[] {
  const whole = raw.trim();
  if (whole === '')
    throw invalidArgument(field, `is empty; give indices, ranges (0-${numClasses - 1}), WordNet ids or class names`);
  if (!CLASS_RANGE.test(whole) && !/^\d+$/.test(whole) && whole.includes(',') && numClasses === IMAGENET_NUM_CLASSES) {
    const exact = listClasses().find((c) => c.names.some((n) => n.toLowerCase() === whole.toLowerCase()));
    if (exact) return [exact.index];
  }
  const out: number[] = [];
  for (const item of whole.split(',').map((s) => s.trim())) {
    if (item === '') throw invalidArgument(field, `has an empty item in ${JSON.stringify(raw)}`);
    const range = CLASS_RANGE.exec(item);
    if (range) {
      const [a, b] = [
        resolveClass(Number(range[1]), field, numClasses),
        resolveClass(Number(range[2]), field, numClasses),
      ];
      if (b < a) throw invalidArgument(field, `range ${item} runs backwards; write ${b}-${a}`);
      for (let c = a; c <= b; c++) out.push(c);
    } else {
      out.push(resolveClass(/^\d+$/.test(item) ? Number(item) : item, field, numClasses));
    }
  }
  const seen = new Set<number>();
  for (const c of out) {
    if (seen.has(c)) throw invalidArgument(field, `lists class ${c} twice; each class may appear once`);
    seen.add(c);
  }
  return out;
}

/** Samples in the dataset. */
export function totalSamples(spec: Pick<DatasetSpec, 'classes' | 'perClass'>): number {
  return spec.classes.length * spec.perClass;
}

/** Number of shards: ceil(total / shardSize). */
export function shardCount(spec: Pick<DatasetSpec, 'classes' | 'perClass' | 'shardSize'>): number {
  return Math.ceil(totalSamples(spec) / spec.shardSize);
}

/** The sample indices [start, end) of shard k: kK .. kK+K-1, the last one possibly shorter. */
export function shardRange(
  spec: Pick<DatasetSpec, 'classes' | 'perClass' | 'shardSize'>,
  k: number,
): { start: number; end: number } {
  const start = k * spec.shardSize;
  return { start, end: Math.min(start + spec.shardSize, totalSamples(spec)) };
}

/** `<prefix>-000042.tar` (six digits, more only past 999999 shards). */
export function shardName(prefix: string, k: number): string {
  return `${prefix}-${String(k).padStart(6, '0')}.tar`;
}

/** Digits of every key of a dataset: at least 9, so keys sort as numbers do. */
function keyDigits(total: number): number {
  return Math.max(9, String(Math.max(0, total - 1)).length);
}

/** Sample `i`: its class (by class then index within it), seed `(seed + i) mod 2^64` and key. */
export function sampleInfo(spec: DatasetSpec, i: number): SampleInfo {
  const classIndex = spec.classes[Math.floor(i / spec.perClass)];
  return {
    index: i,
    key: String(i).padStart(keyDigits(totalSamples(spec)), '0'),
    classIndex,
    seed: seedForSample(parseSeed(spec.seed), i),
  };
}

/** The fixed part assignment: shard k belongs to part k mod N. */
export function partOfShard(k: number, parts: number): number {
  return k % parts;
}

/** The shards of part `part` of `parts`, ascending. */
export function shardsOfPart(spec: DatasetSpec, part: number, parts: number): number[] {
  const out: number[] = [];
  for (let k = part; k < shardCount(spec); k += parts) out.push(k);
  return out;
}

/** The spec as written into manifests (snake_case, stable key order). */
export function specJson(spec: DatasetSpec): Record<string, unknown> {
  return {
    model: spec.model,
    weights_sha256: spec.weightsSha256,
    classes: spec.classes,
    per_class: spec.perClass,
    truncation: spec.truncation,
    seed: spec.seed,
    format: spec.format,
    shard_size: spec.shardSize,
    prefix: spec.prefix,
  };
}

/** SHA-256 of the spec's JSON: records of another dataset in the same folder are told apart by it. */
export function specDigest(spec: DatasetSpec): string {
  return createHash('sha256')
    .update(JSON.stringify(specJson(spec)))
    .digest('hex');
}

/** The class's WordNet id and main name, when the model has the ImageNet classes. */
export function classLabel(classIndex: number, numClasses: number): { wnid: string | null; name: string | null } {
  if (numClasses !== IMAGENET_NUM_CLASSES) return { wnid: null, name: null };
  const c = listClasses()[classIndex];
  return { wnid: c.wnid, name: c.names[0] };
}

/** File extension of a format inside a sample (`.jpg` for JPEG, as loaders expect). */
export function formatExtension(format: ImageFormat): string {
  return format === 'jpeg' ? 'jpg' : format;
}
