/**
 * The request contract, written once as TypeBox schemas. From these come: the validation both
 * transports run (`validate.ts`), the TypeScript types the service and REST handlers receive
 * (`Static<...>`), the REST route and response schemas (fast serialisation) and the OpenAPI
 * document (@fastify/swagger). The gRPC mapping (transport/grpc/codec.ts) produces these same
 * shapes from proto messages, so both transports are checked by the same rules with the same
 * messages. Semantic rules that need the model (class names, row lengths, sample counts) live in
 * the service's planning step, also shared by both transports.
 */
import { Type, type Static, type TSchema } from 'typebox';
import {
  ANIMATION_FORMATS,
  DEFAULT_FRAMES,
  DEFAULT_IMAGE_FORMAT,
  DEFAULT_INTERPOLATE_FORMAT,
  DEFAULT_INTERPOLATION_METHOD,
  DEFAULT_PRIORITY,
  DEFAULT_TRUNCATION,
  IMAGE_FORMATS,
  INTERPOLATE_FORMATS,
  INTERPOLATION_METHODS,
  MAX_ABS_Z,
  MAX_CLASS_NAME_CHARS,
  MAX_MIXTURE_ENTRIES,
  MAX_ROW_VALUES,
  MAX_ROWS,
  MAX_TIMEOUT_MS,
  PRIORITIES,
  SEED_PATTERN,
  TRUNCATION_MAX,
  TRUNCATION_MIN,
} from './limits.js';

/** A class: an index, a WordNet id or name, or a weighted mixture of those. */
export const ClassSpecSchema = Type.Union(
  [
    Type.Integer({ minimum: 0, description: 'Class index, e.g. 207 (golden retriever).' }),
    Type.String({
      minLength: 1,
      maxLength: MAX_CLASS_NAME_CHARS,
      description: 'WordNet id ("n02099601") or name/synonym ("golden retriever", case-insensitive).',
    }),
    Type.Record(Type.String(), Type.Number({ minimum: 0 }), {
      minProperties: 1,
      maxProperties: MAX_MIXTURE_ENTRIES,
      description: 'A mixture {"<class>": weight}, e.g. {"207": 0.7, "1": 0.3}; weights >= 0, used as given.',
    }),
  ],
  { description: 'A class: index 0-999, WordNet id, name or synonym, or a mixture {"<class>": weight}.' },
);
export type ClassSpec = Static<typeof ClassSpecSchema>;

/** A seed: unsigned 64-bit, as a JSON number (up to 2^53-1) or a decimal string. */
export const SeedSchema = Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: SEED_PATTERN })], {
  description:
    'Noise seed, an unsigned 64-bit integer (a JSON number up to 2^53-1, or a decimal string). Sample i uses seed + i.',
});

const zValue = Type.Number({ minimum: -MAX_ABS_Z, maximum: MAX_ABS_Z });
const classWeight = Type.Number({ minimum: 0 });
/** One explicit row: a latent (z_dim values) or a class vector (num_classes values). */
const row = <T extends TSchema>(item: T, description: string) =>
  Type.Array(item, { maxItems: MAX_ROW_VALUES, description });
/** Explicit rows, one per sample. */
const rows = <T extends TSchema>(item: T, description: string) =>
  Type.Array(row(item, 'One row.'), {
    minItems: 1,
    maxItems: MAX_ROWS,
    description: `${description}: one row per sample.`,
  });

const Truncation = Type.Number({
  exclusiveMinimum: TRUNCATION_MIN,
  maximum: TRUNCATION_MAX,
  default: DEFAULT_TRUNCATION,
  description: `Truncation ${TRUNCATION_MIN} < t <= ${TRUNCATION_MAX} (default ${DEFAULT_TRUNCATION}): z = t * truncnorm(-2, 2), and it selects the batch-norm statistics. Lower: cleaner, less varied.`,
});
const TimeoutMs = Type.Integer({
  minimum: 1,
  maximum: MAX_TIMEOUT_MS,
  description: 'Most time the request may wait in the queue, ms; past it the answer is 504.',
});
/** The model a request is for (a model repository serves several); absent: the default model. */
const ModelField = Type.String({
  minLength: 1,
  maxLength: 128,
  description: "Model to use, by name (see GET /v1/models); default: the server's default model.",
});
const PriorityField = Type.Enum([...PRIORITIES], {
  default: DEFAULT_PRIORITY,
  description: '`high` requests are batched before `normal` ones.',
});

/** A request's `model` alone: checked before the name is looked up, so its form is refused as INVALID_ARGUMENT. */
export const ModelNameSchema = Type.Object({ model: ModelField });

