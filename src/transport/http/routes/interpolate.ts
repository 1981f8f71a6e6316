/**
 * POST /interpolate (and /v1/interpolate): an animation (GIF/WebP), JSON frames (png/jpeg), or a
 * grid of the frames.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { InterpolateRequestSchema, InterpolateJsonResponseSchema } from '../../../service/contract/schemas.js';
import { callContext } from '../call-context.js';
import { imageJson } from '../json.js';
import { ERROR_RESPONSES, ANIMATION_CONTENT, type RouteOptions } from './common.js';

export const interpolateRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { service }) => {
  for (const url of ['/interpolate', '/v1/interpolate']) {
    app.post(url, {
      schema: {
        summary: url === '/interpolate' ? 'Interpolate between two endpoints' : 'Interpolate (versioned path)',
        description: 'Frames between two (seed or z, class or classVector) endpoints: an animation, JSON frames, or a grid.',
        tags: ['interpolate'],
        body: InterpolateRequestSchema,
        response: {
          200: {
            description: 'The animation, the grid, or JSON frames.',
            content: {
              ...ANIMATION_CONTENT,
              'application/json': { schema: InterpolateJsonResponseSchema, description: 'Frames (format png or jpeg without grid).' },
            },
          },
          ...ERROR_RESPONSES,
        },
      },
    }, async (request, reply) => {
      const body = request.body;
      const result = await service.interpolate(body, callContext(reply, body.timeoutMs));
      const out = result.animation ?? result.grid;
      if (out) return reply.type(out.mimeType).send(out.data);
      return reply.send({ width: result.width, height: result.height, frames: result.frames.map(imageJson) });
    });
  }
};
