/**
 * The CallContext of a REST request: its signal aborts when the client goes away before the answer
 * is sent, so the request's queued samples are dropped and never computed.
 */
import type { FastifyReply } from 'fastify';
import type { CallContext } from '../../service/types.js';

/** A context for one request; `timeoutMs` bounds its time in the queue. */
export function callContext(reply: FastifyReply, timeoutMs?: number): CallContext {
  const controller = new AbortController();
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return { signal: controller.signal, transport: 'http', ...(timeoutMs !== undefined ? { timeoutMs } : {}) };
}
