/**
 * Token buckets in Redis, shared by every replica: one Lua script refills and takes atomically
 * (Redis runs a script alone), with Redis's own clock (`TIME`), so replicas whose clocks differ
 * still agree. A bucket is a hash `{tokens, at}` that expires once it would be full anyway.
 *
 * Commands fail fast while Redis is away (no offline queue, bounded command time); ioredis keeps
 * reconnecting in the background, and `onStateChange` reports each loss and recovery once.
 */
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type { QuotaStore } from './quota-store.js';
import type { BucketLimits, TakeResult } from './token-bucket.js';

/**
 * KEYS[1] bucket; ARGV: rate (images/s), burst, cost. Returns {allowed, tokens as text (a float
 * would be truncated to an integer), retry ms}. Mirrors `take` in token-bucket.ts.
 */
export const TAKE_SCRIPT = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local s = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(s[1]) or burst
local at = tonumber(s[2]) or now
if tokens > burst then tokens = burst end
if now > at then
  tokens = math.min(burst, tokens + (now - at) * rate / 1000)
  at = now
end
local allowed = 0
local retry = 0
if tokens + 1e-9 >= cost then
  tokens = math.max(0, tokens - cost)
  allowed = 1
else
  retry = math.ceil((cost - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(at))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return {allowed, tostring(tokens), retry}
`;
const TAKE_SHA = createHash('sha1').update(TAKE_SCRIPT).digest('hex');

/** Settings of the Redis store. */
export interface RedisQuotaOptions {
  /** `redis://[:PASSWORD@]HOST:PORT[/DB]` (or `rediss://` for TLS). */
  readonly url: string;
  /** Prefix of bucket keys (default `biggan:quota:`). */
  readonly prefix?: string;
  /** Longest wait for one command, ms (default 500): past it the store counts as down. */
  readonly commandTimeoutMs?: number;
  /** Called when Redis becomes unreachable (with why) and when it is back. */
  readonly onStateChange?: (up: boolean, reason?: string) => void;
}

/** The Redis address without its password, for log lines. */
export function redactedRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = 'REDACTED';
    return u.toString();
  } catch {
    return 'redis (unparsable address)';
  }
}

/** Buckets in Redis (see the module comment). */
export class RedisQuotaStore implements QuotaStore {
  private readonly redis: Redis;
  private readonly prefix: string;
  private up: boolean | undefined;

  constructor(private readonly options: RedisQuotaOptions) {
    this.prefix = options.prefix ?? 'biggan:quota:';
    this.redis = new Redis(options.url, {
      lazyConnect: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeoutMs ?? 500,
      connectTimeout: 2000,
      // Keep trying forever, at most every second: quotas come back as soon as Redis does.
      retryStrategy: (times) => Math.min(50 * times, 1000),
    });
    this.redis.on('ready', () => this.setUp(true));
    this.redis.on('error', (err: Error) => this.setUp(false, err.message));
    this.redis.on('close', () => this.setUp(false, 'connection closed'));
  }

  private setUp(up: boolean, reason?: string): void {
    if (this.up === up) return;
    // Before the first answer a failure counts as a change; the first success after start-up is not news.
    const first = this.up === undefined;
    this.up = up;
    if (!(first && up)) this.options.onStateChange?.(up, reason);
  }

  /** True once connected and until the connection is lost. */
  get connected(): boolean {
    return this.redis.status === 'ready';
  }

  async take(key: string, limits: BucketLimits, cost: number): Promise<TakeResult> {
    const k = this.prefix + key;
    const args = [String(limits.imagesPerSecond), String(limits.burst), String(cost)];
    let reply: unknown;
    try {
      reply = await this.redis.evalsha(TAKE_SHA, 1, k, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.includes('NOSCRIPT')) {
        this.setUp(false, err instanceof Error ? err.message : String(err));
        throw err;
      }
      reply = await this.redis.eval(TAKE_SCRIPT, 1, k, ...args);
    }
    this.setUp(true);
    if (!Array.isArray(reply) || reply.length !== 3)
      throw new Error(`unexpected reply from the quota script: ${JSON.stringify(reply)}`);
    return { allowed: Number(reply[0]) === 1, tokens: Number(reply[1]), retryAfterMs: Number(reply[2]) };
  }

  async close(): Promise<void> {
    this.redis.disconnect(false);
  }
}
