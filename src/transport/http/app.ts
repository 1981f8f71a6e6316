/**
 * The REST API on fastify: a thin adapter over the GeneratorService. `buildHttpApp` returns the
 * app without listening, so tests use `app.inject`.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { Registry } from 'prom-client';
import type { Metrics } from '../../metrics/metrics.js';
import type { GeneratorService, GenerateRequest, InterpolateRequest, GeneratedImage, CallContext } from '../../service/types.js';
import { generateBody, interpolateBody } from './schemas.js';
import { handleError, errorPayload } from './errors.js';
import { openApiDocument, docsPage } from './openapi.js';
import { observeHttp, requestIdOptions, requestTraceOf } from '../../tracing/http-observer.js';
import { NOOP_TRACING, type Tracing } from '../../tracing/tracing.js';
import { registerPlayground } from './playground.js';
import { invalidArgument } from '../../errors.js';

/** Largest `X-Request-Timeout`, ms (as the body's `timeoutMs`). */
const MAX_REQUEST_TIMEOUT_MS = 600_000;

/**
 * The `X-Request-Timeout` header (ms, the client's deadline): undefined when absent; a value that
 * is not an integer in [1, 600000] is a 400 naming the header.
 */
function requestTimeoutHeader(request: FastifyRequest): number | undefined {
  const raw = request.headers['x-request-timeout'];
  if (raw === undefined) return undefined;
  const ms = typeof raw === 'string' && /^\d{1,7}$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (!(ms >= 1 && ms <= MAX_REQUEST_TIMEOUT_MS)) {
    throw invalidArgument('X-Request-Timeout', `must be one integer number of ms in [1, ${MAX_REQUEST_TIMEOUT_MS}]`);
  }
  return ms;
}
import { classHeaders } from './headers.js';
import { redactedRequestSerializer } from './redact.js';
import { clientErrorHandler, serverTimeoutOptions, DEFAULT_HEADERS_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS } from './timeouts.js';
import { quoteValue } from '../../errors.js';

/** Options of the HTTP app. */
export interface HttpAppOptions {
  readonly bodyLimitBytes: number;
  readonly version: string;
  /** fastify logger setting (false in tests); request URLs are logged with secrets redacted. */
  readonly logger?: FastifyServerOptions['logger'];
  /** Request spans (default: off). */
  readonly tracing?: Tracing;
  /** Time to receive a whole request (headers and body), ms; past it 408 (default 30 s). */
  readonly requestTimeoutMs?: number;
  /** Time to receive the request line and headers, ms; past it 408 (default 10 s). */
  readonly headersTimeoutMs?: number;
}

/** The logger setting with the request serializer that redacts secrets in query strings. */
function withRedaction(logger: FastifyServerOptions['logger']): FastifyServerOptions['logger'] {
  if (logger === undefined || logger === false) return false;
  const base = logger === true ? {} : logger;
  return { ...base, serializers: { ...base.serializers, req: redactedRequestSerializer } };
}

/** JSON-safe seed: a number when exact as a double, else a decimal string. */
function seedJson(seed: bigint | undefined): number | string | undefined {
  if (seed === undefined) return undefined;
  return seed <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(seed) : seed.toString();
}

function imageJson(img: GeneratedImage & { t?: number }): Record<string, unknown> {
  return {
    data: img.data.toString('base64'),
    mimeType: img.mimeType,
    ...(img.seed !== undefined ? { seed: seedJson(img.seed) } : {}),
    truncation: img.truncation,
    class: img.class,
    index: img.index,
    ...(img.t !== undefined ? { t: img.t } : {}),
  };
}

/**
 * A CallContext whose signal aborts when the client goes away before the answer is sent, so the
 * request's queued samples are dropped and never computed; its timeout is `X-Request-Timeout`.
 */
function callContext(request: FastifyRequest, reply: FastifyReply): CallContext {
  const timeoutMs = requestTimeoutHeader(request);
  const controller = new AbortController();
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  const trace = requestTraceOf(request);
  return { signal: controller.signal, transport: 'http', ...(timeoutMs !== undefined ? { timeoutMs } : {}), ...(trace ? { trace } : {}) };
}

