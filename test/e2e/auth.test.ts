/**
 * API keys and per-key quotas end to end on the real server (tiny fixture): 401/403 over REST and
 * gRPC, probes open, a key's burst then 429 with a Retry-After that is enough, cache hits free,
 * RESOURCE_EXHAUSTED with the delay in trailing metadata, /metrics behind its token, key-file
 * reload (valid and invalid), and no key ever in metrics or logs.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { service as healthServiceDefinition } from 'grpc-health-check';
import { parseServerConfig } from '../../src/config/server-config.js';
import { startServer, type RunningServer } from '../../src/server/start.js';
import { createGeneratorClient, type GeneratorClient } from '../../src/transport/grpc/server.js';
import type { GenerateResponseMessage } from '../../src/transport/grpc/codec.js';
import { BigGanError } from '../../src/errors.js';
import { FIXTURE_DIR } from '../helpers/fixtures.js';
import { tempDir, testKey, waitFor, writeKeyFile, type TestKey } from '../helpers/access.js';

const dir = tempDir('biggan-keys-');
const keyFile = path.join(dir, 'keys.json');
const bob = testKey('bob');
const alice = testKey('alice', { imagesPerSecond: 0.5, burst: 2 });
const carol = testKey('carol', { imagesPerSecond: 0.5, burst: 1 });
const off = testKey('off', { disabled: true });
const dave = testKey('dave');
const erin = testKey('erin', { imagesPerSecond: 0.5, burst: 3 });
const ALL: TestKey[] = [bob, alice, carol, off, dave, erin];
const METRICS_TOKEN = 'metrics-token-secret-123';

let server: RunningServer;
let base: string;
let client: GeneratorClient;
let logs = '';
let seed = 1000;

before(async () => {
  writeKeyFile(keyFile, [bob, alice, carol, off, erin]);
  const { config } = parseServerConfig(
    [
      '--weights',
      FIXTURE_DIR,
      '--host',
      '127.0.0.1',
      '--http-port',
      '0',
      '--grpc-port',
      '0',
      '--max-batch-size',
      '4',
      '--max-queue-delay-ms',
      '2',
      '--api-keys',
      keyFile,
      '--metrics-token',
      METRICS_TOKEN,
    ],
    {},
  );
  server = await startServer(config, { logger: { level: 'info', stream: { write: (s: string) => void (logs += s) } } });
  base = `http://127.0.0.1:${server.httpPort}`;
  client = createGeneratorClient(`127.0.0.1:${server.grpcPort}`);
});

after(async () => {
  client.close();
  await server.stop();
});

const post = (body: object, headers: Record<string, string> = {}) =>
  fetch(`${base}/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body: JSON.stringify(body),
  });
const bearer = (k: TestKey) => ({ authorization: `Bearer ${k.key}` });

function grpcGenerate(
  req: object,
  md: Record<string, string> = {},
): Promise<{ res?: GenerateResponseMessage; err?: grpc.ServiceError }> {
  const metadata = new grpc.Metadata();
  for (const [k, v] of Object.entries(md)) metadata.set(k, v);
  return new Promise((resolve) => client.Generate(req, metadata, (err, res) => resolve(err ? { err } : { res: res! })));
}

test('REST: no key or an unknown one is 401 with WWW-Authenticate; a disabled key is 403; a valid one (Bearer or x-api-key) is served', async () => {
  const none = await post({ class: 1, seed: (seed += 100) });
  assert.equal(none.status, 401);
  assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer /);
  assert.equal(((await none.json()) as { error: { code: string } }).error.code, 'UNAUTHENTICATED');
  const unknown = await post({ class: 1, seed: (seed += 100) }, { authorization: 'Bearer not-a-key' });
  assert.equal(unknown.status, 401);
  assert.equal((await post({ class: 1, seed: (seed += 100) }, { authorization: 'Basic Ym9iOmJvYg==' })).status, 401);
  const disabled = await post({ class: 1, seed: (seed += 100) }, bearer(off));
  assert.equal(disabled.status, 403);
  assert.equal(((await disabled.json()) as { error: { code: string } }).error.code, 'PERMISSION_DENIED');
  assert.equal((await post({ class: 1, seed: (seed += 100) }, bearer(bob))).status, 200);
  assert.equal((await post({ class: 1, seed: (seed += 100) }, { 'x-api-key': bob.key })).status, 200);
  assert.equal((await fetch(`${base}/v1/models`)).status, 401, 'model info needs a key too');
  assert.equal((await fetch(`${base}/v1/models`, { headers: bearer(bob) })).status, 200);
  for (const open of ['/healthz', '/readyz'])
    assert.equal((await fetch(`${base}${open}`)).status, 200, `${open} stays open`);
});

test('gRPC: no key or an unknown one is UNAUTHENTICATED, a disabled key PERMISSION_DENIED, a valid one is served; health stays open', async () => {
  assert.equal(
    (await grpcGenerate({ classes: [{ index: 1 }], seed: String((seed += 100)) })).err?.code,
    grpc.status.UNAUTHENTICATED,
  );
  assert.equal(
    (await grpcGenerate({ classes: [{ index: 1 }], seed: String((seed += 100)) }, { authorization: 'Bearer nope' })).err
      ?.code,
    grpc.status.UNAUTHENTICATED,
  );
  assert.equal(
    (
      await grpcGenerate(
        { classes: [{ index: 1 }], seed: String((seed += 100)) },
        { authorization: `Bearer ${off.key}` },
      )
    ).err?.code,
    grpc.status.PERMISSION_DENIED,
  );
  const ok = await grpcGenerate(
    { classes: [{ index: 1 }], seed: String((seed += 100)) },
    { authorization: `Bearer ${bob.key}` },
  );
  assert.equal(ok.err, undefined);
  assert.equal(ok.res?.images.length, 1);
  const Health = grpc.makeGenericClientConstructor(healthServiceDefinition as grpc.ServiceDefinition, 'Health');
  const health = new Health(`127.0.0.1:${server.grpcPort}`, grpc.credentials.createInsecure());
  const check = health.Check.bind(health) as (
    req: object,
    cb: (e: grpc.ServiceError | null, r?: { status: string }) => void,
  ) => void;
  const status = await new Promise<string | undefined>((resolve, reject) =>
    check({ service: '' }, (e, r) => (e ? reject(e) : resolve(r?.status))),
  );
  health.close();
  assert.equal(status, 'SERVING');
});

test("a key's burst passes, then 429 with Retry-After and RateLimit headers; cached images cost nothing; after Retry-After it passes", async () => {
  const first = { class: 3, count: 2, seed: (seed += 100) };
  const ok = await post(first, bearer(alice));
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('ratelimit-limit'), '2');
  assert.equal(ok.headers.get('ratelimit-remaining'), '0');
  const over = await post({ class: 3, seed: (seed += 100) }, bearer(alice));
  const refusedAt = Date.now();
  assert.equal(over.status, 429);
  assert.equal(((await over.json()) as { error: { code: string } }).error.code, 'RATE_LIMITED');
  const retryAfter = Number(over.headers.get('retry-after'));
  // 1 image at 0.5 images/s, less what refilled since the burst was taken: 1 or 2 s.
  assert.ok(retryAfter === 1 || retryAfter === 2, `Retry-After ${retryAfter}`);
  assert.equal(over.headers.get('ratelimit-limit'), '2');
  assert.equal(over.headers.get('ratelimit-remaining'), '0');
  assert.ok(Number(over.headers.get('ratelimit-reset')) >= retryAfter);
  // The same images again are cache hits: free even with an empty bucket.
  assert.equal((await post(first, bearer(alice))).status, 200, 'cache hits cost nothing');
  // More than the burst can never fit: refused, not queued for ever.
  assert.equal((await post({ class: 3, count: 3, seed: (seed += 100) }, bearer(alice))).status, 403);
  await new Promise((r) => setTimeout(r, Math.max(0, retryAfter * 1000 - (Date.now() - refusedAt))));
  assert.equal(
    (await post({ class: 3, seed: (seed += 100) }, bearer(alice))).status,
    200,
    'the request sent after Retry-After passes',
  );
  // Other keys have their own buckets.
  assert.equal((await post({ class: 3, seed: (seed += 100) }, bearer(bob))).status, 200);
});

test('gRPC over the quota is RESOURCE_EXHAUSTED with retry-after and ratelimit-* in the trailing metadata', async () => {
  const md = { authorization: `Bearer ${carol.key}` };
  assert.equal((await grpcGenerate({ classes: [{ index: 2 }], seed: String((seed += 100)) }, md)).err, undefined);
  const { err } = await grpcGenerate({ classes: [{ index: 2 }], seed: String((seed += 100)) }, md);
  assert.equal(err?.code, grpc.status.RESOURCE_EXHAUSTED);
  assert.equal(err?.metadata.get('retry-after')[0], '2', '1 image at 0.5 images/s');
  assert.equal(err?.metadata.get('ratelimit-limit')[0], '1');
});

test('gRPC successes carry ratelimit-* in the trailing metadata, as REST successes carry RateLimit-* headers', async () => {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${erin.key}`);
  const trailers = await new Promise<grpc.Metadata>((resolve, reject) => {
    const call = client.Generate({ classes: [{ index: 4 }], seed: String((seed += 100)) }, metadata, (err) =>
      err ? reject(err) : undefined,
    );
    call.on('status', (status: grpc.StatusObject) => resolve(status.metadata));
  });
  assert.equal(trailers.get('ratelimit-limit')[0], '3');
  assert.equal(trailers.get('ratelimit-remaining')[0], '2');
  assert.ok(Number(trailers.get('ratelimit-reset')[0]) >= 1);
});

test('/metrics needs its token, counts failures, rejections and images by key name, and never holds a key', async () => {
  assert.equal((await fetch(`${base}/metrics`)).status, 401);
  assert.equal((await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
  const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  assert.equal(res.status, 200);
  const text = await res.text();
  assert.match(text, /biggan_auth_failures_total\{reason="missing"\} [1-9]/);
  assert.match(text, /biggan_auth_failures_total\{reason="unknown"\} [1-9]/);
  assert.match(text, /biggan_auth_failures_total\{reason="disabled"\} [1-9]/);
  assert.match(text, /biggan_auth_failures_total\{reason="metrics_token"\} [1-9]/);
  assert.match(text, /biggan_quota_rejections_total\{key="alice"\} [1-9]/);
  assert.match(text, /biggan_quota_rejections_total\{key="carol"\} [1-9]/);
  assert.match(text, /biggan_key_images_total\{key="bob"\} [1-9]/);
  for (const k of ALL) {
    assert.ok(!text.includes(k.key), `metrics hold ${k.entry.name}'s key`);
    assert.ok(!logs.includes(k.key), `logs hold ${k.entry.name}'s key`);
  }
  assert.ok(!logs.includes(METRICS_TOKEN), 'logs hold the metrics token');
  const lines = logs.split('\n').filter((l) => l.includes('"msg":"request"') && l.includes('"key":"alice"'));
  assert.ok(lines.length > 0, 'request log lines carry the key name');
});

test('the key file is re-read on change: new keys work, removed ones stop; an invalid file keeps the old keys and logs the line at fault', async () => {
  writeKeyFile(keyFile, [alice, carol, off, dave]);
  await waitFor(
    'dave accepted',
    async () => (await post({ class: 4, seed: (seed += 100) }, bearer(dave))).status === 200,
  );
  assert.equal((await post({ class: 4, seed: (seed += 100) }, bearer(bob))).status, 401, 'bob was removed');
  assert.match(logs, /API keys reloaded/);
  writeKeyFile(
    keyFile,
    `{"keys": [\n  {"name": "dave", "sha256": "${dave.entry.sha256}", "imagesPerSecond": "fast"}\n]}\n`,
  );
  await waitFor('reload refused', () =>
    /API key file not reloaded: .*keys\.json:2:\d+: keys\[0\]\.imagesPerSecond: must be a positive number.*keeping the 4 keys/.test(
      logs,
    ),
  );
  assert.equal((await post({ class: 4, seed: (seed += 100) }, bearer(dave))).status, 200, 'old keys stay');
  assert.equal(
    (await post({ class: 4, seed: (seed += 100) }, bearer(alice))).status === 401,
    false,
    'alice is still known',
  );
  // SIGHUP re-reads too (here the file is unchanged, so the keys stay).
  process.kill(process.pid, 'SIGHUP');
  await waitFor('SIGHUP logged', () => logs.includes('SIGHUP: re-reading'));
});

test('start-up with an invalid key file fails with the line and field at fault', async () => {
  const bad = path.join(dir, 'bad.json');
  writeKeyFile(bad, `{"keys": [\n  {"name": "x", "sha256": "abc"}\n]}`);
  const { config } = parseServerConfig(
    ['--weights', FIXTURE_DIR, '--host', '127.0.0.1', '--http-port', '0', '--grpc-port', '0', '--api-keys', bad],
    {},
  );
  await assert.rejects(
    startServer(config, { logger: false }),
    (err: unknown) => err instanceof BigGanError && /bad\.json:2:\d+: keys\[0\]\.sha256: must be 64/.test(err.message),
  );
});
