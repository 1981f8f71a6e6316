/**
 * /metrics on a port of its own (--metrics-port): a minimal fastify app with only that route, so
 * a NetworkPolicy or firewall can open it to the monitoring system alone.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Metrics } from '../../metrics/metrics.js';
import { metricsRoutes } from './routes/metrics.js';
import { handleError } from './errors.js';

/** The metrics-only app (not listening yet). */
export function buildMetricsApp(metrics: Metrics, token?: string): FastifyInstance {
  const app = Fastify({ logger: false });
  app.setErrorHandler(handleError);
  app.register(metricsRoutes, { metrics, ...(token !== undefined ? { token } : {}) });
  return app;
}
