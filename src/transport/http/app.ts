/**
 * The REST API on fastify: a thin adapter over the RequestService and the Catalog. `buildHttpApp` returns the
 * app without listening, so tests use `app.inject`. One plugin per concern (routes/*); request
 * bodies, queries and headers are checked by the contract (`check`, the same check gRPC runs),
 * and the route schemas also give the handler types, response serialisation and the OpenAPI
 * document. Around them: request ids and spans, one log line per request with secrets redacted,
 * 408 for clients that never finish sending, 405 + Allow for a wrong method.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { TSchema } from 'typebox';
import type { Metrics } from '../../metrics/metrics.js';
import type { Catalog, RequestService } from '../../service/types.js';
import { check } from '../../service/contract/validate.js';
import { quoteValue, refusalReason } from '../../errors.js';
import { observeHttp, requestIdOptions } from './observer.js';
import { modelLabel } from './model-label.js';
import { NOOP_TRACING, type Tracing } from '../../tracing/tracing.js';
import { handleError, errorPayload } from './errors.js';
import {
  clientErrorHandler,
  serverTimeoutOptions,
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
} from './timeouts.js';
import { registerDocs } from './routes/docs.js';
import { generateRoutes } from './routes/generate.js';
import { interpolateRoutes } from './routes/interpolate.js';
import { infoRoutes } from './routes/info.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { registerPlayground } from './playground.js';
import { oipRoutes } from '../oip/rest-routes.js';
import { requireApiKeys } from './auth.js';
import { registerSecurity } from './security.js';
import { openaiRoutes } from '../openai/routes.js';
import type { KeyStore } from '../../auth/key-store.js';
import type { SecureContextOptions } from 'node:tls';
import { registerSendLimits, type SendLimits } from './send-budget.js';
import { registerJsonBody } from './json-body.js';

/** Options of the HTTP app. */
export interface HttpAppOptions {
  readonly bodyLimitBytes: number;
  readonly version: string;
  /** The server's logger (pino), created before the app; absent: silent. */
  readonly logger?: FastifyBaseLogger;
  /** Request spans (default: off). */
  readonly tracing?: Tracing;
  /** Time to receive a whole request (headers and body), ms; past it 408 (default 30 s). */
  readonly requestTimeoutMs?: number;
  /** Time to receive the request line and headers, ms; past it 408 (default 10 s). */
  readonly headersTimeoutMs?: number;
  /** Stalled readers: idle send timeout and total bytes being written (defaults: 30 s, 128 MiB). */
  readonly send?: Partial<SendLimits>;
  /** API keys required on the API routes (absent: open). */
  readonly keys?: KeyStore | undefined;
  /** Bearer token /metrics requires (absent: open). */
  readonly metricsToken?: string | undefined;
  /** Serve /metrics here (default true; false when it has its own port). */
  readonly serveMetrics?: boolean;
  /** Origins allowed by CORS (default none). */
  readonly corsOrigins?: readonly string[];
  /** Serve HTTPS with this certificate and key (and `ca` + `requestCert` for client certificates). */
  readonly tls?: (SecureContextOptions & { readonly requestCert?: boolean }) | undefined;
  /** Read the client's scheme and host from X-Forwarded-Proto/-Host (behind a trusted proxy only). */
  readonly trustProxy?: boolean;
  /** Base of the OpenAI API's `url` answers (absent: the request's origin). */
  readonly publicBaseUrl?: string | undefined;
  /** Why the process is no longer live (a lost GPU engine), or undefined; /healthz answers 503 with it. */
  readonly liveness?: (() => string | undefined) | undefined;
}

/**
 * The app's exits, for every route registered on it (hooks at the root apply to every plugin,
 * other transports' routes included): each answer counted by route and status, and each refusal
 * counted once in biggan_rejections_total from the error that ended the request. (Requests that
 * never reach routing, 408/400 on the socket, are counted by the client-error handler.)
 */
