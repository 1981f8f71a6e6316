/**
 * GET /metrics: Prometheus text exposition of the app's private registry; with a token, only for
 * `Authorization: Bearer TOKEN`.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Metrics } from '../../../metrics/metrics.js';
import { metricsTokenHook } from '../auth.js';

/** Options of the /metrics route. */
export interface MetricsRouteOptions {
  readonly metrics: Metrics;
  /** When set, scrapes must send it as a Bearer token (--metrics-token). */
  readonly token?: string | undefined;
}

export const metricsRoutes: FastifyPluginAsync<MetricsRouteOptions> = async (app, { metrics, token }) => {
  app.get(
    '/metrics',
    {
      schema: { summary: 'Prometheus metrics', tags: ['operations'], produces: ['text/plain'] },
      ...(token !== undefined
        ? { preHandler: metricsTokenHook(token, (reason) => metrics.authFailures.inc({ reason })) }
        : {}),
    },
    async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
};
