/**
 * /metrics on a port of its own (--metrics-port): a minimal plain-HTTP fastify app with only
 * /metrics and the probes (/healthz, /readyz), so a NetworkPolicy or firewall can open it to the
 * monitoring system and the kubelet alone (whose probes cannot present a client certificate when
 * the main port requires mutual TLS).
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Metrics } from '../../metrics/metrics.js';
import { metricsRoutes } from './routes/metrics.js';
import { handleError } from './errors.js';
import { healthRoutes } from './routes/health.js';
import type { Catalog } from '../../service/types.js';

/** The metrics-only app (not listening yet). */
export function buildMetricsApp(
  metrics: Metrics,
  catalog: Catalog,
  token?: string,
  liveness?: () => string | undefined,
): FastifyInstance {
  const app = Fastify({ logger: false });
  app.setErrorHandler(handleError);
  app.register(healthRoutes, { catalog, ...(liveness ? { liveness } : {}) });
  app.register(metricsRoutes, { metrics, ...(token !== undefined ? { token } : {}) });
  return app;
}
