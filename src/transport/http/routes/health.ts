/**
 * Probes: GET /healthz (the process answers) and GET /readyz (ready to take traffic: weights
 * loaded, warmed up, not draining).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { StatusResponseSchema } from '../../../service/contract/schemas.js';
import type { RouteOptions } from './common.js';

export const healthRoutes: FastifyPluginAsyncTypebox<Pick<RouteOptions, 'catalog'>> = async (app, { catalog }) => {
  app.get('/healthz', {
    schema: { summary: 'Liveness: the process answers', tags: ['operations'], response: { 200: StatusResponseSchema } },
  }, async () => ({ status: 'ok' }));
  app.get('/readyz', {
    schema: { summary: 'Readiness: 200 when the model is loaded and warm and the server is not draining', tags: ['operations'], response: { 200: StatusResponseSchema, 503: StatusResponseSchema } },
  }, async (_request, reply) => {
    const ready = catalog.isReady();
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready' });
  });
};