/** Body of POST /generate (and the service's generate request for both transports). */
export const GenerateRequestSchema = Type.Object(
  {
    class: Type.Optional(
      Type.Union([ClassSpecSchema, Type.Array(ClassSpecSchema, { minItems: 1, maxItems: MAX_ROWS })], {
        description: 'One class for every sample, or a list with one per sample.',
      }),
    ),
    classVector: Type.Optional(rows(classWeight, 'Explicit class vectors (num_classes values each, >= 0)')),
    truncation: Type.Optional(Truncation),
    seed: Type.Optional(SeedSchema),
    z: Type.Optional(rows(zValue, `Explicit latents (z_dim values each, |z| <= ${MAX_ABS_Z}), used as given`)),
    count: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: 'Number of samples (default: the number of rows or classes given, else 1).',
      }),
    ),
    format: Type.Optional(Type.Enum([...IMAGE_FORMATS], { default: DEFAULT_IMAGE_FORMAT })),
    grid: Type.Optional(Type.Boolean({ default: false, description: 'Answer one grid image of all samples.' })),
    timeoutMs: Type.Optional(TimeoutMs),
    priority: Type.Optional(PriorityField),
    model: Type.Optional(ModelField),
  },
  { additionalProperties: false, title: 'GenerateRequest' },
);
export type GenerateRequest = Static<typeof GenerateRequestSchema>;

/** An interpolation endpoint: seed or z, and class or classVector. */
export const EndpointSchema = Type.Object(
  {
    seed: Type.Optional(SeedSchema),
    z: Type.Optional(row(zValue, `Explicit latent (z_dim values, |z| <= ${MAX_ABS_Z}).`)),
    class: Type.Optional(ClassSpecSchema),
    classVector: Type.Optional(row(classWeight, 'Explicit class vector (num_classes values, >= 0).')),
  },
  { additionalProperties: false, description: 'An interpolation endpoint: seed or z, and class or classVector.' },
);
export type Endpoint = Static<typeof EndpointSchema>;

/** Body of POST /interpolate. */
export const InterpolateRequestSchema = Type.Object(
  {
    from: EndpointSchema,
    to: EndpointSchema,
    frames: Type.Optional(
      Type.Integer({ minimum: 2, default: DEFAULT_FRAMES, description: 'Frames including both endpoints.' }),
    ),
    method: Type.Optional(
      Type.Enum([...INTERPOLATION_METHODS], {
        default: DEFAULT_INTERPOLATION_METHOD,
        description: 'Interpolation of z (class vectors always lerp).',
      }),
    ),
    truncation: Type.Optional(Truncation),
    format: Type.Optional(
      Type.Enum([...INTERPOLATE_FORMATS], {
        default: DEFAULT_INTERPOLATE_FORMAT,
        description: `${ANIMATION_FORMATS.join('/')}: an animation; ${IMAGE_FORMATS.filter((f) => f !== 'webp').join('/')}: JSON frames, or one grid image with \`grid\`.`,
      }),
    ),
    grid: Type.Optional(
      Type.Boolean({
        default: false,
        description: 'Answer one grid image of all frames (not with an animation format).',
      }),
    ),
    timeoutMs: Type.Optional(TimeoutMs),
    priority: Type.Optional(PriorityField),
    model: Type.Optional(ModelField),
  },
  { additionalProperties: false, title: 'InterpolateRequest' },
);
export type InterpolateRequest = Static<typeof InterpolateRequestSchema>;

/**
 * Query parameters of GET /generate: the POST body's fields for seeded requests, as text. They are
 * turned into a POST body (transport/http/query.ts) and checked by GenerateRequestSchema, so a GET
 * gets the same rules and messages as a POST.
 */
export const GenerateQuerySchema = Type.Object(
  {
    class: Type.Optional(
      Type.String({
        description: 'Index (207), WordNet id (n02099601), name (golden retriever), or a mixture `207:0.7,1:0.3`.',
      }),
    ),
    seed: Type.Optional(
      Type.String({ description: 'Required: a GET must be repeatable (use POST for random samples).' }),
    ),
    truncation: Type.Optional(Type.String({ description: `0 < t <= 1, default ${DEFAULT_TRUNCATION}.` })),
    count: Type.Optional(
      Type.String({ description: 'Number of samples (answered as JSON, or one grid with grid=true).' }),
    ),
    grid: Type.Optional(Type.String({ description: '`true` for one grid image of all samples.' })),
    format: Type.Optional(Type.String({ description: IMAGE_FORMATS.join(', ') })),
    timeoutMs: Type.Optional(Type.String({ description: 'Most time in the queue, ms.' })),
    priority: Type.Optional(Type.String({ description: PRIORITIES.join(', ') })),
    model: Type.Optional(Type.String({ description: "Model to use, by name; default: the server's default model." })),
  },
  { additionalProperties: false, title: 'GenerateQuery' },
);
export type GenerateQuery = Static<typeof GenerateQuerySchema>;

