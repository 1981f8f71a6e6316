/**
 * BigGAN-deep as an Open Inference Protocol model: its input and output tensors (names,
 * datatypes, shapes), and the mapping of one infer request's inputs to the service's generate
 * requests. Sample i takes row i of every batched input:
 *   z FP32 [-1, zDim] or seed INT64 [-1] (sample i drawn as POST /generate {seed: seed[i]} draws it),
 *   class_index INT32/INT64 [-1] or class_vector FP32 [-1, numClasses],
 *   truncation FP32 [-1] (one per sample) or [1] (for all); absent: /generate's default.
 * Outputs: image UINT8 [-1, H, W, 3] (RGB, row-major HWC) and png BYTES [-1].
 */
import { invalidArgument } from '../../errors.js';
import { elementCount, type Tensor } from './tensor.js';
import { MAX_ABS_Z, TRUNCATION_MAX, TRUNCATION_MIN, type ModelInfo } from './service-port.js';

/** The outputs this model gives. */
export const OUTPUT_NAMES = ['image', 'png'] as const;
export type OutputName = (typeof OUTPUT_NAMES)[number];

/** A tensor's description in model metadata. */
export interface TensorMetadata {
  readonly name: string;
  readonly datatype: string;
  readonly shape: number[];
}

/** The model's inputs and outputs as model metadata lists them (the batch dimension is -1). */
export function tensorMetadata(model: ModelInfo): { inputs: TensorMetadata[]; outputs: TensorMetadata[] } {
  return {
    inputs: [
      { name: 'z', datatype: 'FP32', shape: [-1, model.zDim] },
      { name: 'seed', datatype: 'INT64', shape: [-1] },
      { name: 'class_index', datatype: 'INT64', shape: [-1] },
      { name: 'class_vector', datatype: 'FP32', shape: [-1, model.numClasses] },
      { name: 'truncation', datatype: 'FP32', shape: [-1] },
    ],
    outputs: [
      { name: 'image', datatype: 'UINT8', shape: [-1, model.resolution, model.resolution, 3] },
      { name: 'png', datatype: 'BYTES', shape: [-1] },
    ],
  };
}

/** Datatypes each input accepts. */
const INPUT_TYPES: Readonly<Record<string, readonly string[]>> = {
  z: ['FP32'],
  seed: ['INT64', 'UINT64'],
  class_index: ['INT32', 'INT64'],
  class_vector: ['FP32'],
  truncation: ['FP32'],
};

/** One sample, before grouping into generate requests. */
interface Sample {
  readonly seed?: bigint;
  readonly z?: number[];
  readonly classIndex?: number;
  readonly classVector?: number[];
  readonly truncation?: number;
}

/** The inputs by name, each checked for name, datatype and duplicates. */
function byName(inputs: readonly Tensor[]): Map<string, Tensor> {
  const map = new Map<string, Tensor>();
  for (const t of inputs) {
    const allowed = INPUT_TYPES[t.name];
    if (!allowed)
      throw invalidArgument(
        `inputs.${t.name}`,
        `is not an input of this model; inputs: ${Object.keys(INPUT_TYPES).join(', ')}`,
      );
    if (!allowed.includes(t.datatype))
      throw invalidArgument(t.name, `datatype must be ${allowed.join(' or ')}, got ${t.datatype}`);
    if (map.has(t.name)) throw invalidArgument(t.name, 'is given twice');
    if (elementCount(t.shape) !== t.values.length) {
      throw invalidArgument(
        t.name,
        `shape [${t.shape.join(', ')}] holds ${elementCount(t.shape)} elements, but ${t.values.length} were sent`,
      );
    }
    map.set(t.name, t);
  }
  return map;
}

/** Exactly one of two alternative inputs. */
function oneOf(map: Map<string, Tensor>, a: string, b: string): Tensor {
  const ta = map.get(a);
  const tb = map.get(b);
  if (ta && tb) throw invalidArgument(b, `give ${a} or ${b}, not both`);
  const t = ta ?? tb;
  if (!t) throw invalidArgument(`inputs`, `missing input: ${a} or ${b} is required`);
  return t;
}

/** Checks a [-1] or [-1, width] shape and returns the batch size. */
function batchOf(t: Tensor, width?: number): number {
  const want = width === undefined ? '[N]' : `[N, ${width}]`;
  const ok = width === undefined ? t.shape.length === 1 : t.shape.length === 2 && t.shape[1] === width;
  if (!ok) throw invalidArgument(t.name, `shape must be ${want}, got [${t.shape.join(', ')}]`);
  return t.shape[0];
}

function numbers(t: Tensor): number[] {
  return t.values.map((v) => Number(v));
}

function rowsOf(t: Tensor, width: number): number[][] {
  const v = numbers(t);
  return Array.from({ length: t.shape[0] }, (_, i) => v.slice(i * width, (i + 1) * width));
}