function countExits(app: FastifyInstance, catalog: Catalog, metrics: Metrics): void {
  app.addHook('onError', async (request, _reply, error) => {
    const reason = refusalReason(error);
    if (reason !== undefined) metrics.rejections.inc({ reason, model: modelLabel(catalog, request) });
  });
  // A callback hook: an async one costs every request a promise and a microtask turn.
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const model = modelLabel(catalog, request);
    metrics.requests.inc({ transport: 'http', route, status: String(reply.statusCode), model });
    metrics.requestDuration.observe({ transport: 'http', route, model }, reply.elapsedTime / 1000);
    done();
  });
}

/** Builds the fastify app with every route, schema, error mapping and metric hook. */
export function buildHttpApp(
  requests: RequestService,
  catalog: Catalog,
  metrics: Metrics,
  opts: HttpAppOptions,
): FastifyInstance {
  const timeouts = {
    requestTimeoutMs: opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    headersTimeoutMs: opts.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS,
  };
  const app = Fastify({
    ...(opts.logger ? { loggerInstance: opts.logger } : { logger: false }),
    bodyLimit: opts.bodyLimitBytes,
    // A client that never finishes sending its request must not hold a socket forever.
    requestTimeout: timeouts.requestTimeoutMs,
    http: serverTimeoutOptions(timeouts),
    clientErrorHandler: clientErrorHandler(metrics, timeouts),
    return503OnClosing: true,
    trustProxy: opts.trustProxy ?? false,
    ...requestIdOptions(),
    // With client certificates required, a peer without one never completes the handshake.
    ...(opts.tls
      ? { https: { ...opts.tls, ...(opts.tls.requestCert ? { requestCert: true, rejectUnauthorized: true } : {}) } }
      : {}),
  }).withTypeProvider<TypeBoxTypeProvider>();
  observeHttp(app, {
    tracing: opts.tracing ?? NOOP_TRACING,
    model: (request) => modelLabel(catalog, request),
    traceProbes: process.env.BIGGAN_TRACE_PROBES === '1',
  });
  countExits(app, catalog, metrics);

  // Validation is the contract check every transport runs: same messages.
  app.setValidatorCompiler(({ schema }) => (data: unknown) => {
    try {
      return { value: check(schema as TSchema, data) };
    } catch (error) {
      return { error: error instanceof Error ? error : new Error(String(error)) };
    }
  });
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
      return reply
        .status(405)
        .header('Allow', allow)
        .send(errorPayload('METHOD_NOT_ALLOWED', `${path} does not answer ${request.method}; allowed: ${allow}`));
    }
    return reply
      .status(404)
      .send(errorPayload('NOT_FOUND', `no route ${request.method} ${quoteValue(path)}; see /docs`));
  });

  // Values in the largest valid request: a z row and a class vector per sample (interpolation: two endpoints).
  const m = catalog.modelInfo();
  registerJsonBody(app, Math.max(2, m.maxSamplesPerRequest) * (m.zDim + m.numClasses) + 4096);
  registerSendLimits(app, { sendTimeoutMs: 30_000, sendBudgetBytes: 128 * 2 ** 20, ...opts.send });
  registerSecurity(app, { corsOrigins: opts.corsOrigins ?? [], tls: opts.tls !== undefined });
  if (opts.keys) requireApiKeys(app, opts.keys, (reason) => metrics.authFailures.inc({ reason }));

  // Docs first: @fastify/swagger collects the routes registered after it.
  registerDocs(app, opts.version);
  app.register(generateRoutes, { requests, catalog });
  app.register(interpolateRoutes, { requests, catalog });
  app.register(infoRoutes, { catalog });
  app.register(healthRoutes, { catalog, liveness: opts.liveness });
  app.register(oipRoutes, {
    requests,
    catalog,
    version: opts.version,
    liveness: opts.liveness,
  });
  if (opts.serveMetrics ?? true) app.register(metricsRoutes, { metrics, token: opts.metricsToken });
  app.register(openaiRoutes, {
    requests,
    catalog,
    publicBaseUrl: opts.publicBaseUrl,
  });
  registerPlayground(app);
  return app;
}
