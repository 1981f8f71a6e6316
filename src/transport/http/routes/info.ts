/**
 * What the server serves: GET /v1/models and GET /v1/classes.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ClassesResponseSchema, ModelsResponseSchema } from '../../../service/contract/schemas.js';
import type { RouteOptions } from './common.js';

export const infoRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { service }) => {
  app.get('/v1/models', {
    schema: { summary: 'The served model, its engine and limits', tags: ['models'], response: { 200: ModelsResponseSchema } },
  }, async () => ({ models: [{ ...service.model, formats: [...service.model.formats] }] }));
  app.get('/v1/classes', {
    schema: { summary: 'The model\'s classes (1000 ImageNet classes with WordNet ids and names)', tags: ['models'], response: { 200: ClassesResponseSchema } },
  }, async () => ({ classes: service.listClasses().map((c) => ({ index: c.index, wnid: c.wnid, names: [...c.names] })) }));
};
