/**
 * Probes: GET /healthz (the process answers, and no GPU engine is presumed lost) and GET /readyz
 * (ready to take traffic: weights loaded, warmed up, not draining).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { StatusResponseSchema } from '../../../service/contract/schemas.js';
import type { RouteOptions } from './common.js';

/** The probes' options: with `liveness`, /healthz fails once it names a reason (engine/liveness.ts). */
export interface HealthRouteOptions extends Pick<RouteOptions, 'catalog'> {
  readonly liveness?: (() => string | undefined) | undefined;
}

export const healthRoutes: FastifyPluginAsyncTypebox<HealthRouteOptions> = async (app, { catalog, liveness }) => {
  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Liveness: the process answers and no GPU engine has been failing past --engine-liveness-timeout-ms',
        tags: ['operations'],
        response: { 200: StatusResponseSchema, 503: StatusResponseSchema },
      },
    },
    async (_request, reply) => {
      // A lost GPU context only comes back with a new process: 503 makes Kubernetes restart the container.
      const lost = liveness?.();
      return lost === undefined ? { status: 'ok' } : reply.status(503).send({ status: `not live: ${lost}` });
    },
  );
  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Readiness: 200 when the model is loaded and warm and the server is not draining',
        tags: ['operations'],
        response: { 200: StatusResponseSchema, 503: StatusResponseSchema },
      },
    },
    async (_request, reply) => {
      const ready = catalog.isReady();
      return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready' });
    },
  );
};
