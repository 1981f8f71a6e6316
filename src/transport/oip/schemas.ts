/**
 * The Open Inference Protocol's REST answers as TypeBox schemas, written from the protocol's
 * specification (its OpenAPI document and prose): they serialise this server's answers, document
 * them in /docs, and the tests validate every answer against them.
 */
import { Type } from 'typebox';

/** Every failure: `{"error": "<message>"}`. */
export const OipErrorSchema = Type.Object({ error: Type.String() }, { title: 'OipError' });

/** GET /v2/health/live. */
export const LiveResponseSchema = Type.Object({ live: Type.Boolean() }, { title: 'OipLiveResponse' });

/** GET /v2/health/ready. */
export const ReadyResponseSchema = Type.Object({ ready: Type.Boolean() }, { title: 'OipReadyResponse' });

/** GET /v2/models/{name}[/versions/{v}]/ready. */
export const ModelReadyResponseSchema = Type.Object(
  { name: Type.String(), ready: Type.Boolean() },
  { title: 'OipModelReadyResponse' },
);

/** GET /v2. */
export const ServerMetadataSchema = Type.Object(
  { name: Type.String(), version: Type.String(), extensions: Type.Array(Type.String()) },
  { title: 'OipServerMetadata' },
);

/** One tensor of model metadata: -1 marks a dimension of any size. */
export const MetadataTensorSchema = Type.Object(
  { name: Type.String(), datatype: Type.String(), shape: Type.Array(Type.Integer({ minimum: -1 })) },
  { title: 'OipMetadataTensor' },
);

/** GET /v2/models/{name}[/versions/{v}]. */
export const ModelMetadataSchema = Type.Object(
  {
    name: Type.String(),
    versions: Type.Optional(Type.Array(Type.String())),
    platform: Type.String(),
    inputs: Type.Array(MetadataTensorSchema),
    outputs: Type.Array(MetadataTensorSchema),
  },
  { title: 'OipModelMetadata' },
);

const Parameters = Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]));

/** One output of an infer answer: `data` in JSON, or `parameters.binary_data_size` bytes after the header. */
export const ResponseOutputSchema = Type.Object(
  {
    name: Type.String(),
    shape: Type.Array(Type.Integer({ minimum: 0 })),
    datatype: Type.String(),
    parameters: Type.Optional(Parameters),
    data: Type.Optional(Type.Array(Type.Union([Type.Number(), Type.String(), Type.Boolean()]))),
  },
  { title: 'OipResponseOutput' },
);

/** POST .../infer: the JSON answer, or the JSON header of a binary answer. */
export const InferResponseSchema = Type.Object(
  {
    model_name: Type.String(),
    model_version: Type.Optional(Type.String()),
    id: Type.Optional(Type.String()),
    parameters: Type.Optional(Parameters),
    outputs: Type.Array(ResponseOutputSchema),
  },
  { title: 'OipInferResponse' },
);
