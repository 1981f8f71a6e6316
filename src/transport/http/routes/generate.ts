/**
 * POST /generate (and /v1/generate): one image answers the image itself (seed in X-Seed), several
 * answer JSON, `grid` answers one image of all samples.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { GenerateRequestSchema, GenerateJsonResponseSchema } from '../../../service/contract/schemas.js';
import { callContext } from '../call-context.js';
import { imageJson, seedJson } from '../json.js';
import { ERROR_RESPONSES, IMAGE_CONTENT, type RouteOptions } from './common.js';

export const generateRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { service }) => {
  for (const url of ['/generate', '/v1/generate']) {
    app.post(url, {
      schema: {
        summary: url === '/generate' ? 'Generate images' : 'Generate images (versioned path)',
        description: 'Class-conditional samples: one sample answers the image itself (its seed in X-Seed), several answer JSON, `grid` one tiled image.',
        tags: ['generate'],
        body: GenerateRequestSchema,
        response: {
          200: {
            description: 'The image, the JSON of several images, or the grid.',
            content: {
              ...IMAGE_CONTENT,
              'application/json': { schema: GenerateJsonResponseSchema, description: 'Several samples.' },
            },
          },
          ...ERROR_RESPONSES,
        },
      },
    }, async (request, reply) => {
      const body = request.body;
      const result = await service.generate(body, callContext(reply, body.timeoutMs));
      if (result.seed !== undefined) reply.header('X-Seed', result.seed.toString());
      if (result.grid) return reply.type(result.grid.mimeType).send(result.grid.data);
      if (result.images.length === 1) {
        const img = result.images[0];
        reply.header('X-Truncation', String(img.truncation));
        reply.header('X-Class', JSON.stringify(img.class));
        return reply.type(img.mimeType).send(img.data);
      }
      return reply.send({
        ...(result.seed !== undefined ? { seed: seedJson(result.seed) } : {}),
        width: result.width,
        height: result.height,
        images: result.images.map(imageJson),
      });
    });
  }
};