/** Builds the fastify app with every route, schema, error mapping and metric hook. */
export function buildHttpApp(service: GeneratorService, metrics: Metrics, opts: HttpAppOptions): FastifyInstance {
  const timeouts = { requestTimeoutMs: opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, headersTimeoutMs: opts.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS };
  const app = Fastify({
    logger: withRedaction(opts.logger),
    bodyLimit: opts.bodyLimitBytes,
    // A client that never finishes sending its request must not hold a socket forever.
    requestTimeout: timeouts.requestTimeoutMs,
    http: serverTimeoutOptions(timeouts),
    clientErrorHandler: clientErrorHandler(metrics, timeouts),
    // Reject unknown fields instead of silently dropping them, and never coerce types.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false } },
    return503OnClosing: true,
    ...requestIdOptions(),
  });
  observeHttp(app, { tracing: opts.tracing ?? NOOP_TRACING, model: () => service.model.name });
  app.setErrorHandler(handleError);
  // The methods of each route path, for 405 answers (fastify itself answers 404 to a wrong method).
  const methodsByPath = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    const methods = methodsByPath.get(route.url) ?? new Set<string>();
    for (const m of [route.method].flat()) methods.add(m);
    methodsByPath.set(route.url, methods);
  });
  app.setNotFoundHandler((request, reply) => {
    const q = request.url.indexOf('?');
    const path = q < 0 ? request.url : request.url.slice(0, q);
    const allowed = methodsByPath.get(path);
    if (allowed) {
      const allow = [...allowed].sort().join(', ');
      return reply.status(405).header('Allow', allow).send(errorPayload('METHOD_NOT_ALLOWED', `${path} does not answer ${request.method}; allowed: ${allow}`));
    }
    return reply.status(404).send(errorPayload('NOT_FOUND', `no route ${request.method} ${quoteValue(path)}; see /docs`));
  });

  // Metrics: every answer, by transport, route and status; duration per route.
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ transport: 'http', route, status: String(reply.statusCode) });
    metrics.requestDuration.observe({ transport: 'http', route }, reply.elapsedTime / 1000);
  });

  const generate = async (request: FastifyRequest, reply: FastifyReply) => {
    const body = request.body as GenerateRequest;
    const ctx = callContext(request, reply);
    const result = await service.generate(body, { ...ctx, ...(body.timeoutMs ? { timeoutMs: Math.min(body.timeoutMs, ctx.timeoutMs ?? Infinity) } : {}) });
    if (result.seed !== undefined) reply.header('X-Seed', result.seed.toString());
    if (result.grid) return reply.type(result.grid.mimeType).send(result.grid.data);
    if (result.images.length === 1) {
      const img = result.images[0];
      reply.header('X-Truncation', String(img.truncation));
      reply.headers(classHeaders(img.class));
      return reply.type(img.mimeType).send(img.data);
    }
    return reply.send({ ...(result.seed !== undefined ? { seed: seedJson(result.seed) } : {}), width: result.width, height: result.height, images: result.images.map(imageJson) });
  };
  for (const url of ['/generate', '/v1/generate']) app.post(url, { schema: { body: generateBody } }, generate);

  const interpolate = async (request: FastifyRequest, reply: FastifyReply) => {
    const body = request.body as InterpolateRequest;
    const result = await service.interpolate(body, callContext(request, reply));
    const out = result.animation ?? result.grid;
    if (out) return reply.type(out.mimeType).send(out.data);
    return reply.send({ width: result.width, height: result.height, frames: result.frames.map(imageJson) });
  };
  for (const url of ['/interpolate', '/v1/interpolate']) app.post(url, { schema: { body: interpolateBody } }, interpolate);

  app.get('/v1/models', async () => ({ models: [service.model] }));
  app.get('/v1/classes', async () => ({ classes: service.listClasses() }));
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const ready = service.isReady();
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready' });
  });
  app.get('/metrics', async (_request, reply) => {
    const registry: Registry = metrics.registry;
    return reply.type(registry.contentType).send(await registry.metrics());
  });
  const doc = openApiDocument(opts.version);
  const page = docsPage(doc);
  app.get('/openapi.json', async () => doc);
  app.get('/docs', async (_request, reply) => reply.type('text/html; charset=utf-8').send(page));
  registerPlayground(app);
  return app;
}
