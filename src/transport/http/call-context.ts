/**
 * The CallContext of a REST request: its signal aborts when the client goes away before the answer
 * is sent (so the request's queued samples are dropped and never computed), its queue budget is
 * the `X-Request-Timeout` header (checked by the route's header schema), and it carries the
 * request's trace.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CallContext } from '../../service/types.js';
import { requestTraceOf } from './observer.js';
import { callerOf } from './auth.js';
import { rateLimitHeaders } from './errors.js';

/** A context for one request (the body's own `timeoutMs` is applied by the service; the smaller wins). */
export function callContext(request: FastifyRequest, reply: FastifyReply): CallContext {
  const controller = new AbortController();
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  const header = request.headers['x-request-timeout'];
  const timeoutMs = typeof header === 'string' ? Number(header.trim()) : undefined;
  const trace = requestTraceOf(request);
  const caller = callerOf(request);
  return {
    signal: controller.signal,
    transport: 'http',
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(trace ? { trace } : {}),
    ...(caller ? { caller, onRateLimit: (state) => rateLimitHeaders(reply, state) } : {}),
  };
}
