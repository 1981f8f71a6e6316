/**
 * Mapping between biggan.proto messages (as @grpc/proto-loader decodes them with
 * PROTO_LOADER_OPTIONS) and the service's transport-neutral requests and results. Only wire
 * concerns live here: proto3 zero values become "unset", flattened rows become JSON-style rows,
 * enums become the service's names and seeds become bigint. What the values mean is validated by
 * the service, so REST and gRPC give the same answers.
 */
import { BigGanError, invalidArgument, quoteValue } from '../../errors.js';
import { flatRows, type ClassSpec } from '../../latents/class-vector.js';
import type { ImageFormat, AnimationFormat } from '../../image/encode.js';
import type {
  ClassInfo, Endpoint, GeneratedImage, GenerateRequest, GenerateResult, InterpolateRequest,
  InterpolateResult, InterpolationFrame, ModelInfo, Priority,
} from '../../service/types.js';

/** biggan.v1.ClassSpec as decoded: `spec` names the member that is set (absent: none). */
export interface ClassSpecMessage {
  spec?: 'index' | 'name' | 'mixture';
  index?: number;
  name?: string;
  mixture?: { weights: Record<string, number> } | null;
}

/** biggan.v1.GenerateRequest as decoded (uint64 as decimal string, enums as names). */
export interface GenerateRequestMessage {
  classes: ClassSpecMessage[];
  classVector: number[];
  truncation: number;
  seed?: string;
  z: number[];
  count: number;
  format: string;
  grid: boolean;
  timeoutMs: number;
  priority: string;
}

/** biggan.v1.Endpoint as decoded. */
export interface EndpointMessage {
  seed?: string;
  z: number[];
  class: ClassSpecMessage | null;
  classVector: number[];
}

/** biggan.v1.InterpolateRequest as decoded. */
export interface InterpolateRequestMessage {
  from: EndpointMessage | null;
  to: EndpointMessage | null;
  frames: number;
  method: string;
  truncation: number;
  format: string;
  grid: boolean;
  timeoutMs: number;
  priority: string;
}

/** biggan.v1.Image. */
export interface ImageMessage {
  data: Buffer;
  mimeType: string;
  seed?: string;
  truncation: number;
  classWeights: Record<string, number>;
  index: number;
}

/** biggan.v1.GenerateResponse. */
export interface GenerateResponseMessage {
  images: ImageMessage[];
  grid?: ImageMessage;
  seed?: string;
  width: number;
  height: number;
}

/** biggan.v1.Frame: a frame (`image`), or the last message with `animation` or `grid`. */
export interface FrameMessage {
  image: ImageMessage | null;
  t: number;
  index: number;
  animation?: ImageMessage;
  grid?: ImageMessage;
}

/** biggan.v1.ClassInfo. */
export interface ClassInfoMessage {
  index: number;
  wnid: string;
  names: string[];
}

/** biggan.v1.ListClassesResponse. */
export interface ListClassesResponseMessage {
  classes: ClassInfoMessage[];
}

/** biggan.v1.ModelInfo (uint64 `parameters` as a decimal string). */
export interface ModelInfoMessage {
  name: string;
  resolution: number;
  zDim: number;
  numClasses: number;
  parameters: string;
  engine: string;
  backend: string;
  maxSamplesPerRequest: number;
  maxBatchSize: number;
  truncation: { min: number; max: number; defaultValue: number };
  formats: string[];
}

/** The model dimensions the codec needs to un-flatten rows. */
export type ModelShape = Pick<ModelInfo, 'zDim' | 'numClasses'>;

/**
 * The shortest decimal that rounds to the same float32 as `v`. A proto `float` of 0.4 arrives as
 * 0.4000000059604645; the service treats truncation as a double (it picks batch-norm rows from
 * it), so without this a gRPC 0.4 would be off the statistics grid where the REST 0.4 is on it.
 */
export function float32Decimal(v: number): number {
  if (!Number.isFinite(v)) return v;
  const f = Math.fround(v);
  for (let digits = 1; digits <= 9; digits++) {
    const d = Number(f.toPrecision(digits));
    if (Math.fround(d) === f) return d;
  }
  return f; // unreachable: 9 significant digits always round-trip a float32
}

function classSpec(msg: ClassSpecMessage | null | undefined, field: string): ClassSpec {
  switch (msg?.spec) {
    case 'index':
      return msg.index ?? 0;
    case 'name':
      return msg.name ?? '';
    case 'mixture':
      return { ...(msg.mixture?.weights ?? {}) };
    default:
      throw invalidArgument(field, 'must set one of index, name or mixture');
  }
}

