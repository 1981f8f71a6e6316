/**
 * Turning a request that passed the contract (contract/schemas.ts) into samples (z, class vector,
 * truncation): the semantic rules that need the model or the server's limits (class names, row
 * lengths, sample counts, which fields go together). Every error names the field and the allowed
 * values. Both transports reach this through the service.
 */
import type { BigGanConfig } from '../model/config.js';

/** The model dimensions planning needs. */
export type ModelShape = Pick<BigGanConfig, 'zDim' | 'numClasses'>;
import { classVector, parseClassVectorRows, parseZRows, describeClass } from '../latents/class-vector.js';
import { sampleZ } from '../latents/truncnorm.js';
import { parseSeed, randomSeed, seedForSample } from '../latents/prng.js';
import { interpolate } from '../latents/interpolate.js';
import { invalidArgument } from '../errors.js';
import {
  DEFAULT_FRAMES,
  DEFAULT_IMAGE_FORMAT,
  DEFAULT_INTERPOLATE_FORMAT,
  DEFAULT_INTERPOLATION_METHOD,
  DEFAULT_PRIORITY,
  DEFAULT_TRUNCATION,
  type AnimationFormat,
  type ImageFormat,
  type Priority,
} from './contract/limits.js';
import type { ClassSpec, GenerateRequest, InterpolateRequest, Endpoint } from './types.js';

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

/** The queue options of a request (already in range: the contract checked them). */
function commonOptions(req: { timeoutMs?: number; priority?: Priority }): PlannedCall {
  return {
    ...(req.timeoutMs !== undefined ? { timeoutMs: req.timeoutMs } : {}),
    priority: req.priority ?? DEFAULT_PRIORITY,
  };
}

/** A sample count within the server's per-request limit. */
function samplesWithin(n: number, field: string, maxSamples: number, min = 1): number {
  if (n < min || n > maxSamples) throw invalidArgument(field, `must give ${min}..${maxSamples} samples, got ${n}`);
  return n;
}

function rowsCount(rows: Float32Array, width: number): number {
  return rows.length / width;
}

/** Validates a GenerateRequest against the model and limits; returns its samples. */
export function planGenerate(req: GenerateRequest, config: ModelShape, maxSamples: number): GeneratePlan {
  const { zDim, numClasses } = config;
  const truncation = req.truncation ?? DEFAULT_TRUNCATION;
  const format: ImageFormat = req.format ?? DEFAULT_IMAGE_FORMAT;

  // How many samples: the explicit rows or list decide; `count` must agree with them.
  const zRows = req.z !== undefined ? parseZRows(req.z, zDim, 'z') : undefined;
  const cvRows =
    req.classVector !== undefined ? parseClassVectorRows(req.classVector, numClasses, 'classVector') : undefined;
  if (cvRows && req.class !== undefined) throw invalidArgument('class', 'give either class or classVector, not both');
  if (!cvRows && req.class === undefined)
    throw invalidArgument(
      'class',
      'is required (an index 0-999, a WordNet id, a name, a {"class": weight} mixture or a list), unless classVector is given',
    );
  const classList: readonly ClassSpec[] | undefined = Array.isArray(req.class) ? req.class : undefined;
  const counts: [string, number][] = [];
  if (zRows) counts.push(['z', rowsCount(zRows, zDim)]);
  if (cvRows) counts.push(['classVector', rowsCount(cvRows, numClasses)]);
  if (classList) counts.push(['class', classList.length]);
  if (req.count !== undefined) counts.unshift(['count', samplesWithin(req.count, 'count', maxSamples)]);
  const count = counts.length > 0 ? counts[0][1] : 1;
  for (const [field, n] of counts) {
    if (n !== count)
      throw invalidArgument(field, `gives ${n} samples but ${counts[0][0]} gives ${count}; they must agree`);
  }
  if (count < 1 || count > maxSamples)
    throw invalidArgument(counts[0]?.[0] ?? 'count', `must give 1..${maxSamples} samples, got ${count}`);

  const seed = zRows ? undefined : req.seed === undefined ? randomSeed() : parseSeed(req.seed, 'seed');
  if (zRows && req.seed !== undefined) throw invalidArgument('seed', 'give either seed or z, not both');
  const single =
    classList || cvRows || req.class === undefined || Array.isArray(req.class)
      ? undefined
      : classVector(req.class, numClasses, 'class');
  const samples: PlannedSample[] = [];
  for (let i = 0; i < count; i++) {
    const cv = cvRows
      ? cvRows.slice(i * numClasses, (i + 1) * numClasses)
      : classList
        ? classVector(classList[i], numClasses, `class[${i}]`)
        : single!;
    const sampleSeed = seed !== undefined ? seedForSample(seed, i) : undefined;
    const z = zRows ? zRows.slice(i * zDim, (i + 1) * zDim) : sampleZ(sampleSeed!, zDim, truncation);
    samples.push({
      z,
      classVector: cv,
      truncation,
      ...(sampleSeed !== undefined ? { seed: sampleSeed } : {}),
      classWeights: describeClass(cv),
    });
  }
  return { samples, format, grid: req.grid ?? false, ...(seed !== undefined ? { seed } : {}), ...commonOptions(req) };
}

