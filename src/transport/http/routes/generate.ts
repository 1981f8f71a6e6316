/**
 * POST /generate and GET /generate (and /v1/generate): one image answers the image itself (seed in
 * X-Seed) or, with `Accept: application/json`, its JSON form; several answer JSON; `grid` answers
 * one image of all samples. GET takes the same fields as query parameters, for seeded (repeatable)
 * requests only, so `<img src="/generate?class=207&seed=7">` works and HTTP caches can share it.
 * Seeded answers carry a strong ETag and are cacheable forever; a matching If-None-Match gets 304
 * before anything is computed.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  GenerateQuerySchema,
  GenerateRequestSchema,
  GenerateJsonResponseSchema,
  RequestHeadersSchema,
  type GenerateQuery,
} from '../../../service/contract/schemas.js';
import type { GenerateRequest, GenerateResult, RequestService } from '../../../service/types.js';
import { answerForms } from '../../../service/cache/answer-forms.js';
import { check } from '../../../service/contract/validate.js';
import { invalidArgument } from '../../../errors.js';
import { callContext } from '../call-context.js';
import { imageJson, seedJson } from '../json.js';
import { chooseForm } from '../negotiate.js';
import { cacheHeaders } from '../cache-headers.js';
import { ERROR_RESPONSES, IMAGE_CONTENT, type RouteOptions } from './common.js';
import { queryToGenerateRequest } from '../query.js';
import { classHeaders } from '../headers.js';

const JSON_TYPE = 'application/json';

/** Headers a client reads on image answers. */
const IMAGE_HEADERS = {
  'X-Seed': { description: 'The request base seed (sample i used seed + i).', schema: { type: 'string' } },
  ETag: { description: 'Strong entity tag of a seeded answer (absent for random ones).', schema: { type: 'string' } },
  'Cache-Control': {
    description: '`public, max-age=31536000, immutable` for seeded answers, `no-store` for random ones.',
    schema: { type: 'string' },
  },
};

const RESPONSES = {
  200: {
    description: 'The image, the JSON of several images (or of one with Accept: application/json), or the grid.',
    headers: IMAGE_HEADERS,
    content: { ...IMAGE_CONTENT, [JSON_TYPE]: { schema: GenerateJsonResponseSchema } },
  },
  304: { description: 'Not modified: the If-None-Match ETag matches (nothing was computed).', type: 'null' },
  406: {
    ...ERROR_RESPONSES[400],
    description: 'No form of the answer matches Accept; the message lists the available types.',
  },
  ...ERROR_RESPONSES,
} as const;

async function answer(service: RequestService, req: GenerateRequest, request: FastifyRequest, reply: FastifyReply) {
  const keys = service.generateKeys(req);
  const available = keys.combined ? [keys.mimeType] : keys.count === 1 ? [keys.mimeType, JSON_TYPE] : [JSON_TYPE];
  const form = chooseForm(request.headers.accept, available);
  if (cacheHeaders(request, reply, keys, form)) return reply;
  const result = await service.generate(req, callContext(request, reply));
  if (result.seed !== undefined) reply.header('X-Seed', result.seed.toString());
  if (result.grid) return reply.type(result.grid.mimeType).send(result.grid.data);
  if (form !== JSON_TYPE) {
    const img = result.images[0];
    reply.header('X-Truncation', String(img.truncation));
    reply.headers(classHeaders(img.class));
    return reply.type(img.mimeType).send(img.data);
  }
  const body = jsonBody(result, reply);
  // fastify adds the charset to serialised objects only; shared bytes carry the same type.
  return reply.type(Buffer.isBuffer(body) ? `${JSON_TYPE}; charset=utf-8` : JSON_TYPE).send(body);
}

/**
 * The JSON answer, serialised by the route's response schema. A seeded (cached) answer is
 * serialised once and its bytes shared by every reply (see answer-forms.ts), so slow readers of a
 * large answer do not each pin their own copy.
 */
function jsonBody(result: GenerateResult, reply: FastifyReply): Buffer | object {
  const forms = answerForms(result);
  const shared = forms?.get('json');
  if (shared) return shared;
  const json = {
    ...(result.seed !== undefined ? { seed: seedJson(result.seed) } : {}),
    width: result.width,
    height: result.height,
    images: result.images.map(imageJson),
  };
  if (!forms) return json;
  const serialize = reply.getSerializationFunction('200', JSON_TYPE) as ((v: unknown) => string) | undefined;
  const bytes = Buffer.from(serialize ? serialize(json) : JSON.stringify(json));
  forms.set('json', bytes);
  return bytes;
}

export const generateRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { requests: service }) => {
  for (const url of ['/generate', '/v1/generate']) {
    app.post(
      url,
      {
        schema: {
          summary: url === '/generate' ? 'Generate images' : 'Generate images (versioned path)',
          description:
            'Class-conditional samples: one sample answers the image itself (its seed in X-Seed), several answer JSON, `grid` one tiled image.',
          tags: ['generate'],
          body: GenerateRequestSchema,
          headers: RequestHeadersSchema,
          response: RESPONSES,
        },
      },
      (request, reply) => answer(service, request.body, request, reply),
    );

    app.get(
      url,
      {
        schema: {
          summary: url === '/generate' ? 'Generate a seeded image by URL' : 'Generate by URL (versioned path)',
          description:
            'The POST body as query parameters, for seeded requests (a GET must be repeatable): `<img src="/generate?class=207&seed=7&truncation=0.4">`. `class` is an index, a WordNet id, a name, or a mixture `207:0.7,1:0.3`.',
          tags: ['generate'],
          querystring: GenerateQuerySchema,
          headers: RequestHeadersSchema,
          response: RESPONSES,
        },
      },
      (request, reply) => {
        const query: GenerateQuery = request.query;
        if (query.seed === undefined) {
          throw invalidArgument(
            'seed',
            'is required for GET (a GET must give the same image every time); send POST /generate without a seed for a random sample',
          );
        }
        // The same contract as POST: one set of rules and messages.
        const req = check(GenerateRequestSchema, queryToGenerateRequest(query));
        return answer(service, req, request, reply);
      },
    );
  }
};
