/**
 * POST /interpolate (and /v1/interpolate): an animation (GIF/WebP), JSON frames (png/jpeg), or a
 * grid of the frames.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  InterpolateRequestSchema,
  InterpolateJsonResponseSchema,
  RequestHeadersSchema,
} from '../../../service/contract/schemas.js';
import { callContext } from '../call-context.js';
import { imageJson } from '../json.js';
import { ERROR_RESPONSES, ANIMATION_CONTENT, type RouteOptions } from './common.js';
import { chooseForm } from '../negotiate.js';
import { cacheHeaders } from '../cache-headers.js';
import { BigGanError } from '../../../errors.js';

const JSON_TYPE = 'application/json';

export const interpolateRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { requests: service }) => {
  for (const url of ['/interpolate', '/v1/interpolate']) {
    app.post(
      url,
      {
        schema: {
          summary: url === '/interpolate' ? 'Interpolate between two endpoints' : 'Interpolate (versioned path)',
          description:
            'Frames between two (seed or z, class or classVector) endpoints: an animation, JSON frames, or a grid.',
          tags: ['interpolate'],
          body: InterpolateRequestSchema,
          headers: RequestHeadersSchema,
          response: {
            200: {
              description: 'The animation, the grid, or JSON frames.',
              content: {
                ...ANIMATION_CONTENT,
                'application/json': {
                  schema: InterpolateJsonResponseSchema,
                  description: 'Frames (format png or jpeg without grid).',
                },
              },
            },
            304: { description: 'Not modified: the If-None-Match ETag matches (nothing was computed).', type: 'null' },
            ...ERROR_RESPONSES,
          },
        },
      },
      async (request, reply) => {
        const body = request.body;
        const keys = service.interpolateKeys(body);
        // An animation or grid can also be answered as its JSON frames (Accept: application/json).
        const form = chooseForm(request.headers.accept, keys.combined ? [keys.mimeType, JSON_TYPE] : [JSON_TYPE]);
        if (cacheHeaders(request, reply, keys, form)) return reply;
        const ctx = callContext(request, reply);
        if (form === JSON_TYPE) {
          // Asking for frames (onFrame) makes the service encode each frame even for an animation.
          const result = await service.interpolate(body, ctx, () => undefined);
          return reply
            .type(JSON_TYPE)
            .send({ width: result.width, height: result.height, frames: result.frames.map(imageJson) });
        }
        const result = await service.interpolate(body, ctx);
        const out = result.animation ?? result.grid;
        if (!out) throw new BigGanError('INTERNAL', 'an animation or grid was expected');
        return reply.type(out.mimeType).send(out.data);
      },
    );
  }
};
