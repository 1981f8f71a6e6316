/**
 * The Open Inference Protocol v2 over REST (KServe, Triton, MLServer clients): health, server and
 * model metadata, model readiness and infer, JSON or with the binary tensor data extension. A
 * binary request is recognised by its Inference-Header-Content-Length header whatever its
 * Content-Type (tritonclient sends none). Access control, request ids, tracing, metrics and the
 * X-Request-Timeout header apply as on /generate (app-wide hooks); failures keep the app's status
 * codes and headers (Retry-After, RateLimit-*) with the protocol's body, `{"error": "..."}`.
 */
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Catalog, RequestService } from '../../service/types.js';
import { callContext } from '../http/call-context.js';
import { setRequestModel } from '../http/model-label.js';
import { tensorMetadata } from './biggan-tensors.js';
import { MODEL_VERSION, resolveModel, runInfer } from './infer.js';
import { HEADER_LENGTH, inferAnswer, parseInferBody, splitBinaryBody } from './rest-codec.js';
import {
  LiveResponseSchema,
  ModelMetadataSchema,
  ModelReadyResponseSchema,
  ReadyResponseSchema,
  ServerMetadataSchema,
} from './schemas.js';
import { oipPort, RequestHeadersSchema, type OipPort } from './service-port.js';

/** What the routes need. */
export interface OipRouteOptions {
  readonly requests: RequestService;
  readonly catalog: Catalog;
  /** The server's version, for GET /v2. */
  readonly version: string;
  /** Why the process is no longer live (a lost GPU engine), or undefined: the same check as /healthz. */
  readonly liveness?: (() => string | undefined) | undefined;
}

/** Name of this server in server metadata. */
export const SERVER_NAME = 'biggan-serve';
/** Protocol extensions this server supports. */
export const EXTENSIONS = ['binary_tensor_data'];

/** The routes' OpenAPI tag. */
const tags = ['open inference protocol'];

/** The app as the plugin sees it (TypeBox-typed). */
type OipApp = Parameters<FastifyPluginAsyncTypebox<OipRouteOptions>>[0];

/** The media type a binary request is parsed as (whatever it was sent with). */
const BINARY_TYPE = 'application/octet-stream';

const ModelParams = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 128, description: 'Model name, as GET /v1/models lists it.' }),
  version: Type.Optional(
    Type.String({ maxLength: 64, description: `Model version: ${MODEL_VERSION} (each model has one).` }),
  ),
});

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The app's error body `{"error": {"code", "message"}}` rewritten to the protocol's `{"error": "message"}`. */
function protocolError(payload: unknown): unknown {
  if (typeof payload !== 'string') return payload;
  try {
    const body: unknown = JSON.parse(payload);
    if (isObject(body) && isObject(body.error) && typeof body.error.message === 'string')
      return JSON.stringify({ error: body.error.message });
  } catch {
    // not JSON: left as it is
  }
  return payload;
}

/** Model paths with and without `/versions/{version}`. */
function modelPaths(suffix: string): string[] {
  return [`/v2/models/:name${suffix}`, `/v2/models/:name/versions/:version${suffix}`];
}

async function infer(
  port: OipPort,
  params: { name: string; version?: string },
  request: FastifyRequest,
  reply: FastifyReply,
) {
  resolveModel(port, params.name, params.version ?? ''); // an unknown model is 404 before any tensor check
  const headerLength = request.headers[HEADER_LENGTH];
  const body = request.body;
  const split = Buffer.isBuffer(body)
    ? splitBinaryBody(body, typeof headerLength === 'string' ? headerLength : String(body.length))
    : { header: body, rest: Buffer.alloc(0) };
  const req = parseInferBody(split.header, split.rest, { name: params.name, version: params.version ?? '' });
  const result = await runInfer(port, req, callContext(request, reply));
  const binaryOf = new Map((req.outputs ?? []).map((o) => [o.name, o.binary === true]));
  const answer = inferAnswer(result, req.id, (name) => binaryOf.get(name) ?? req.binaryAll);
  if ('json' in answer) return reply.type('application/json').send(answer.json);
  reply.header('Inference-Header-Content-Length', String(answer.header.length));
  return reply.type(BINARY_TYPE).send(Buffer.concat([answer.header, ...answer.binary]));
}

