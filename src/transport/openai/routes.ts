/**
 * An OpenAI-compatible images API at /openai/v1, so OpenAI's SDKs (and what is built on them)
 * draw ImageNet classes from this server by changing only their base URL:
 * - POST /openai/v1/images/generations: the prompt's classes, `n` images as PNG, inline
 *   (`b64_json`) or as seeded GET /generate URLs (`url`), each with a `revised_prompt` saying what
 *   was drawn;
 * - GET /openai/v1/models and /openai/v1/models/{id}: the models served, in OpenAI's list shape.
 * It is a thin adapter over the native request path (service-port.ts): API keys, quotas, the
 * response cache, deadlines, metrics, tracing and logs are those of POST /generate. Errors are
 * OpenAI-shaped under this prefix only (errors.ts). See docs/openai.md.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { BigGanError } from '../../errors.js';
import { RequestHeadersSchema } from '../../service/contract/schemas.js';
import type { Catalog, RequestService } from '../../service/types.js';
import { setRequestModel } from '../http/model-label.js';
import { useOpenAiErrors } from './errors.js';
import { baseUrlOf, seededImageUrl } from './image-urls.js';
import { chooseModel, planImages, revisedPrompt, type ImagesPlan } from './plan.js';
import {
  ImagesRequestSchema,
  ImagesResponseSchema,
  ModelListSchema,
  ModelObjectSchema,
  ModelParamsSchema,
  type ImageData,
  type ModelObject,
} from './schemas.js';
import { servicePort, type OpenAiServicePort } from './service-port.js';

/** Where the API is mounted: `new OpenAI({ baseURL: 'http://host:8080/openai/v1' })`. */
export const OPENAI_PREFIX = '/openai/v1';

/** What the routes need from the app. */
export interface OpenAiRouteOptions {
  readonly requests: RequestService;
  readonly catalog: Catalog;
  /** Base of `url` answers (e.g. https://images.example.com/biggan); absent: the request's origin. */
  readonly publicBaseUrl?: string | undefined;
}

/** `owned_by` of every model. */
const OWNER = 'biggan-serve';

const unixSeconds = () => Math.floor(Date.now() / 1000);

/** The answer's images: PNG bytes inline, or the seeded URL that gives the same bytes. */
function imageData(
  plan: ImagesPlan,
  images: Awaited<ReturnType<OpenAiServicePort['generate']>>['images'],
  base: string,
): ImageData[] {
  return images.map((img) => {
    const revised_prompt = revisedPrompt(plan, img.truncation, img.seed);
    if (plan.responseFormat === 'b64_json' || img.seed === undefined)
      return { b64_json: img.data.toString('base64'), revised_prompt };
    const url = seededImageUrl(base, {
      model: plan.native.model,
      class: plan.native.class as number | Record<string, number>,
      seed: img.seed,
      truncation: img.truncation,
    });
    return { url, revised_prompt };
  });
}

const routes: FastifyPluginAsyncTypebox<OpenAiRouteOptions> = async (app, opts) => {
  const port = servicePort(opts.requests, opts.catalog);
  // Models have no creation date of their own: `created` is when this server started serving.
  const started = unixSeconds();
  const modelObject = (name: string): ModelObject => ({ id: name, object: 'model', created: started, owned_by: OWNER });
  useOpenAiErrors(app);

  app.post(
    '/images/generations',
    {
      schema: {
        summary: 'OpenAI-compatible image generation (prompt -> ImageNet classes)',
        description:
          "OpenAI's images.generate: the prompt names ImageNet classes (keyword matching, see docs/openai.md); " +
          'answers PNGs inline (b64_json) or as seeded GET /generate URLs (url).',
        tags: ['openai'],
        body: ImagesRequestSchema,
        headers: RequestHeadersSchema,
        response: { 200: ImagesResponseSchema },
      },
    },
    async (request, reply) => {
      const models = port.models();
      // The `model` label of the request's metrics and log line: the model it resolves to (named, or serving `size`).
      const model = chooseModel(request.body, models);
      setRequestModel(request, model.name);
      const plan = planImages(request.body, models, model);
      const result = await port.generate(plan.native, request, reply);
      const base = plan.responseFormat === 'url' ? baseUrlOf(request, opts.publicBaseUrl) : '';
      // A POST answer (random seeds included) is never stored by HTTP caches; its URLs are.
      reply.header('Cache-Control', 'no-store');
      return { created: unixSeconds(), data: imageData(plan, result.images, base) };
    },
  );

  app.get(
    '/models',
    {
      schema: {
        summary: "The models served, in OpenAI's list shape",
        tags: ['openai'],
        response: { 200: ModelListSchema },
      },
    },
    async () => ({ object: 'list' as const, data: port.models().map((m) => modelObject(m.name)) }),
  );

  app.get(
    '/models/:id',
    {
      schema: {
        summary: "One model, in OpenAI's shape",
        tags: ['openai'],
        params: ModelParamsSchema,
        response: { 200: ModelObjectSchema },
      },
    },
    async (request) => {
      const models = port.models();
      if (!models.some((m) => m.name === request.params.id)) {
        const list = models.map((m) => m.name).join(', ');
        throw new BigGanError(
          'NOT_FOUND',
          `model ${JSON.stringify(request.params.id.slice(0, 64))} is not served; models: ${list}`,
          { field: 'model' },
        );
      }
      return modelObject(request.params.id);
    },
  );
};

/**
 * The OpenAI-compatible API, mounted at OPENAI_PREFIX:
 * `app.register(openaiRoutes, { requests, catalog, publicBaseUrl })`.
 */
export const openaiRoutes: FastifyPluginAsync<OpenAiRouteOptions> = async (app, opts) => {
  await app.register(routes, { ...opts, prefix: OPENAI_PREFIX });
};
