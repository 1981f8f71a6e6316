/**
 * Token-bucket arithmetic, shared by the in-process store and (as a Lua script) the Redis store:
 * a bucket holds up to `burst` images and refills at `imagesPerSecond`; a request takes its cost
 * or, when the bucket holds too little, takes nothing and learns how long until it would fit.
 */
import type { RateLimitState } from '../errors.js';
import type { Quota } from './key-file.js';

/** A quota with a rate (the bucket's parameters). */
export interface BucketLimits {
  readonly imagesPerSecond: number;
  readonly burst: number;
}

/** The outcome of taking from a bucket. */
export interface TakeResult {
  readonly allowed: boolean;
  /** Tokens left after the take (fractional). */
  readonly tokens: number;
  /** When refused: ms until the bucket holds `cost` tokens. */
  readonly retryAfterMs: number;
}

/** The bucket parameters of a quota, or undefined when it has no rate. Burst defaults to ceil(rate), at least 1. */
export function bucketLimits(quota: Quota): BucketLimits | undefined {
  if (quota.imagesPerSecond === undefined) return undefined;
  return {
    imagesPerSecond: quota.imagesPerSecond,
    burst: quota.burst ?? Math.max(1, Math.ceil(quota.imagesPerSecond)),
  };
}

/** The RateLimit-* state of a bucket holding `tokens`. */
export function rateLimitState(limits: BucketLimits, tokens: number): RateLimitState {
  return {
    limit: limits.burst,
    remaining: Math.max(0, Math.floor(tokens + 1e-9)),
    resetSeconds: Math.max(0, Math.ceil((limits.burst - tokens) / limits.imagesPerSecond - 1e-9)),
  };
}

/** One bucket's state: tokens at time `at` (ms). */
export interface BucketState {
  tokens: number;
  at: number;
}

/** Refills `state` to `now` and takes `cost` if it fits (mutates `state`). */
export function take(state: BucketState, limits: BucketLimits, cost: number, now: number): TakeResult {
  if (now > state.at) {
    state.tokens = Math.min(limits.burst, state.tokens + ((now - state.at) * limits.imagesPerSecond) / 1000);
    state.at = now;
  }
  if (state.tokens + 1e-9 >= cost) {
    state.tokens = Math.max(0, state.tokens - cost);
    return { allowed: true, tokens: state.tokens, retryAfterMs: 0 };
  }
  return {
    allowed: false,
    tokens: state.tokens,
    retryAfterMs: Math.ceil(((cost - state.tokens) * 1000) / limits.imagesPerSecond),
  };
}
