/**
 * The REST API on fastify: a thin adapter over the GeneratorService. `buildHttpApp` returns the
 * app without listening, so tests use `app.inject`. One plugin per concern (routes/*); request
 * bodies, queries and headers are checked by the service's contract (the same check gRPC runs),
 * and the route schemas also give the handler types, response serialisation and the OpenAPI
 * document. Around them: request ids and spans, one log line per request with secrets redacted,
 * 408 for clients that never finish sending, 405 + Allow for a wrong method.
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { TSchema } from 'typebox';
import type { Metrics } from '../../metrics/metrics.js';
import type { KeyedGeneratorService } from '../../service/types.js';
import { BigGanError, ERROR_TABLE, quoteValue } from '../../errors.js';
import { observeHttp, requestIdOptions } from '../../tracing/http-observer.js';
import { NOOP_TRACING, type Tracing } from '../../tracing/tracing.js';
import { handleError, errorPayload } from './errors.js';
import { redactedRequestSerializer } from '../../tracing/redact.js';
import { clientErrorHandler, serverTimeoutOptions, DEFAULT_HEADERS_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS } from './timeouts.js';
import { registerDocs } from './routes/docs.js';
import { generateRoutes } from './routes/generate.js';
import { interpolateRoutes } from './routes/interpolate.js';
import { infoRoutes } from './routes/info.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { registerPlayground } from './playground.js';
import { requireApiKeys } from './auth.js';
import { registerSecurity } from './security.js';
import type { KeyStore } from '../../auth/key-store.js';
import type { SecureContextOptions } from 'node:tls';

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
  /** API keys required on the API routes (absent: open). */
  readonly keys?: KeyStore;
  /** Bearer token /metrics requires (absent: open). */
  readonly metricsToken?: string;
  /** Serve /metrics here (default true; false when it has its own port). */
  readonly serveMetrics?: boolean;
  /** Origins allowed by CORS (default none). */
  readonly corsOrigins?: readonly string[];
  /** Serve HTTPS with this certificate and key (and `ca` + `requestCert` for client certificates). */
  readonly tls?: SecureContextOptions & { readonly requestCert?: boolean };
}

/** The logger setting with the request serializer that redacts secrets in query strings. */
function withRedaction(logger: FastifyServerOptions['logger']): FastifyServerOptions['logger'] {
  if (logger === undefined || logger === false) return false;
  const base = logger === true ? {} : logger;
  return { ...base, serializers: { ...base.serializers, req: redactedRequestSerializer } };
}

/** The `model` metric label of a request: the model its body or query names (the default model otherwise). */
function modelLabel(service: KeyedGeneratorService, request: { body?: unknown; query?: unknown }): string {
  const named = (v: unknown): unknown => (typeof v === 'object' && v !== null && 'model' in v ? v.model : undefined);
  return service.modelLabel?.(named(request.body) ?? named(request.query)) ?? service.model.name;
}

/** Builds the fastify app with every route, schema, error mapping and metric hook. */
export function buildHttpApp(service: KeyedGeneratorService, metrics: Metrics, opts: HttpAppOptions): FastifyInstance {
  const timeouts = { requestTimeoutMs: opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, headersTimeoutMs: opts.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS };
  const app = Fastify({
    logger: withRedaction(opts.logger),
    bodyLimit: opts.bodyLimitBytes,
    // A client that never finishes sending its request must not hold a socket forever.
    requestTimeout: timeouts.requestTimeoutMs,
    http: serverTimeoutOptions(timeouts),
    clientErrorHandler: clientErrorHandler(metrics, timeouts),
    return503OnClosing: true,
    ...requestIdOptions(),
    // With client certificates required, a peer without one never completes the handshake.
    ...(opts.tls ? { https: { ...opts.tls, ...(opts.tls.requestCert ? { requestCert: true, rejectUnauthorized: true } : {}) } } : {}),
  }).withTypeProvider<TypeBoxTypeProvider>();
  observeHttp(app, { tracing: opts.tracing ?? NOOP_TRACING, model: () => service.model.name });

  // Validation is the service's contract check for both transports: same messages, counted once.
  app.setValidatorCompiler(({ schema }) => (data: unknown) => {
    try {
      return { value: service.check(schema as TSchema, data) };
    } catch (error) {
      return { error: error instanceof Error ? error : new Error(String(error)) };
    }
  });
  app.setErrorHandler((error, request, reply) => {
    // Client mistakes fastify itself refuses (malformed JSON, body too large, wrong media type)
    // are refusals too; contract and service refusals are counted where they are raised.
    const status = (error as { statusCode?: unknown }).statusCode;
    if (!(error instanceof BigGanError) && typeof status === 'number' && status >= 400 && status < 500) {
      metrics.rejections.inc({ reason: status === 413 ? ERROR_TABLE.PAYLOAD_TOO_LARGE.reason : ERROR_TABLE.INVALID_ARGUMENT.reason, model: modelLabel(service, request) });
    }
    return handleError(error, request, reply);
  });

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

  // Metrics: every answer, by transport, route and status; duration per route. A callback hook:
  // an async one costs every request a promise and a microtask turn.
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const model = modelLabel(service, request);
    metrics.requests.inc({ transport: 'http', route, status: String(reply.statusCode), model });
    metrics.requestDuration.observe({ transport: 'http', route, model }, reply.elapsedTime / 1000);
    done();
  });

  registerSecurity(app, { corsOrigins: opts.corsOrigins ?? [], tls: opts.tls !== undefined });
  if (opts.keys) requireApiKeys(app, opts.keys, (reason) => metrics.authFailures.inc({ reason }));

  // Docs first: @fastify/swagger collects the routes registered after it.
  registerDocs(app, opts.version);
  app.register(generateRoutes, { service });
  app.register(interpolateRoutes, { service });
  app.register(infoRoutes, { service });
  app.register(healthRoutes, { service });
  if (opts.serveMetrics ?? true) app.register(metricsRoutes, { metrics, ...(opts.metricsToken !== undefined ? { token: opts.metricsToken } : {}) });
  registerPlayground(app);
  return app;
}