/** What a row holds: a latent (bounded) or a class vector (non-negative). */
type RowKind = 'z' | 'classVector';

/** Flattened row-major floats -> JSON-style rows (the service's form), validated by flatRows. */
function rows(values: readonly number[], width: number, field: string, kind: RowKind): number[][] {
  const flat = flatRows(values, width, field, { nonNegative: kind === 'classVector', latent: kind === 'z' });
  const out: number[][] = [];
  for (let at = 0; at < flat.length; at += width) out.push(Array.from(flat.subarray(at, at + width)));
  return out;
}

/** One row of exactly `width` floats (an endpoint's z or class vector). */
function row(values: readonly number[], width: number, field: string, kind: RowKind): number[] {
  if (values.length !== width) throw invalidArgument(field, `must hold exactly ${width} values, got ${values.length}`);
  return Array.from(flatRows(values, width, field, { nonNegative: kind === 'classVector', latent: kind === 'z' }));
}

function priority(value: string | number): Priority {
  if (value === 'NORMAL') return 'normal';
  if (value === 'HIGH') return 'high';
  throw invalidArgument('priority', `must be NORMAL or HIGH, got ${quoteValue(value)}`);
}

function method(value: string | number): 'lerp' | 'slerp' | undefined {
  if (value === 'INTERPOLATION_METHOD_UNSPECIFIED') return undefined;
  if (value === 'LERP') return 'lerp';
  if (value === 'SLERP') return 'slerp';
  throw invalidArgument('method', `must be LERP or SLERP, got ${quoteValue(value)}`);
}

function seed(value: string | undefined): bigint | undefined {
  // uint64 decoded with `longs: String`: always a decimal string in 0..2^64-1 when present.
  return value === undefined ? undefined : BigInt(value);
}

/** The request fields shared by Generate and Interpolate; zero values become unset. */
function common(msg: { truncation: number; format: string; timeoutMs: number; priority: string; grid: boolean }) {
  return {
    ...(msg.truncation !== 0 ? { truncation: float32Decimal(msg.truncation) } : {}),
    ...(msg.format !== '' ? { format: msg.format as ImageFormat } : {}),
    ...(msg.timeoutMs !== 0 ? { timeoutMs: msg.timeoutMs } : {}),
    ...(msg.grid ? { grid: true } : {}),
    priority: priority(msg.priority),
  };
}

/** biggan.v1.GenerateRequest -> GenerateRequest; throws INVALID_ARGUMENT for wire-level mistakes. */
export function toGenerateRequest(msg: GenerateRequestMessage, model: ModelShape): GenerateRequest {
  const classes = msg.classes.map((c, i) => classSpec(c, `classes[${i}]`));
  const seedValue = seed(msg.seed);
  return {
    // One entry applies to every sample; several give one per sample.
    ...(classes.length === 1 ? { class: classes[0] } : classes.length > 1 ? { class: classes } : {}),
    ...(msg.classVector.length > 0 ? { classVector: rows(msg.classVector, model.numClasses, 'class_vector', 'classVector') } : {}),
    ...(seedValue !== undefined ? { seed: seedValue } : {}),
    ...(msg.z.length > 0 ? { z: rows(msg.z, model.zDim, 'z', 'z') } : {}),
    ...(msg.count !== 0 ? { count: msg.count } : {}),
    ...common(msg),
  };
}

function endpoint(msg: EndpointMessage | null, field: string, model: ModelShape): Endpoint {
  if (msg === null || msg === undefined) throw invalidArgument(field, 'is required: an Endpoint with seed or z, and class or class_vector');
  const seedValue = seed(msg.seed);
  return {
    ...(seedValue !== undefined ? { seed: seedValue } : {}),
    ...(msg.z.length > 0 ? { z: row(msg.z, model.zDim, `${field}.z`, 'z') } : {}),
    ...(msg.class !== null && msg.class !== undefined ? { class: classSpec(msg.class, `${field}.class`) } : {}),
    ...(msg.classVector.length > 0 ? { classVector: row(msg.classVector, model.numClasses, `${field}.class_vector`, 'classVector') } : {}),
  };
}

/** biggan.v1.InterpolateRequest -> InterpolateRequest; throws INVALID_ARGUMENT for wire-level mistakes. */
export function toInterpolateRequest(msg: InterpolateRequestMessage, model: ModelShape): InterpolateRequest {
  const m = method(msg.method);
  const { format, ...rest } = common(msg);
  return {
    from: endpoint(msg.from, 'from', model),
    to: endpoint(msg.to, 'to', model),
    ...(msg.frames !== 0 ? { frames: msg.frames } : {}),
    ...(m !== undefined ? { method: m } : {}),
    ...(format !== undefined ? { format: format as ImageFormat | AnimationFormat } : {}),
    ...rest,
  };
}

