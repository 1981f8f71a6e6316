/**
 * Validating a request and turning it into samples (z, class vector, truncation), the only place
 * where request fields are interpreted. Every error names the field and the allowed values.
 */
import type { BigGanConfig } from '../model/config.js';
import { checkTruncation } from '../model/batch-norm-stats.js';
import { classVector, parseClassVectorRows, parseZRows, describeClass, type ClassSpec } from '../latents/class-vector.js';
import { sampleZ } from '../latents/truncnorm.js';
import { parseSeed, randomSeed, seedForSample } from '../latents/prng.js';
import { interpolate, INTERPOLATION_METHODS, type InterpolationMethod } from '../latents/interpolate.js';
import { IMAGE_FORMATS, type ImageFormat, type AnimationFormat } from '../image/encode.js';
import { invalidArgument, quoteValue } from '../errors.js';
import type { GenerateRequest, InterpolateRequest, Endpoint, Priority } from './types.js';

/** Default truncation, as in the TF Hub demo. */
export const DEFAULT_TRUNCATION = 0.4;
/** Longest queue timeout a request may ask for, ms. */
export const MAX_TIMEOUT_MS = 10 * 60 * 1000;
const PRIORITIES: readonly Priority[] = ['normal', 'high'];
const ANIMATION_FORMATS: readonly AnimationFormat[] = ['gif', 'webp'];

/** A sample ready for the batcher, with what the response reports about it. */
export interface PlannedSample {
  readonly z: Float32Array; // [zDim]
  readonly classVector: Float32Array; // [numClasses]
  readonly truncation: number;
  /** Seed that reproduces this sample alone (absent for explicit z). */
  readonly seed?: bigint;
  readonly classWeights: Record<string, number>;
}

/** Options common to both request kinds. */
export interface PlannedCall {
  readonly timeoutMs?: number;
  readonly priority: Priority;
}

/** A validated GenerateRequest. */
export interface GeneratePlan extends PlannedCall {
  readonly samples: PlannedSample[];
  readonly format: ImageFormat;
  readonly grid: boolean;
  readonly seed?: bigint;
}

/** A validated InterpolateRequest. */
export interface InterpolatePlan extends PlannedCall {
  readonly samples: PlannedSample[];
  readonly t: number[];
  readonly format: ImageFormat | AnimationFormat;
  readonly grid: boolean;
}

function optionalInt(v: unknown, field: string, min: number, max: number): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw invalidArgument(field, `must be an integer in ${min}..${max}, got ${quoteValue(v)}`);
  }
  return v;
}

function truncationOf(v: unknown): number {
  if (v === undefined || v === null) return DEFAULT_TRUNCATION;
  checkTruncation(v as number);
  return v as number;
}

function commonOptions(req: { timeoutMs?: unknown; priority?: unknown }): PlannedCall {
  const timeoutMs = optionalInt(req.timeoutMs, 'timeoutMs', 1, MAX_TIMEOUT_MS);
  const priority = (req.priority ?? 'normal') as Priority;
  if (!PRIORITIES.includes(priority)) throw invalidArgument('priority', `must be one of ${PRIORITIES.join(', ')}, got ${quoteValue(req.priority)}`);
  return { ...(timeoutMs !== undefined ? { timeoutMs } : {}), priority };
}

function rowsCount(rows: Float32Array, width: number): number {
  return rows.length / width;
}

/** Validates a GenerateRequest against the model and limits; returns its samples. */
export function planGenerate(req: GenerateRequest, config: BigGanConfig, maxSamples: number): GeneratePlan {
  const { zDim, numClasses } = config;
  const truncation = truncationOf(req.truncation);
  const format = (req.format ?? 'png') as ImageFormat;
  if (!IMAGE_FORMATS.includes(format)) throw invalidArgument('format', `must be one of ${IMAGE_FORMATS.join(', ')}, got ${quoteValue(req.format)}`);
  if (req.grid !== undefined && typeof req.grid !== 'boolean') throw invalidArgument('grid', `must be true or false, got ${quoteValue(req.grid)}`);

  // How many samples: the explicit rows or list decide; `count` must agree with them.
  const zRows = req.z !== undefined && req.z !== null ? parseZRows(req.z, zDim, 'z') : undefined;
  const cvRows = req.classVector !== undefined && req.classVector !== null ? parseClassVectorRows(req.classVector, numClasses, 'classVector') : undefined;
  if (cvRows && req.class !== undefined) throw invalidArgument('class', 'give either class or classVector, not both');
  if (!cvRows && req.class === undefined) throw invalidArgument('class', 'is required (an index 0-999, a WordNet id, a name, a {"class": weight} mixture or a list), unless classVector is given');
  const classList = Array.isArray(req.class) ? (req.class as readonly ClassSpec[]) : undefined;
  const counts: [string, number][] = [];
  if (zRows) counts.push(['z', rowsCount(zRows, zDim)]);
  if (cvRows) counts.push(['classVector', rowsCount(cvRows, numClasses)]);
  if (classList) counts.push(['class', classList.length]);
  const requested = optionalInt(req.count, 'count', 1, maxSamples);
  if (requested !== undefined) counts.unshift(['count', requested]);
  const count = counts.length > 0 ? counts[0][1] : 1;
  for (const [field, n] of counts) {
    if (n !== count) throw invalidArgument(field, `gives ${n} samples but ${counts[0][0]} gives ${count}; they must agree`);
  }
  if (count < 1 || count > maxSamples) throw invalidArgument(counts[0]?.[0] ?? 'count', `must give 1..${maxSamples} samples, got ${count}`);

  const seed = zRows ? undefined : req.seed === undefined || req.seed === null ? randomSeed() : parseSeed(req.seed, 'seed');
  if (zRows && req.seed !== undefined && req.seed !== null) throw invalidArgument('seed', 'give either seed or z, not both');
  const single = classList ? undefined : cvRows ? undefined : classVector(req.class as ClassSpec, numClasses, 'class');
  const samples: PlannedSample[] = [];
  for (let i = 0; i < count; i++) {
    const cv = cvRows ? cvRows.slice(i * numClasses, (i + 1) * numClasses) : classList ? classVector(classList[i], numClasses, `class[${i}]`) : single!;
    const sampleSeed = seed !== undefined ? seedForSample(seed, i) : undefined;
    const z = zRows ? zRows.slice(i * zDim, (i + 1) * zDim) : sampleZ(sampleSeed!, zDim, truncation);
    samples.push({ z, classVector: cv, truncation, ...(sampleSeed !== undefined ? { seed: sampleSeed } : {}), classWeights: describeClass(cv) });
  }
  return { samples, format, grid: req.grid ?? false, ...(seed !== undefined ? { seed } : {}), ...commonOptions(req) };
}

