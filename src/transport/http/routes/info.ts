/**
 * What the server serves: GET /v1/models (every model of the repository with its state),
 * GET /v1/models/{name}, GET /v1/models/{name}/ready (200 / 503) and GET /v1/classes.
 */
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  ClassesResponseSchema,
  ModelsResponseSchema,
  ModelStatusSchema,
  StatusResponseSchema,
} from '../../../service/contract/schemas.js';
import type { Catalog, ModelStatus } from '../../../service/types.js';
import { BigGanError } from '../../../errors.js';
import { ERROR_RESPONSES, type RouteOptions } from './common.js';

const NameParams = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 128, description: 'Model name, as GET /v1/models lists it.' }) },
  { additionalProperties: false },
);

/** A ModelStatus as JSON (mutable lists, for the response schema). */
type ModelJson = Omit<ModelStatus, 'formats' | 'truncation'> & {
  formats: string[];
  truncation: { min: number; max: number; default: number };
};

/** Every model with its state, as JSON. */
function models(catalog: Catalog): ModelJson[] {
  return catalog.listModels().map((m) => ({ ...m, formats: [...m.formats], truncation: { ...m.truncation } }));
}

function one(catalog: Catalog, name: string): ModelJson {
  const all = models(catalog);
  const found = all.find((m) => m.name === name);
  if (!found)
    throw new BigGanError(
      'NOT_FOUND',
      `model ${JSON.stringify(name.slice(0, 64))} is not served; models: ${all.map((m) => m.name).join(', ')}`,
    );
  return found;
}

export const infoRoutes: FastifyPluginAsyncTypebox<Pick<RouteOptions, 'catalog'>> = async (app, { catalog }) => {
  app.get(
    '/v1/models',
    {
      schema: {
        summary: 'Every model served: state, resolution, engine, batching settings and memory estimate',
        tags: ['models'],
        response: { 200: ModelsResponseSchema },
      },
    },
    async () => ({ models: models(catalog) }),
  );
  app.get(
    '/v1/models/:name',
    {
      schema: {
        summary: 'One model and its state',
        tags: ['models'],
        params: NameParams,
        response: { 200: ModelStatusSchema, 404: ERROR_RESPONSES[404] },
      },
    },
    async (request) => one(catalog, request.params.name),
  );
  app.get(
    '/v1/models/:name/ready',
    {
      schema: {
        summary: 'Readiness of one model: 200 when loaded and warm, else 503',
        tags: ['models'],
        params: NameParams,
        response: { 200: StatusResponseSchema, 503: StatusResponseSchema, 404: ERROR_RESPONSES[404] },
      },
    },
    async (request, reply) => {
      const m = one(catalog, request.params.name);
      const ready = m.state === 'ready' && (m.default ? catalog.isReady() : true);
      return reply.status(ready ? 200 : 503).send({
        status: ready ? 'ready' : m.state === 'failed' ? `failed: ${m.reason ?? ''}` : `not ready (${m.state})`,
      });
    },
  );
  app.get(
    '/v1/classes',
    {
      schema: {
        summary: "The model's classes (1000 ImageNet classes with WordNet ids and names)",
        tags: ['models'],
        response: { 200: ClassesResponseSchema },
      },
    },
    async () => ({
      classes: catalog.listClasses().map((c) => ({ index: c.index, wnid: c.wnid, names: [...c.names] })),
    }),
  );
};