function imageMessage(img: GeneratedImage): ImageMessage {
  return {
    data: img.data,
    mimeType: img.mimeType,
    ...(img.seed !== undefined ? { seed: img.seed.toString() } : {}),
    truncation: img.truncation,
    classWeights: img.class,
    index: img.index,
  };
}

function combinedImage(img: { data: Buffer; mimeType: string }): ImageMessage {
  return { data: img.data, mimeType: img.mimeType, truncation: 0, classWeights: {}, index: 0 };
}

/** GenerateResult -> biggan.v1.GenerateResponse (seeds as decimal strings, exact to 2^64-1). */
export function toGenerateResponse(result: GenerateResult): GenerateResponseMessage {
  return {
    images: result.images.map(imageMessage),
    ...(result.grid ? { grid: combinedImage(result.grid) } : {}),
    ...(result.seed !== undefined ? { seed: result.seed.toString() } : {}),
    width: result.width,
    height: result.height,
  };
}

/** One interpolation frame -> biggan.v1.Frame. */
export function toFrameMessage(frame: InterpolationFrame): FrameMessage {
  return { image: imageMessage(frame), t: frame.t, index: frame.index };
}

/** The last Frame message for an animation or grid (index = number of frames); none otherwise. */
export function toClosingFrame(result: InterpolateResult): FrameMessage | undefined {
  if (!result.animation && !result.grid) return undefined;
  return {
    image: null,
    t: 1,
    index: result.frames.length,
    ...(result.animation ? { animation: combinedImage(result.animation) } : {}),
    ...(result.grid ? { grid: combinedImage(result.grid) } : {}),
  };
}

/** The class list -> biggan.v1.ListClassesResponse. */
export function toListClassesResponse(classes: readonly ClassInfo[]): ListClassesResponseMessage {
  return { classes: classes.map((c) => ({ index: c.index, wnid: c.wnid, names: [...c.names] })) };
}

/** ModelInfo -> biggan.v1.ModelInfo. */
export function toModelInfoMessage(model: ModelInfo): ModelInfoMessage {
  return {
    name: model.name,
    resolution: model.resolution,
    zDim: model.zDim,
    numClasses: model.numClasses,
    parameters: String(model.parameters),
    engine: model.engine,
    backend: model.backend,
    maxSamplesPerRequest: model.maxSamplesPerRequest,
    maxBatchSize: model.maxBatchSize,
    truncation: { min: model.truncation.min, max: model.truncation.max, defaultValue: model.truncation.default },
    formats: [...model.formats],
  };
}

const snake = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * Renames a field path from the service's (REST) names to the .proto's: `classVector[1][3]` ->
 * `class_vector[1][3]`, `timeoutMs` -> `timeout_ms`, and for Generate `class` -> `classes`
 * (`classes[0]` when the request gave one spec). Quoted mixture keys are left as they are.
 */
export function protoFieldPath(field: string, rpc: 'generate' | 'interpolate', singleClass: boolean): string {
  const cut = field.indexOf('["');
  const head = cut < 0 ? field : field.slice(0, cut);
  const tail = cut < 0 ? '' : field.slice(cut);
  let renamed = head.replace(/(^|\.)([A-Za-z]+)/g, (_m, dot: string, name: string) => dot + snake(name));
  if (rpc === 'generate' && /^class(?=$|\[)/.test(renamed)) renamed = renamed.replace(/^class/, singleClass ? 'classes[0]' : 'classes');
  return renamed + tail;
}

/**
 * A service INVALID_ARGUMENT with its field (and the message's leading "field:") renamed to the
 * .proto's names; any other error is returned unchanged.
 */
export function withProtoField(err: unknown, rpc: 'generate' | 'interpolate', singleClass: boolean): unknown {
  if (!(err instanceof BigGanError) || err.code !== 'INVALID_ARGUMENT' || err.field === undefined) return err;
  const field = protoFieldPath(err.field, rpc, singleClass);
  if (field === err.field) return err;
  const prefix = `${err.field}:`;
  const message = err.message.startsWith(prefix) ? `${field}:${err.message.slice(prefix.length)}` : err.message;
  return new BigGanError('INVALID_ARGUMENT', message, { field, cause: err });
}
