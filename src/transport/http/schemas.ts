/**
 * JSON schemas of the REST API: request validation (unknown fields rejected) and the OpenAPI
 * document's components. Semantic checks (truncation range, class names, row lengths) live in the
 * service, so both transports give the same messages.
 */
import { MAX_ABS_Z } from '../../latents/class-vector.js';

const classSpec = {
  description: 'A class: index 0-999, WordNet id ("n02099601"), name or synonym ("golden retriever", case-insensitive), or a mixture {"<class>": weight}.',
  oneOf: [
    { type: 'integer', minimum: 0 },
    { type: 'string', minLength: 1, maxLength: 200 },
    { type: 'object', additionalProperties: { type: 'number', minimum: 0 }, minProperties: 1, maxProperties: 1000 },
  ],
} as const;

const rows = (what: string, item: Record<string, unknown> = { type: 'number' }) => ({
  type: 'array',
  description: `${what}: one row per sample.`,
  minItems: 1,
  maxItems: 1024,
  items: { type: 'array', items: item, maxItems: 100_000 },
});

/** One value of an explicit latent: the prior lives in [-2, 2]; past +-MAX_ABS_Z the image is meaningless. */
const zValue = { type: 'number', minimum: -MAX_ABS_Z, maximum: MAX_ABS_Z } as const;

const seed = {
  description: 'Noise seed, an unsigned 64-bit integer (as a JSON number up to 2^53-1, or a decimal string). Sample i uses seed + i.',
  oneOf: [{ type: 'integer', minimum: 0 }, { type: 'string', pattern: '^[0-9]{1,20}$' }],
} as const;

const common = {
  truncation: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.4, description: 'Truncation 0 < t <= 1: z = t * truncnorm(-2, 2), and it selects the batch-norm statistics.' },
  timeoutMs: { type: 'integer', minimum: 1, maximum: 600_000, description: 'Most time the request may wait in the queue, ms; past it the answer is 504.' },
  priority: { type: 'string', enum: ['normal', 'high'], default: 'normal', description: '`high` requests are batched before `normal` ones.' },
} as const;

/** Body of POST /generate. */
export const generateBody = {
  $id: 'GenerateRequest',
  type: 'object',
  additionalProperties: false,
  properties: {
    class: { description: 'One class for every sample, or a list with one per sample.', oneOf: [classSpec, { type: 'array', items: classSpec, minItems: 1, maxItems: 1024 }] },
    classVector: rows('Explicit class vectors (num_classes numbers each, non-negative)'),
    truncation: common.truncation,
    seed,
    z: rows(`Explicit latents (z_dim numbers each, each within [-${MAX_ABS_Z}, ${MAX_ABS_Z}]; the prior lives in [-2, 2]), used as given`, zValue),
    count: { type: 'integer', minimum: 1, description: 'Number of samples (default: the number of rows or classes given, else 1).' },
    format: { type: 'string', enum: ['png', 'jpeg', 'webp'], default: 'png' },
    grid: { type: 'boolean', default: false, description: 'Answer one grid image of all samples.' },
    timeoutMs: common.timeoutMs,
    priority: common.priority,
  },
} as const;

const endpoint = {
  type: 'object',
  additionalProperties: false,
  description: 'An interpolation endpoint: seed or z, and class or classVector.',
  properties: {
    seed,
    z: { type: 'array', items: zValue, maxItems: 100_000, description: `Explicit latent (z_dim numbers, each within [-${MAX_ABS_Z}, ${MAX_ABS_Z}]).` },
    class: classSpec,
    classVector: { type: 'array', items: { type: 'number' }, maxItems: 100_000, description: 'Explicit class vector (num_classes numbers).' },
  },
} as const;

/** Body of POST /interpolate. */
export const interpolateBody = {
  $id: 'InterpolateRequest',
  type: 'object',
  additionalProperties: false,
  required: ['from', 'to'],
  properties: {
    from: endpoint,
    to: endpoint,
    frames: { type: 'integer', minimum: 2, default: 8, description: 'Frames including both endpoints.' },
    method: { type: 'string', enum: ['lerp', 'slerp'], default: 'lerp', description: 'Interpolation of z (class vectors always lerp).' },
    truncation: common.truncation,
    format: { type: 'string', enum: ['gif', 'webp', 'png', 'jpeg'], default: 'gif', description: 'gif/webp: an animation; png/jpeg: JSON frames; with `grid`, png/jpeg/webp give one grid image (default png; gif with grid is refused).' },
    grid: { type: 'boolean', default: false, description: 'Answer one still image of all frames (format png, jpeg or webp; not gif).' },
    timeoutMs: common.timeoutMs,
    priority: common.priority,
  },
} as const;

/** JSON error body of every 4xx/5xx answer. */
export const errorBody = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string', description: 'INVALID_ARGUMENT, PAYLOAD_TOO_LARGE, REQUEST_TIMEOUT, METHOD_NOT_ALLOWED, OVERLOADED, DEADLINE_EXCEEDED, UNAVAILABLE, NOT_FOUND, INTERNAL, ...' },
        message: { type: 'string' },
        field: { type: 'string', description: 'The request field at fault, for INVALID_ARGUMENT.' },
      },
      required: ['code', 'message'],
    },
  },
} as const;

/** One image in a JSON answer. */
export const imageJson = {
  type: 'object',
  properties: {
    data: { type: 'string', description: 'Base64-encoded image bytes.' },
    mimeType: { type: 'string' },
    seed: { description: 'Seed reproducing this image alone (absent for explicit z).', oneOf: [{ type: 'integer' }, { type: 'string' }] },
    truncation: { type: 'number' },
    class: { type: 'object', additionalProperties: { type: 'number' }, description: 'Non-zero class weights by index.' },
    index: { type: 'integer' },
    t: { type: 'number', description: 'Interpolation position 0..1 (interpolate only).' },
  },
} as const;