/** Request headers the REST API reads (others pass). */
export const RequestHeadersSchema = Type.Object(
  {
    'x-request-timeout': Type.Optional(
      Type.String({
        pattern: `^\\s*(?:[1-9][0-9]{0,4}|[1-5][0-9]{5}|${MAX_TIMEOUT_MS})\\s*$`,
        description: `an integer number of ms in 1..${MAX_TIMEOUT_MS}`,
      }),
    ),
  },
  { additionalProperties: true },
);
export type RequestHeaders = Static<typeof RequestHeadersSchema>;

// ---- Responses (documented and serialised by fastify) ----

/** JSON error body of every 4xx/5xx answer. */
export const ErrorResponseSchema = Type.Object(
  {
    error: Type.Object({
      code: Type.String({
        description:
          'INVALID_ARGUMENT, NOT_FOUND, PAYLOAD_TOO_LARGE, OVERLOADED, DEADLINE_EXCEEDED, UNAVAILABLE, INTERNAL, ...',
      }),
      message: Type.String(),
      field: Type.Optional(Type.String({ description: 'The request field at fault, for INVALID_ARGUMENT.' })),
    }),
  },
  { title: 'Error' },
);

/** One image in a JSON answer. */
export const ImageJsonSchema = Type.Object(
  {
    data: Type.String({ description: 'Base64-encoded image bytes.' }),
    mimeType: Type.String(),
    seed: Type.Optional(
      Type.Union([Type.Integer(), Type.String()], {
        description: 'Seed reproducing this image alone (absent for explicit z).',
      }),
    ),
    truncation: Type.Number(),
    class: Type.Record(Type.String(), Type.Number(), { description: 'Non-zero class weights by index.' }),
    index: Type.Integer(),
    t: Type.Optional(Type.Number({ description: 'Interpolation position 0..1 (interpolate only).' })),
  },
  { title: 'Image' },
);
export type ImageJson = Static<typeof ImageJsonSchema>;

/** JSON answer of /generate with several samples. */
export const GenerateJsonResponseSchema = Type.Object(
  {
    seed: Type.Optional(
      Type.Union([Type.Integer(), Type.String()], { description: 'The request base seed (absent for explicit z).' }),
    ),
    width: Type.Integer(),
    height: Type.Integer(),
    images: Type.Array(ImageJsonSchema),
  },
  { title: 'GenerateResponse' },
);

/** JSON answer of /interpolate with an image format (png/jpeg) and no grid. */
export const InterpolateJsonResponseSchema = Type.Object(
  { width: Type.Integer(), height: Type.Integer(), frames: Type.Array(ImageJsonSchema) },
  { title: 'InterpolateResponse' },
);

/** A model and the server's limits, as /v1/models lists it. */
export const ModelInfoSchema = Type.Object(
  {
    name: Type.String(),
    resolution: Type.Integer(),
    zDim: Type.Integer(),
    numClasses: Type.Integer(),
    parameters: Type.Integer(),
    engine: Type.String(),
    backend: Type.String(),
    maxSamplesPerRequest: Type.Integer(),
    maxBatchSize: Type.Integer(),
    truncation: Type.Object({ min: Type.Number(), max: Type.Number(), default: Type.Number() }),
    formats: Type.Array(Type.String()),
  },
  { title: 'ModelInfo', additionalProperties: true },
);

/** A model of the repository: its description plus state, batching settings and memory estimate. */
export const ModelStatusSchema = Type.Object(
  {
    ...ModelInfoSchema.properties,
    state: Type.Optional(
      Type.Enum(['loading', 'ready', 'unloaded', 'failed'], {
        description: 'loading, ready, unloaded (loads on its next request) or failed (see reason).',
      }),
    ),
    reason: Type.Optional(Type.String({ description: 'Why loading failed.' })),
    default: Type.Optional(Type.Boolean({ description: 'Answers requests that name no model.' })),
    maxQueueDelayMs: Type.Optional(Type.Number()),
    maxQueueSize: Type.Optional(Type.Integer()),
    servingFrom: Type.Optional(Type.String({ description: '`serving.json` or `default` (by resolution).' })),
    memoryEstimateBytes: Type.Optional(
      Type.Integer({ description: 'Estimated resident memory when loaded (weights + activations at maxBatchSize).' }),
    ),
    loadSeconds: Type.Optional(Type.Number({ description: 'Time the last load took.' })),
  },
  { title: 'ModelStatus', additionalProperties: true },
);

export const ModelsResponseSchema = Type.Object({ models: Type.Array(ModelStatusSchema) });

/** One ImageNet class. */
export const ClassInfoSchema = Type.Object({
  index: Type.Integer(),
  wnid: Type.String(),
  names: Type.Array(Type.String()),
});
export const ClassesResponseSchema = Type.Object({ classes: Type.Array(ClassInfoSchema) });

export const StatusResponseSchema = Type.Object({ status: Type.String() });
