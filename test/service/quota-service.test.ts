/**
 * The quota layer on a fake priced service: callers without a key pass straight through, only
 * uncached images are charged, maxInFlight holds while requests run, and a failing store fails
 * closed (UNAVAILABLE) or open by setting.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QuotaService } from '../../src/service/quota-service.js';
import { LocalQuotaStore, type QuotaStore } from '../../src/auth/quota-store.js';
import { BigGanError, type RateLimitState } from '../../src/errors.js';
import type { Caller } from '../../src/auth/key-store.js';
import type { ApiKeyEntry } from '../../src/auth/key-file.js';
import type { CallContext, GenerateRequest, GenerateResult, RequestService } from '../../src/service/types.js';
import { isLoopback } from '../../src/access.js';

/**
 * A service that, like the cache, reports `toCompute` of a request's images through `ctx.admit`
 * before computing, and finishes when `release()` is called.
 */
function fakeService(toCompute: () => number) {
  const waiting: (() => void)[] = [];
  let calls = 0;
  const svc: Pick<RequestService, 'generate'> = {
    generate: async (req: GenerateRequest, ctx: CallContext): Promise<GenerateResult> => {
      await ctx.admit?.(Math.min(req.count ?? 1, toCompute()));
      calls++;
      await new Promise<void>((resolve) => waiting.push(resolve));
      return {
        images: Array.from({ length: req.count ?? 1 }, (_, index) => ({
          data: Buffer.alloc(1),
          mimeType: 'image/png',
          truncation: 0.4,
          class: {},
          index,
        })),
        width: 1,
        height: 1,
      };
    },
  };
  return {
    svc: svc as RequestService,
    release: async () => {
      // After the quota layer's own awaits, when the call has reached the service.
      await new Promise((r) => setImmediate(r));
      waiting.splice(0).forEach((r) => r());
    },
    calls: () => calls,
  };
}

const caller = (entry: Omit<ApiKeyEntry, 'sha256'>): Caller => ({
  name: entry.name,
  entry: { sha256: '0'.repeat(64), ...entry },
});
const ctx = (c?: Caller, onRateLimit?: (s: RateLimitState) => void): CallContext => ({
  transport: 'http',
  ...(c ? { caller: c } : {}),
  ...(onRateLimit ? { onRateLimit } : {}),
});
const code = (err: unknown) => (err instanceof BigGanError ? err.code : String(err));

test('no caller: straight through, nothing priced', async () => {
  let priced = 0;
  const fake = fakeService(() => (priced++, 1));
  const q = new QuotaService(fake.svc, { store: new LocalQuotaStore(), failure: 'closed' });
  const p = q.generate({ class: 1 }, ctx());
  await fake.release();
  await p;
  assert.equal(priced, 0, 'no admit hook without a caller');
});

test('only uncached images are charged; the state reaches the transport', async () => {
  let uncached = 0;
  const fake = fakeService(() => uncached);
  const states: RateLimitState[] = [];
  const q = new QuotaService(fake.svc, { store: new LocalQuotaStore(() => 0), failure: 'closed' });
  const alice = caller({ name: 'alice', imagesPerSecond: 1, burst: 2 });
  for (let i = 0; i < 5; i++) {
    const p = q.generate(
      { class: 1, count: 2 },
      ctx(alice, (s) => states.push(s)),
    );
    await fake.release();
    await p;
  }
  assert.equal(states.length, 0, 'all cached: no bucket touched');
  uncached = 2;
  const p = q.generate(
    { class: 1, count: 2 },
    ctx(alice, (s) => states.push(s)),
  );
  await fake.release();
  await p;
  assert.deepEqual(states, [{ limit: 2, remaining: 0, resetSeconds: 2 }]);
  await assert.rejects(q.generate({ class: 1 }, ctx(alice)), (e: unknown) => code(e) === 'RATE_LIMITED');
});

test('maxInFlight caps the images queued or running, and frees them when they finish', async () => {
  const fake = fakeService(() => 8);
  const q = new QuotaService(fake.svc, { store: new LocalQuotaStore(), failure: 'closed' });
  const bob = caller({ name: 'bob', maxInFlight: 3 });
  const first = q.generate({ class: 1, count: 2 }, ctx(bob));
  await new Promise((r) => setImmediate(r));
  assert.equal(q.inFlightOf('bob'), 2);
  await assert.rejects(q.generate({ class: 1, count: 2 }, ctx(bob)), (e: unknown) => code(e) === 'RATE_LIMITED');
  await assert.rejects(q.generate({ class: 1, count: 4 }, ctx(bob)), (e: unknown) => code(e) === 'PERMISSION_DENIED');
  await fake.release();
  await first;
  assert.equal(q.inFlightOf('bob'), 0);
  const again = q.generate({ class: 1, count: 3 }, ctx(bob));
  await new Promise((r) => setImmediate(r));
  await fake.release();
  await again;
});

test('a failing store fails closed with UNAVAILABLE, or open without metering', async () => {
  const broken: QuotaStore = {
    take: async () => Promise.reject(new Error('connection refused')),
    close: async () => undefined,
  };
  const failures: boolean[] = [];
  const carol = caller({ name: 'carol', imagesPerSecond: 1 });
  const fake = fakeService(() => 1);
  const closed = new QuotaService(fake.svc, {
    store: broken,
    failure: 'closed',
    observer: { storeFailed: (_e, open) => failures.push(open) },
  });
  await assert.rejects(
    closed.generate({ class: 1 }, ctx(carol)),
    (e: unknown) => code(e) === 'UNAVAILABLE' && /Redis/.test((e as Error).message),
  );
  const open = new QuotaService(fake.svc, {
    store: broken,
    failure: 'open',
    observer: { storeFailed: (_e, o) => failures.push(o) },
  });
  const p = open.generate({ class: 1 }, ctx(carol));
  await new Promise((r) => setImmediate(r));
  await fake.release();
  await p;
  assert.deepEqual(failures, [false, true]);
});

test('loopback addresses are told apart from public ones (the open-API warning)', () => {
  for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1']) assert.equal(isLoopback(h), true, h);
  for (const h of ['0.0.0.0', '::', '10.0.0.5']) assert.equal(isLoopback(h), false, h);
});