function endpoint(
  e: Endpoint,
  field: string,
  config: ModelShape,
  truncation: number,
): { z: Float32Array; classVector: Float32Array; seed?: bigint } {
  const hasZ = e.z !== undefined;
  if (hasZ && e.seed !== undefined) throw invalidArgument(`${field}.seed`, 'give either seed or z, not both');
  let z: Float32Array;
  let seed: bigint | undefined;
  if (hasZ) {
    z = parseZRows([e.z], config.zDim, `${field}.z`);
  } else {
    seed = e.seed === undefined ? randomSeed() : parseSeed(e.seed, `${field}.seed`);
    z = sampleZ(seed, config.zDim, truncation);
  }
  const hasCv = e.classVector !== undefined;
  if (hasCv && e.class !== undefined)
    throw invalidArgument(`${field}.class`, 'give either class or classVector, not both');
  if (!hasCv && e.class === undefined)
    throw invalidArgument(`${field}.class`, 'is required unless classVector is given');
  const cv =
    e.classVector !== undefined
      ? parseClassVectorRows([e.classVector], config.numClasses, `${field}.classVector`)
      : classVector(e.class ?? 0, config.numClasses, `${field}.class`);
  return { z, classVector: cv, ...(seed !== undefined ? { seed } : {}) };
}

/** Validates an InterpolateRequest; returns one sample per frame (all at one truncation). */
export function planInterpolate(req: InterpolateRequest, config: ModelShape, maxSamples: number): InterpolatePlan {
  const truncation = req.truncation ?? DEFAULT_TRUNCATION;
  const frames =
    req.frames !== undefined
      ? samplesWithin(req.frames, 'frames', maxSamples, 2)
      : Math.min(DEFAULT_FRAMES, maxSamples);
  const method = req.method ?? DEFAULT_INTERPOLATION_METHOD;
  // A grid is one still image: without a format it is a PNG, and a GIF grid is refused rather than
  // silently answered as an animation.
  const format: ImageFormat | AnimationFormat = req.format ?? (req.grid ? 'png' : DEFAULT_INTERPOLATE_FORMAT);
  if (req.grid && format === 'gif')
    throw invalidArgument(
      'grid',
      'a grid is one still image and format gif is an animation: give grid with format png, jpeg or webp, or format gif without grid',
    );
  const from = endpoint(req.from, 'from', config, truncation);
  const to = endpoint(req.to, 'to', config, truncation);
  const path = interpolate(from, to, frames, method);
  const { zDim, numClasses } = config;
  const samples: PlannedSample[] = path.t.map((t, i) => {
    const cv = path.classVector.slice(i * numClasses, (i + 1) * numClasses);
    // An endpoint frame drawn from a seed is reproducible by that seed alone.
    const seed = t === 0 ? from.seed : t === 1 ? to.seed : undefined;
    return {
      z: path.z.slice(i * zDim, (i + 1) * zDim),
      classVector: cv,
      truncation,
      ...(seed !== undefined ? { seed } : {}),
      classWeights: describeClass(cv),
    };
  });
  return { samples, t: path.t, format, grid: req.grid ?? false, ...commonOptions(req) };
}