/** The server's probes and metadata: GET /v2/health/live, /v2/health/ready and /v2 (open, as /healthz is). */
function registerServerRoutes(app: OipApp, port: OipPort, { version, liveness }: OipRouteOptions): void {
  app.get(
    '/v2/health/live',
    {
      schema: {
        summary: 'OIP liveness: 200 unless a GPU engine failed past --engine-liveness-timeout-ms (as /healthz)',
        tags,
        response: { 200: LiveResponseSchema, 503: LiveResponseSchema },
      },
    },
    // A lost GPU context only comes back with a new process: 503 makes the orchestrator restart it.
    async (_request, reply) => {
      const live = liveness?.() === undefined;
      return reply.status(live ? 200 : 503).send({ live });
    },
  );
  app.get(
    '/v2/health/ready',
    {
      schema: {
        summary: 'OIP readiness: 200 when the default model is ready, else 503',
        tags,
        response: { 200: ReadyResponseSchema, 503: ReadyResponseSchema },
      },
    },
    async (_request, reply) => {
      const ready = port.serverReady();
      return reply.status(ready ? 200 : 503).send({ ready });
    },
  );
  app.get(
    '/v2',
    {
      schema: { summary: 'OIP server metadata', tags, response: { 200: ServerMetadataSchema } },
    },
    async () => ({ name: SERVER_NAME, version, extensions: EXTENSIONS }),
  );
}

export const oipRoutes: FastifyPluginAsyncTypebox<OipRouteOptions> = async (app, opts) => {
  const port = oipPort(opts.requests, opts.catalog);
  // A binary request is parsed as bytes whatever its Content-Type says.
  app.addHook('onRequest', async (request) => {
    if (request.headers[HEADER_LENGTH] !== undefined) request.headers['content-type'] = BINARY_TYPE;
    // The `model` label of the request's metrics and log line: the model the URL names.
    const { name } = request.params as { name?: unknown };
    if (typeof name === 'string') setRequestModel(request, name);
  });
  app.addContentTypeParser(BINARY_TYPE, { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  app.addHook('onSend', async (_request, reply, payload) =>
    reply.statusCode >= 400 ? protocolError(payload) : payload,
  );

  registerServerRoutes(app, port, opts);
  for (const url of modelPaths('')) {
    app.get(
      url,
      {
        schema: {
          summary: 'OIP model metadata: its input and output tensors',
          tags,
          params: ModelParams,
          response: { 200: ModelMetadataSchema },
        },
      },
      async (request) => {
        const model = resolveModel(port, request.params.name, request.params.version ?? '');
        return {
          name: model.name,
          versions: [MODEL_VERSION],
          platform: `biggan_${model.engine}`,
          ...tensorMetadata(model),
        };
      },
    );
  }
  for (const url of modelPaths('/ready')) {
    app.get(
      url,
      {
        schema: {
          summary: 'OIP model readiness: 200 when ready, else 503',
          tags,
          params: ModelParams,
          response: { 200: ModelReadyResponseSchema, 503: ModelReadyResponseSchema },
        },
      },
      async (request, reply) => {
        const model = resolveModel(port, request.params.name, request.params.version ?? '');
        const ready = port.modelReady(model.name);
        return reply.status(ready ? 200 : 503).send({ name: model.name, ready });
      },
    );
  }
  for (const url of modelPaths('/infer')) {
    app.post(
      url,
      {
        schema: {
          summary:
            'OIP inference: z or seed, class_index or class_vector, truncation in; image (UINT8) and png (BYTES) out',
          description: 'JSON, or the binary tensor data extension (Inference-Header-Content-Length). See docs/oip.md.',
          tags,
          params: ModelParams,
          headers: RequestHeadersSchema,
        },
      },
      (request, reply) => infer(port, request.params, request, reply),
    );
  }
};
