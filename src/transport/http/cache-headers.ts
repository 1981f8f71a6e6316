/**
 * HTTP caching of answers: strong ETags, 304 on a matching If-None-Match (before anything is
 * computed), Cache-Control (immutable for seeded answers, no-store for random ones) and Vary.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { compositeKey, etagOf, ifNoneMatchHits } from '../../service/cache/cache-keys.js';
import type { CacheKeys } from '../../service/types.js';

/** Seeded answers never change: the same URL or body always gives the same bytes. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * Sets ETag, Cache-Control and Vary for an answer of `keys` in the chosen `form` (MIME type), and
 * answers 304 when the client already has it. Returns true when the 304 was sent.
 */
export function cacheHeaders(request: FastifyRequest, reply: FastifyReply, keys: CacheKeys, form: string): boolean {
  // Accept picks the form (image or JSON, or 406), so a shared cache must key on it.
  reply.header('Vary', 'Accept');
  if (!keys.cacheable) {
    reply.header('Cache-Control', 'no-store');
    return false;
  }
  const etag = etagOf(compositeKey(form, [keys.response]));
  reply.header('ETag', etag);
  reply.header('Cache-Control', IMMUTABLE);
  if (ifNoneMatchHits(request.headers['if-none-match'], etag)) {
    reply.code(304).send();
    return true;
  }
  return false;
}
