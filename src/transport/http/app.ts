/**
 * The REST API on fastify: a thin adapter over the GeneratorService. `buildHttpApp` returns the
 * app without listening, so tests use `app.inject`. One plugin per concern (routes/*); request
 * bodies are checked by the service's contract (the same check gRPC runs), and the route schemas
 * also give the handler types, response serialisation and the OpenAPI document.
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { TSchema } from 'typebox';
import type { Metrics } from '../../metrics/metrics.js';
import type { KeyedGeneratorService } from '../../service/types.js';
import { handleError, errorPayload } from './errors.js';
import { BigGanError, ERROR_TABLE } from '../../errors.js';
import { registerDocs } from './routes/docs.js';
import { generateRoutes } from './routes/generate.js';
import { interpolateRoutes } from './routes/interpolate.js';
import { infoRoutes } from './routes/info.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';

/** Options of the HTTP app. */
export interface HttpAppOptions {
  readonly bodyLimitBytes: number;
  readonly version: string;
  /** fastify logger setting (false in tests). */
  readonly logger?: FastifyServerOptions['logger'];
}

/** Builds the fastify app with every route, schema, error mapping and metric hook. */
export function buildHttpApp(service: KeyedGeneratorService, metrics: Metrics, opts: HttpAppOptions): FastifyInstance {
  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: opts.bodyLimitBytes,
    return503OnClosing: true,
  }).withTypeProvider<TypeBoxTypeProvider>();

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
      metrics.rejections.inc({ reason: status === 413 ? ERROR_TABLE.PAYLOAD_TOO_LARGE.reason : ERROR_TABLE.INVALID_ARGUMENT.reason });
    }
    return handleError(error, request, reply);
  });
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send(errorPayload('NOT_FOUND', `no route ${request.method} ${request.url.slice(0, 200)}; see /docs`));
  });

  // Metrics: every answer, by transport, route and status; duration per route.
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ transport: 'http', route, status: String(reply.statusCode) });
    metrics.requestDuration.observe({ transport: 'http', route }, reply.elapsedTime / 1000);
  });

  // Docs first: @fastify/swagger collects the routes registered after it.
  registerDocs(app, opts.version);
  app.register(generateRoutes, { service });
  app.register(interpolateRoutes, { service });
  app.register(infoRoutes, { service });
  app.register(healthRoutes, { service });
  app.register(metricsRoutes, { metrics });
  return app;
}
