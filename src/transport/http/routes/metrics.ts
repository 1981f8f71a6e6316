/**
 * GET /metrics: Prometheus text exposition of the app's private registry.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Metrics } from '../../../metrics/metrics.js';

export const metricsRoutes: FastifyPluginAsync<{ metrics: Metrics }> = async (app, { metrics }) => {
  app.get('/metrics', {
    schema: { summary: 'Prometheus metrics', tags: ['operations'], produces: ['text/plain'] },
  }, async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
};
