/**
 * The OpenAI images API's wire shapes as TypeBox schemas (as src/service/contract/ does for the
 * native API): the request body of POST /openai/v1/images/generations, checked by the service's
 * contract check (same message format, `<field>: ...`), and the answers, serialised by fastify
 * and listed in the OpenAPI document. Field names are OpenAI's; `seed` and `truncation` are ours.
 */
import { Type, type Static, type TSchema } from 'typebox';
import { DEFAULT_TRUNCATION, SEED_PATTERN, TRUNCATION_MAX, TRUNCATION_MIN } from '../../service/contract/limits.js';
import { MAX_PROMPT_CHARS } from '../../latents/prompt-classes.js';

/** The SDKs send `null` for an unset optional field (Python `None`); OpenAI reads it as absent. */
const nullable = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]));

/** Known OpenAI fields that change nothing here: accepted and ignored (documented in docs/openai.md). */
const IGNORED = {
  quality: nullable(Type.String({ maxLength: 64, description: 'Ignored (one quality per model).' })),
  style: nullable(Type.String({ maxLength: 64, description: 'Ignored.' })),
  user: nullable(Type.String({ maxLength: 256, description: 'Ignored (the API key names the caller).' })),
  background: nullable(Type.String({ maxLength: 64, description: 'Ignored (images are opaque).' })),
  moderation: nullable(Type.String({ maxLength: 64, description: 'Ignored.' })),
  output_compression: nullable(Type.Integer({ minimum: 0, maximum: 100, description: 'Ignored (PNG is lossless).' })),
};

/** Body of POST /openai/v1/images/generations. */
export const ImagesRequestSchema = Type.Object(
  {
    prompt: Type.String({
      minLength: 1,
      maxLength: MAX_PROMPT_CHARS,
      description:
        'Text naming ImageNet classes ("a golden retriever", "class 207", "n02099601"); ' +
        'several classes give an equal mixture.',
    }),
    model: nullable(
      Type.String({
        minLength: 1,
        maxLength: 128,
        description: 'A model of GET /openai/v1/models; default: the model of `size`, else the default model.',
      }),
    ),
    n: nullable(
      Type.Integer({ minimum: 1, description: "Images (1 up to the model's maxSamplesPerRequest); default 1." }),
    ),
    size: nullable(
      Type.String({
        maxLength: 32,
        description: '`128x128`, `256x256` or `512x512` (a size some model serves), or `auto`.',
      }),
    ),
    response_format: nullable(
      Type.Enum(['url', 'b64_json'], {
        description: '`url` (default, as OpenAI): a seeded GET /generate URL; `b64_json`: the PNG inline.',
      }),
    ),
    output_format: nullable(Type.Enum(['png'], { description: 'Only `png`.' })),
    stream: nullable(Type.Boolean({ description: 'Only `false`: images are answered whole.' })),
    seed: nullable(
      Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: SEED_PATTERN })], {
        description: 'Our extension: noise seed (unsigned 64-bit); image i uses seed + i. Default: a random one.',
      }),
    ),
    truncation: nullable(
      Type.Number({
        exclusiveMinimum: TRUNCATION_MIN,
        maximum: TRUNCATION_MAX,
        description:
          `Our extension: truncation ${TRUNCATION_MIN} < t <= ${TRUNCATION_MAX} ` + `(default ${DEFAULT_TRUNCATION}).`,
      }),
    ),
    ...IGNORED,
  },
  { additionalProperties: false, title: 'OpenAIImagesRequest' },
);
export type ImagesRequest = Static<typeof ImagesRequestSchema>;

/** One image of the answer: exactly one of `url` and `b64_json`, and what was drawn. */
export const ImageDataSchema = Type.Object(
  {
    url: Type.Optional(Type.String({ description: 'Absolute, seeded GET /generate URL of the PNG (immutable).' })),
    b64_json: Type.Optional(Type.String({ description: 'The PNG, base64.' })),
    revised_prompt: Type.String({
      description: 'What was drawn: each class `name (index)` and weight, the truncation and the seed.',
    }),
  },
  { title: 'OpenAIImage' },
);
export type ImageData = Static<typeof ImageDataSchema>;

export const ImagesResponseSchema = Type.Object(
  { created: Type.Integer({ description: 'Unix time, seconds.' }), data: Type.Array(ImageDataSchema) },
  { title: 'OpenAIImagesResponse' },
);

export const ModelObjectSchema = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('model'),
    created: Type.Integer({ description: 'When this server started serving it, Unix seconds.' }),
    owned_by: Type.String(),
  },
  { title: 'OpenAIModel' },
);
export type ModelObject = Static<typeof ModelObjectSchema>;

export const ModelListSchema = Type.Object(
  { object: Type.Literal('list'), data: Type.Array(ModelObjectSchema) },
  { title: 'OpenAIModelList' },
);

export const ModelParamsSchema = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 128, description: 'Model name, as GET /openai/v1/models lists it.' }) },
  { additionalProperties: false },
);

/** Every error answer under /openai/v1: the shape OpenAI's SDKs parse into their error classes. */
export const OpenAiErrorSchema = Type.Object(
  {
    error: Type.Object({
      message: Type.String(),
      type: Type.String({
        description: 'invalid_request_error, authentication_error, permission_error, rate_limit_error, server_error.',
      }),
      param: Type.Union([Type.String(), Type.Null()], { description: 'The request field at fault.' }),
      code: Type.Union([Type.String(), Type.Null()], {
        description: 'Our error code, lower case (e.g. invalid_argument, rate_limited).',
      }),
    }),
  },
  { title: 'OpenAIError' },
);
export type OpenAiError = Static<typeof OpenAiErrorSchema>;