function endpoint(e: Endpoint | undefined, field: string, config: BigGanConfig, truncation: number): { z: Float32Array; classVector: Float32Array; seed?: bigint } {
  if (typeof e !== 'object' || e === null || Array.isArray(e)) throw invalidArgument(field, 'must be an object with seed or z, and class or classVector');
  const hasZ = e.z !== undefined && e.z !== null;
  if (hasZ && e.seed !== undefined) throw invalidArgument(`${field}.seed`, 'give either seed or z, not both');
  let z: Float32Array;
  let seed: bigint | undefined;
  if (hasZ) {
    z = parseZRows([e.z], config.zDim, `${field}.z`);
  } else {
    seed = e.seed === undefined ? randomSeed() : parseSeed(e.seed, `${field}.seed`);
    z = sampleZ(seed, config.zDim, truncation);
  }
  const hasCv = e.classVector !== undefined && e.classVector !== null;
  if (hasCv && e.class !== undefined) throw invalidArgument(`${field}.class`, 'give either class or classVector, not both');
  if (!hasCv && e.class === undefined) throw invalidArgument(`${field}.class`, 'is required unless classVector is given');
  const cv = hasCv ? parseClassVectorRows([e.classVector], config.numClasses, `${field}.classVector`) : classVector(e.class!, config.numClasses, `${field}.class`);
  return { z, classVector: cv, ...(seed !== undefined ? { seed } : {}) };
}

/** Validates an InterpolateRequest; returns one sample per frame (all at one truncation). */
export function planInterpolate(req: InterpolateRequest, config: BigGanConfig, maxSamples: number): InterpolatePlan {
  const truncation = truncationOf(req.truncation);
  const frames = optionalInt(req.frames, 'frames', 2, maxSamples) ?? Math.min(8, maxSamples);
  const method = (req.method ?? 'lerp') as InterpolationMethod;
  if (!INTERPOLATION_METHODS.includes(method)) throw invalidArgument('method', `must be one of ${INTERPOLATION_METHODS.join(', ')}, got ${quoteValue(req.method)}`);
  if (req.grid !== undefined && typeof req.grid !== 'boolean') throw invalidArgument('grid', `must be true or false, got ${quoteValue(req.grid)}`);
  // A grid is one still image: without a format it is a PNG, and a GIF grid is refused rather than
  // silently answered as an animation.
  const format = (req.format ?? (req.grid ? 'png' : 'gif')) as ImageFormat | AnimationFormat;
  if (![...ANIMATION_FORMATS, ...IMAGE_FORMATS].includes(format)) throw invalidArgument('format', `must be one of gif, webp (animations), png, jpeg (frames), got ${quoteValue(req.format)}`);
  if (req.grid && format === 'gif') throw invalidArgument('grid', 'a grid is one still image and format gif is an animation: give grid with format png, jpeg or webp, or format gif without grid');
  const from = endpoint(req.from, 'from', config, truncation);
  const to = endpoint(req.to, 'to', config, truncation);
  const path = interpolate(from, to, frames, method);
  const { zDim, numClasses } = config;
  const samples: PlannedSample[] = path.t.map((t, i) => {
    const cv = path.classVector.slice(i * numClasses, (i + 1) * numClasses);
    // An endpoint frame drawn from a seed is reproducible by that seed alone.
    const seed = t === 0 ? from.seed : t === 1 ? to.seed : undefined;
    return { z: path.z.slice(i * zDim, (i + 1) * zDim), classVector: cv, truncation, ...(seed !== undefined ? { seed } : {}), classWeights: describeClass(cv) };
  });
  return { samples, t: path.t, format, grid: req.grid ?? false, ...commonOptions(req) };
}