/** z rows: |z| <= MAX_ABS_Z, finite. */
function zRows(t: Tensor, model: ModelInfo): number[][] {
  const out = rowsOf(t, model.zDim);
  out.forEach((row, i) =>
    row.forEach((v, j) => {
      if (!(Math.abs(v) <= MAX_ABS_Z))
        throw invalidArgument(`z[${i}][${j}]`, `must be finite with |z| <= ${MAX_ABS_Z}, got ${v}`);
    }),
  );
  return out;
}

function seeds(t: Tensor): bigint[] {
  return t.values.map((v, i) => {
    const s = BigInt(v as number | bigint);
    if (s < 0n) throw invalidArgument(`seed[${i}]`, `must be >= 0 (seeds are unsigned 64-bit), got ${s}`);
    return s;
  });
}

function classIndices(t: Tensor, model: ModelInfo): number[] {
  return t.values.map((v, i) => {
    const c = Number(v);
    if (!Number.isInteger(c) || c < 0 || c >= model.numClasses) {
      throw invalidArgument(`class_index[${i}]`, `must be a class index 0-${model.numClasses - 1}, got ${String(v)}`);
    }
    return c;
  });
}

function classVectors(t: Tensor, model: ModelInfo): number[][] {
  const out = rowsOf(t, model.numClasses);
  out.forEach((row, i) =>
    row.forEach((v, j) => {
      if (!(v >= 0 && Number.isFinite(v)))
        throw invalidArgument(`class_vector[${i}][${j}]`, `must be a finite weight >= 0, got ${v}`);
    }),
  );
  return out;
}

function truncations(t: Tensor | undefined, n: number): (number | undefined)[] {
  if (!t) return new Array<undefined>(n).fill(undefined);
  const len = batchOf(t);
  if (len !== 1 && len !== n)
    throw invalidArgument('truncation', `shape must be [${n}] (one per sample) or [1] (for all), got [${len}]`);
  return Array.from({ length: n }, (_, i) => {
    const v = Number(t.values[len === 1 ? 0 : i]);
    if (!(v > TRUNCATION_MIN && v <= TRUNCATION_MAX)) {
      throw invalidArgument(
        `truncation[${len === 1 ? 0 : i}]`,
        `must be ${TRUNCATION_MIN} < t <= ${TRUNCATION_MAX}, got ${v}`,
      );
    }
    return v;
  });
}

/** The samples of a request, one per row, checked against the model. */
export function samplesOf(inputs: readonly Tensor[], model: ModelInfo): Sample[] {
  const map = byName(inputs);
  const noise = oneOf(map, 'z', 'seed');
  const cls = oneOf(map, 'class_index', 'class_vector');
  const n = batchOf(noise, noise.name === 'z' ? model.zDim : undefined);
  const m = batchOf(cls, cls.name === 'class_vector' ? model.numClasses : undefined);
  if (m !== n)
    throw invalidArgument(
      cls.name,
      `holds ${m} samples but ${noise.name} holds ${n}: every input needs one row per sample`,
    );
  if (n < 1) throw invalidArgument(noise.name, 'must hold at least one sample');
  if (n > model.maxSamplesPerRequest) {
    throw invalidArgument(
      noise.name,
      `holds ${n} samples; at most ${model.maxSamplesPerRequest} per request for model ${model.name}`,
    );
  }
  const z = noise.name === 'z' ? zRows(noise, model) : undefined;
  const s = noise.name === 'seed' ? seeds(noise) : undefined;
  const ci = cls.name === 'class_index' ? classIndices(cls, model) : undefined;
  const cv = cls.name === 'class_vector' ? classVectors(cls, model) : undefined;
  const tr = truncations(map.get('truncation'), n);
  return Array.from({ length: n }, (_, i) => ({
    ...(s ? { seed: s[i] } : { z: z![i] }),
    ...(ci ? { classIndex: ci[i] } : { classVector: cv![i] }),
    ...(tr[i] !== undefined ? { truncation: tr[i] } : {}),
  }));
}

/** True when `next` can join the group ending with `last`: same truncation, and consecutive seeds. */
function continues(last: Sample, next: Sample): boolean {
  if (last.truncation !== next.truncation) return false;
  if (last.seed !== undefined) return next.seed === last.seed + 1n;
  return next.z !== undefined;
}

/**
 * The samples as generate requests, in order. POST /generate draws sample i of a seeded request
 * from seed + i, so a run of consecutive seeds with one truncation is one request (the usual case
 * is a single request); other seeds start a new one. The batcher merges them back into batches.
 */
export function generateRequests(samples: readonly Sample[], model: ModelInfo): Record<string, unknown>[] {
  const groups: Sample[][] = [];
  for (const s of samples) {
    const g = groups.at(-1);
    if (g && continues(g.at(-1)!, s)) g.push(s);
    else groups.push([s]);
  }
  return groups.map((g) => ({
    model: model.name,
    format: 'png',
    ...(g[0].seed !== undefined ? { seed: g[0].seed.toString(), count: g.length } : { z: g.map((s) => s.z!) }),
    ...(g[0].classIndex !== undefined
      ? { class: g.map((s) => s.classIndex!) }
      : { classVector: g.map((s) => s.classVector!) }),
    ...(g[0].truncation !== undefined ? { truncation: g[0].truncation } : {}),
  }));
}
