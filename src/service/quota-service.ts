/**
 * Per-key quotas in front of the cache (a RequestService decorator, so every transport shares it).
 * A call made with an API key (`ctx.caller`, set by the transport) is priced by the cache (it
 * calls `ctx.admit` with the images it must compute once it has planned the request and looked
 * up its images): only those are charged (cache hits cost nothing), then
 * - `maxInFlight`: the key's images queued or running in this process must stay within it;
 * - `imagesPerSecond`/`burst`: the cost is taken from the key's token bucket (in process, or in
 *   Redis shared by all replicas). Over either: RATE_LIMITED (429 / RESOURCE_EXHAUSTED) with the
 *   wait until it would fit; a request larger than the burst can never fit: PERMISSION_DENIED.
 * When the quota store (Redis) does not answer, `failure: 'closed'` refuses keyed requests with
 * UNAVAILABLE (503), `'open'` lets them through unmetered.
 * Calls without a caller (no key file) pass straight through.
 */
import { BigGanError, type RateLimitState } from '../errors.js';
import type { Caller } from '../auth/key-store.js';
import type { QuotaStore } from '../auth/quota-store.js';
import { bucketLimits, rateLimitState, type TakeResult } from '../auth/token-bucket.js';
import type {
  CallContext,
  GenerateRequest,
  GenerateResult,
  InterpolateRequest,
  InterpolateResult,
  InterpolationFrame,
  RequestService,
} from './types.js';
import { RequestDecorator } from './request-decorator.js';

/** Hooks for metrics and logs. */
export interface QuotaObserver {
  /** A request refused by `key`'s quota. */
  rejected?(key: string): void;
  /** Images answered to `key` (cached ones included). */
  images?(key: string, count: number): void;
  /** The quota store failed a command (`open`: the request went through unmetered). */
  storeFailed?(err: unknown, failOpen: boolean): void;
}

/** Settings of the quota layer. */
export interface QuotaOptions {
  readonly store: QuotaStore;
  /** What to do when the store does not answer: refuse (`closed`, 503) or allow unmetered (`open`). */
  readonly failure: 'closed' | 'open';
  readonly observer?: QuotaObserver;
}

/** A RequestService enforcing per-key quotas (see the module comment). */
export class QuotaService extends RequestDecorator {
  /** Images queued or running per key name, in this process. */
  private readonly inFlight = new Map<string, number>();

  constructor(
    inner: RequestService,
    private readonly options: QuotaOptions,
  ) {
    super(inner);
  }

  /** Images of `key` queued or running now (tests, metrics). */
  inFlightOf(key: string): number {
    return this.inFlight.get(key) ?? 0;
  }

  override async generate(req: GenerateRequest, ctx: CallContext): Promise<GenerateResult> {
    const caller = ctx.caller;
    if (!caller) return this.inner.generate(req, ctx);
    return this.charged(
      caller,
      ctx,
      (admitted) => this.inner.generate(req, admitted),
      (r) => (r.grid ? (req.count ?? 1) : r.images.length),
    );
  }

  override async interpolate(
    req: InterpolateRequest,
    ctx: CallContext,
    onFrame?: (frame: InterpolationFrame) => void,
  ): Promise<InterpolateResult> {
    const caller = ctx.caller;
    if (!caller) return this.inner.interpolate(req, ctx, onFrame);
    const frames = req.frames;
    return this.charged(
      caller,
      ctx,
      (admitted) => this.inner.interpolate(req, admitted, onFrame),
      (r) => r.frames.length || frames || 1,
    );
  }

  private hasQuota(caller: Caller): boolean {
    return caller.entry.imagesPerSecond !== undefined || caller.entry.maxInFlight !== undefined;
  }

  /**
   * Runs a call whose cost the cache reports through `ctx.admit` (from the plan and lookups it
   * makes anyway, so pricing costs nothing extra): admits or refuses it, holds its images in
   * flight until it ends, and counts its images.
   */
  private async charged<R>(
    caller: Caller,
    ctx: CallContext,
    run: (ctx: CallContext) => Promise<R>,
    imagesOf: (r: R) => number,
  ): Promise<R> {
    const name = caller.name;
    const held = { toCompute: 0 };
    const quota = this.hasQuota(caller);
    const admitted: CallContext = {
      ...ctx,
      admit: async (toCompute: number) => {
        if (!quota || toCompute <= 0) return;
        await this.admit(caller, toCompute, ctx);
        held.toCompute += toCompute;
        this.inFlight.set(name, this.inFlightOf(name) + toCompute);
      },
    };
    try {
      const result = await run(admitted);
      this.options.observer?.images?.(name, imagesOf(result));
      return result;
    } finally {
      const left = this.inFlightOf(name) - held.toCompute;
      if (left > 0) this.inFlight.set(name, left);
      else this.inFlight.delete(name);
    }
  }

  private async admit(caller: Caller, toCompute: number, ctx: CallContext): Promise<void> {
    const { name, entry } = caller;
    if (entry.maxInFlight !== undefined) {
      if (toCompute > entry.maxInFlight) {
        throw this.refused(
          name,
          new BigGanError(
            'PERMISSION_DENIED',
            `a request of ${toCompute} images exceeds key ${name}'s maxInFlight (${entry.maxInFlight}); send smaller requests`,
          ),
        );
      }
      const now = this.inFlightOf(name);
      if (now + toCompute > entry.maxInFlight) {
        throw this.refused(
          name,
          new BigGanError(
            'RATE_LIMITED',
            `key ${name} already has ${now} images queued or running (maxInFlight ${entry.maxInFlight}); retry when some finish`,
            { retryAfterSeconds: 1 },
          ),
        );
      }
    }
    const limits = bucketLimits(entry);
    if (!limits) return;
    if (toCompute > limits.burst) {
      throw this.refused(
        name,
        new BigGanError(
          'PERMISSION_DENIED',
          `a request of ${toCompute} images exceeds key ${name}'s burst (${limits.burst}); send at most ${limits.burst} uncached images per request`,
        ),
      );
    }
    let taken: TakeResult;
    try {
      taken = await this.options.store.take(name, limits, toCompute);
    } catch (err) {
      const failOpen = this.options.failure === 'open';
      this.options.observer?.storeFailed?.(err, failOpen);
      if (failOpen) return;
      throw new BigGanError(
        'UNAVAILABLE',
        'the quota store (Redis) is not answering, and quotas fail closed (--quota-redis-failure closed): requests with a quota are refused until it is back; retry shortly',
      );
    }
    const state: RateLimitState = rateLimitState(limits, taken.tokens);
    if (!taken.allowed) {
      const retryAfterSeconds = Math.max(1, Math.ceil(taken.retryAfterMs / 1000));
      throw this.refused(
        name,
        new BigGanError(
          'RATE_LIMITED',
          `key ${name} is over its quota of ${limits.imagesPerSecond} images/s (burst ${limits.burst}): this request needs ${toCompute}; retry in ${retryAfterSeconds} s`,
          { retryAfterSeconds, rateLimit: state },
        ),
      );
    }
    ctx.onRateLimit?.(state);
  }

  private refused(name: string, err: BigGanError): BigGanError {
    this.options.observer?.rejected?.(name);
    return err;
  }
}
