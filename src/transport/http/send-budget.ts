/**
 * Bounds on answers being written to HTTP clients. A client that asks for a large answer and never
 * reads it keeps its bytes in the server's memory (what the kernel will not take stays in the
 * socket's user-space buffer), so:
 * - a send timeout closes a response that made no progress (nothing taken by the client) for
 *   `sendTimeoutMs`: Node's socket idle timer, armed only once the answer is being written;
 * - a total budget of bytes held by answers being written: a new answer of at least
 *   LARGE_ANSWER_BYTES that would pass it is refused with 503 (retry later). A Buffer shared by
 *   several replies (a cached answer serialised once, see answer-forms.ts) counts once. Per
 *   connection the bound is one answer (HTTP/1.1 writes one response at a time per socket).
 * Hand-written: no fastify plugin bounds write-side memory or applies an idle timeout to the
 * response only (fastify's `connectionTimeout` would also cut requests still being computed).
 */
import type { FastifyInstance } from 'fastify';
import { BigGanError } from '../../errors.js';

/** Answers below this size are never refused: they cannot add up to much before being read. */
export const LARGE_ANSWER_BYTES = 1024 * 1024;

/** Settings of the send limits. */
export interface SendLimits {
  /** Close a response whose client took nothing for this long, ms; 0 turns it off. */
  readonly sendTimeoutMs: number;
  /** Most bytes held by answers being written, all connections together. */
  readonly sendBudgetBytes: number;
}

/** The bytes held by answers being written; shared Buffers are counted once. */
export class SendBudget {
  private held = 0;
  private readonly shared = new Map<Buffer, number>();

  constructor(readonly maxBytes: number) {}

  get bytes(): number {
    return this.held;
  }

  /** Takes `payload`'s bytes, or returns false when a large new one would pass the budget. */
  take(payload: Buffer | string): { ok: boolean; release: () => void } {
    const isBuffer = Buffer.isBuffer(payload);
    const refs = isBuffer ? (this.shared.get(payload) ?? 0) : 0;
    const size = refs > 0 ? 0 : isBuffer ? payload.byteLength : Buffer.byteLength(payload);
    if (size >= LARGE_ANSWER_BYTES && this.held + size > this.maxBytes) return { ok: false, release: () => undefined };
    this.held += size;
    if (isBuffer) this.shared.set(payload, refs + 1);
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.held -= size;
      if (!isBuffer) return;
      const left = (this.shared.get(payload) ?? 1) - 1;
      if (left > 0) this.shared.set(payload, left);
      else this.shared.delete(payload);
    };
    return { ok: true, release };
  }
}

/** Applies the send timeout and the budget to every answer of `app`; returns the budget (metrics, tests). */
export function registerSendLimits(app: FastifyInstance, limits: SendLimits): SendBudget {
  const budget = new SendBudget(limits.sendBudgetBytes);
  app.addHook('onSend', async (request, reply, payload) => {
    if (!Buffer.isBuffer(payload) && typeof payload !== 'string') return payload; // streams pace themselves
    const res = reply.raw;
    const taken = budget.take(payload);
    if (!taken.ok) {
      const mib = (n: number): string => `${Math.round(n / 2 ** 20)} MiB`;
      throw new BigGanError(
        'UNAVAILABLE',
        `too many large answers are being sent (${mib(budget.bytes)} of the ${mib(budget.maxBytes)} send budget held); retry shortly`,
      );
    }
    res.once('close', taken.release);
    if (limits.sendTimeoutMs > 0) {
      res.setTimeout(limits.sendTimeoutMs, () => {
        request.log.warn(
          { sendTimeoutMs: limits.sendTimeoutMs, heldBytes: res.writableLength },
          'send timeout: the client took nothing; closing',
        );
        res.destroy();
      });
    }
    return payload;
  });
  return budget;
}
