/**
 * Mapping every failure to an HTTP answer, once: BigGanError via ERROR_TABLE (contract violations
 * arrive as INVALID_ARGUMENT BigGanErrors from the validator), fastify's own client errors (bad
 * JSON, body too large) to 4xx, and anything else to a 500 that never leaks internals.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  BigGanError,
  ERROR_TABLE,
  MAX_MESSAGE_CHARS,
  truncateText,
  type ErrorCode,
  type RateLimitState,
} from '../../errors.js';

/** The RateLimit-Limit / -Remaining / -Reset headers (IETF draft; images, images, seconds). */
export function rateLimitHeaders(reply: FastifyReply, state: RateLimitState): void {
  reply.header('RateLimit-Limit', String(state.limit));
  reply.header('RateLimit-Remaining', String(state.remaining));
  reply.header('RateLimit-Reset', String(state.resetSeconds));
}

/** The JSON body of an error answer; message and field are cut to a bounded length whatever built them. */
export function errorPayload(
  code: ErrorCode | string,
  message: string,
  field?: string,
): { error: { code: string; message: string; field?: string } } {
  return {
    error: {
      code,
      message: truncateText(message, MAX_MESSAGE_CHARS),
      ...(field ? { field: truncateText(field, MAX_MESSAGE_CHARS) } : {}),
    },
  };
}

/** fastify error handler: the single place errors become HTTP answers. */
export function handleError(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  // A seeded route sets ETag and an immutable Cache-Control before computing (to answer 304 early);
  // an error must not inherit them, or shared caches would keep it in place of the image.
  reply.removeHeader('etag');
  reply.header('Cache-Control', 'no-store');
  if (err instanceof BigGanError) {
    const status = ERROR_TABLE[err.code].http;
    if (err.retryAfterSeconds !== undefined) reply.header('Retry-After', String(err.retryAfterSeconds));
    else if (status === 503) reply.header('Retry-After', '1');
    if (err.rateLimit) rateLimitHeaders(reply, err.rateLimit);
    if (err.code === 'UNAUTHENTICATED') reply.header('WWW-Authenticate', 'Bearer realm="biggan-serve"');
    if (status >= 500 && err.code === 'INTERNAL') request.log.error({ err }, 'internal error');
    const message = err.code === 'INTERNAL' ? 'internal error' : err.message;
    return reply.status(status).send(errorPayload(err.code, message, err.field));
  }
  // fastify's own errors carry statusCode and code (FST_ERR_*).
  const fe = err instanceof Error ? (err as Error & { statusCode?: unknown; code?: unknown }) : undefined;
  const status = typeof fe?.statusCode === 'number' ? fe.statusCode : 500;
  if (fe && status === 413)
    return reply
      .status(413)
      .send(errorPayload('PAYLOAD_TOO_LARGE', `request body is larger than the limit (${fe.message})`));
  if (fe && status >= 400 && status < 500) {
    const code = fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'UNSUPPORTED_MEDIA_TYPE' : 'INVALID_ARGUMENT';
    return reply.status(status).send(errorPayload(code, fe.message));
  }
  request.log.error({ err }, 'unhandled error');
  return reply.status(500).send(errorPayload('INTERNAL', 'internal error'));
}
