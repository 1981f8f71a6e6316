/**
 * API keys and per-key quotas on the Open Inference Protocol, over REST and gRPC, on the real
 * server: probes and server metadata open; model routes and infer need a key (401/403 and
 * UNAUTHENTICATED/PERMISSION_DENIED); a key's quota gives 429 + Retry-After (RESOURCE_EXHAUSTED
 * over gRPC); failures keep the protocol's `{"error": "..."}` body.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { RunningServer } from '../../../src/server/start.js';
import { OipErrorSchema } from '../../../src/transport/oip/schemas.js';
import { tempDir, testKey, writeKeyFile } from '../../helpers/access.js';
import { MODEL, assertSchema, canonicalProtoPath, oipClient, type OipClient } from './harness.js';
import { startOipServer } from './harness.js';

const dir = tempDir('biggan-oip-keys-');
const keyFile = path.join(dir, 'keys.json');
const bob = testKey('bob');
const alice = testKey('alice', { imagesPerSecond: 0.1, burst: 2 });
const carol = testKey('carol', { imagesPerSecond: 0.1, burst: 1 });
const off = testKey('off', { disabled: true });

let server: RunningServer;
let base: string;
let client: OipClient;

before(async () => {
  writeKeyFile(keyFile, [bob, alice, carol, off]);
  server = await startOipServer(['--api-keys', keyFile]);
  base = `http://127.0.0.1:${server.httpPort}`;
  client = oipClient(canonicalProtoPath(), `127.0.0.1:${server.grpcPort}`);
});
after(async () => {
  client.close();
  await server.stop();
});

const body = (seed: number, n = 1) => ({
  inputs: [
    { name: 'seed', datatype: 'INT64', shape: [n], data: Array.from({ length: n }, (_, i) => seed + i) },
    { name: 'class_index', datatype: 'INT32', shape: [n], data: new Array(n).fill(1) },
  ],
  outputs: [{ name: 'png' }],
});
const infer = (b: object, headers: Record<string, string> = {}) =>
  fetch(`${base}/v2/models/${MODEL}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(b),
  });
const bearer = (k: { key: string }) => ({ authorization: `Bearer ${k.key}` });
const md = (k?: { key: string }) => {
  const m = new grpc.Metadata();
  if (k) m.set('authorization', `Bearer ${k.key}`);
  return m;
};

test('REST: probes and server metadata stay open; model routes and infer need a key', async () => {
  for (const open of ['/v2/health/live', '/v2/health/ready', '/v2'])
    assert.equal((await fetch(`${base}${open}`)).status, 200, open);
  for (const url of [`/v2/models/${MODEL}`, `/v2/models/${MODEL}/ready`]) {
    const res = await fetch(`${base}${url}`);
    assert.equal(res.status, 401, url);
    assertSchema(OipErrorSchema, await res.json(), url);
    assert.equal((await fetch(`${base}${url}`, { headers: bearer(bob) })).status, 200);
  }
  const none = await infer(body(100));
  assert.equal(none.status, 401);
  assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer /);
  assert.match(((await none.json()) as { error: string }).error, /API key is required/);
  assert.equal((await infer(body(100), bearer(off))).status, 403);
  assert.equal((await infer(body(100), bearer(bob))).status, 200);
  assert.equal((await infer(body(100), { 'x-api-key': bob.key })).status, 200);
  const badTimeout = await infer(body(100), { ...bearer(bob), 'x-request-timeout': 'soon' });
  assert.equal(badTimeout.status, 400, 'X-Request-Timeout is checked as on /generate');
  assertSchema(OipErrorSchema, await badTimeout.json(), 'bad timeout');
});

test("REST: a key's quota refuses with 429, Retry-After and RateLimit headers", async () => {
  assert.equal((await infer(body(200, 2), bearer(alice))).status, 200);
  const over = await infer(body(300), bearer(alice));
  assert.equal(over.status, 429);
  assert.ok(Number(over.headers.get('retry-after')) >= 1);
  assert.equal(over.headers.get('ratelimit-limit'), '2');
  assertSchema(OipErrorSchema, await over.json(), '429');
  assert.equal((await infer(body(300), bearer(bob))).status, 200, 'other keys have their own buckets');
});

test('gRPC: probes open; ModelInfer needs a key; a quota gives RESOURCE_EXHAUSTED with retry-after', async () => {
  assert.deepEqual((await client.call('ServerLive', {})).res, { live: true });
  assert.deepEqual((await client.call('ServerReady', {})).res, { ready: true });
  const req = (seed: number) => ({
    model_name: MODEL,
    inputs: [
      { name: 'seed', datatype: 'INT64', shape: [1], contents: { int64_contents: [String(seed)] } },
      { name: 'class_index', datatype: 'INT32', shape: [1], contents: { int_contents: [2] } },
    ],
    outputs: [{ name: 'png' }],
  });
  assert.equal((await client.call('ModelInfer', req(400))).err?.code, grpc.status.UNAUTHENTICATED);
  assert.equal((await client.call('ModelMetadata', { name: MODEL })).err?.code, grpc.status.UNAUTHENTICATED);
  assert.equal((await client.call('ModelInfer', req(400), md(off))).err?.code, grpc.status.PERMISSION_DENIED);
  assert.equal((await client.call('ModelInfer', req(400), md(bob))).err, undefined);
  assert.equal((await client.call('ModelInfer', req(500), md(carol))).err, undefined);
  const over = await client.call('ModelInfer', req(600), md(carol));
  assert.equal(over.err?.code, grpc.status.RESOURCE_EXHAUSTED);
  assert.ok(Number(over.err.metadata.get('retry-after')[0]) >= 1);
});
