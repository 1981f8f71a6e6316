/**
 * Where token buckets live. `LocalQuotaStore` keeps them in the process (each replica enforces
 * the limit on its own); `RedisQuotaStore` (redis-quota-store.ts) shares them between replicas.
 */
import { take, type BucketLimits, type BucketState, type TakeResult } from './token-bucket.js';

/** Takes images from a key's bucket. */
export interface QuotaStore {
  /** Takes `cost` images from `key`'s bucket if they fit. Rejects when the store cannot answer (Redis down). */
  take(key: string, limits: BucketLimits, cost: number): Promise<TakeResult>;
  /** Frees connections and timers. */
  close(): Promise<void>;
}

/** Buckets in this process's memory. */
export class LocalQuotaStore implements QuotaStore {
  private readonly buckets = new Map<string, BucketState>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  async take(key: string, limits: BucketLimits, cost: number): Promise<TakeResult> {
    return this.takeNow(key, limits, cost);
  }

  /** The synchronous take (no promise hop on the hot path when the caller can use it). */
  takeNow(key: string, limits: BucketLimits, cost: number): TakeResult {
    const now = this.now();
    let state = this.buckets.get(key);
    if (!state) {
      state = { tokens: limits.burst, at: now };
      this.buckets.set(key, state);
    }
    // A quota lowered by a key-file reload applies at once.
    if (state.tokens > limits.burst) state.tokens = limits.burst;
    return take(state, limits, cost, now);
  }

  async close(): Promise<void> {
    this.buckets.clear();
  }
}
