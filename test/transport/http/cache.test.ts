// The response cache through the REST API: GET URLs, strong ETags, 304 without computing,
// Cache-Control, content negotiation, per-image reuse across request forms, single flight.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createStack, type Stack } from '../../helpers/stack.js';

let s: Stack;
before(async () => {
  s = await createStack({ maxBatchSize: 8, maxQueueDelayMs: 2, maxQueueSize: 64 }, 16, 64 * 1024 * 1024);
  await s.app.ready();
});

const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
  s.app.inject({ method: 'POST', url, payload: payload as object, headers });
const get = (url: string, headers: Record<string, string> = {}) => s.app.inject({ method: 'GET', url, headers });

test('GET /generate mirrors POST: same bytes, same validation messages; a GET without seed is 400', async () => {
  const viaGet = await get('/generate?class=207&seed=7&truncation=0.4');
  assert.equal(viaGet.statusCode, 200, viaGet.body);
  assert.equal(viaGet.headers['content-type'], 'image/png');
  const viaPost = await post('/generate', { class: 207, seed: 7, truncation: 0.4 });
  assert.deepEqual(viaGet.rawPayload, viaPost.rawPayload);
  const byName = await get('/v1/generate?class=golden%20retriever&seed=7');
  assert.deepEqual(byName.rawPayload, viaPost.rawPayload, 'a name gives the same class vector as the index');
  const mix = await get('/generate?class=207:0.7,1:0.3&seed=3');
  assert.deepEqual(mix.rawPayload, (await post('/generate', { class: { '207': 0.7, '1': 0.3 }, seed: 3 })).rawPayload);
  const noSeed = await get('/generate?class=207');
  assert.equal(noSeed.statusCode, 400);
  assert.match(noSeed.json().error.message, /^seed: is required for GET.*POST/);
  const badGet = await get('/generate?class=207&seed=1&truncation=2');
  const badPost = await post('/generate', { class: 207, seed: 1, truncation: 2 });
  assert.equal(badGet.statusCode, 400);
  assert.deepEqual(badGet.json(), badPost.json(), 'one contract: the same message for GET and POST');
  assert.equal((await get('/generate?class=207&seed=1&colour=red')).statusCode, 400);
});

test('seeded answers: strong ETag, immutable; If-None-Match answers 304 without computing; random ones are no-store', async () => {
  const first = await post('/generate', { class: 1, seed: 11 });
  const etag = first.headers.etag as string;
  assert.match(etag, /^"[A-Za-z0-9_-]{32}"$/);
  assert.equal(first.headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.match(String(first.headers.vary), /Accept/);
  const runs = s.engine.samplesRun;
  const again = await get('/generate?class=1&seed=11', { 'if-none-match': etag });
  assert.equal(again.statusCode, 304);
  assert.equal(again.rawPayload.length, 0);
  assert.equal(s.engine.samplesRun, runs, '304 computes nothing');
  const other = await get('/generate?class=1&seed=12', { 'if-none-match': etag });
  assert.equal(other.statusCode, 200);
  assert.notEqual(other.headers.etag, etag);
  const random = await post('/generate', { class: 1 });
  assert.equal(random.headers['cache-control'], 'no-store');
  assert.equal(random.headers.etag, undefined);
});

test('hits are byte-identical to misses and cost no engine work; a count-4 request reuses single images', async () => {
  const singles = [];
  for (let i = 0; i < 4; i++)
    singles.push((await post('/generate', { class: 5, seed: 500 + i, truncation: 0.6 })).rawPayload);
  const runs = s.engine.samplesRun;
  const batch = await post('/generate', { class: 5, seed: 500, count: 4, truncation: 0.6 });
  assert.equal(s.engine.samplesRun, runs, 'all four images came from the cache');
  const images = (batch.json() as { images: { data: string; seed: number }[] }).images;
  assert.deepEqual(
    images.map((i) => Buffer.from(i.data, 'base64')),
    singles,
  );
  assert.deepEqual(
    images.map((i) => i.seed),
    [500, 501, 502, 503],
  );
  const fifth = await post('/generate', { class: 5, seed: 504, truncation: 0.6 });
  const partly = await post('/generate', { class: 5, seed: 502, count: 3, truncation: 0.6 });
  assert.equal(s.engine.samplesRun, runs + 1, 'only the new image (seed 504) ran; 502 and 503 came from the cache');
  assert.deepEqual(
    Buffer.from((partly.json() as { images: { data: string }[] }).images[2].data, 'base64'),
    fifth.rawPayload,
  );
  assert.match(await s.metrics.registry.metrics(), /biggan_cache_lookups_total\{[^}]*result="hit"[^}]*\} [1-9]/);
});

test('content negotiation: JSON form of one image, 406 naming the types, JSON frames for /interpolate', async () => {
  const json = await post('/generate', { class: 7, seed: 70 }, { accept: 'application/json' });
  assert.equal(json.headers['content-type'], 'application/json; charset=utf-8');
  const body = json.json() as {
    seed: number;
    images: { data: string; seed: number; class: Record<string, number>; truncation: number }[];
  };
  assert.equal(body.images[0].seed, 70);
  assert.deepEqual(body.images[0].class, { '7': 1 });
  const png = await post('/generate', { class: 7, seed: 70 }, { accept: 'image/*' });
  assert.deepEqual(Buffer.from(body.images[0].data, 'base64'), png.rawPayload);
  assert.notEqual(json.headers.etag, png.headers.etag, 'different bodies, different ETags');
  const refused = await post('/generate', { class: 7, seed: 70 }, { accept: 'text/html' });
  assert.equal(refused.statusCode, 406);
  assert.match(refused.json().error.message, /available: image\/png, application\/json/);
  const frames = await post(
    '/interpolate',
    { from: { seed: 1, class: 1 }, to: { seed: 2, class: 2 }, frames: 3 },
    { accept: 'application/json' },
  );
  assert.equal(frames.statusCode, 200);
  assert.equal((frames.json() as { frames: unknown[] }).frames.length, 3);
  const gif = await post('/interpolate', { from: { seed: 1, class: 1 }, to: { seed: 2, class: 2 }, frames: 3 });
  assert.equal(gif.headers['content-type'], 'image/gif');
  assert.equal(gif.headers['cache-control'], 'public, max-age=31536000, immutable');
});

test('32 identical concurrent requests run one forward pass; a cancelled waiter does not cancel the others', async () => {
  s.engine.hold();
  const batches = s.engine.batchSizes.length;
  try {
    const all = Array.from({ length: 32 }, () => post('/generate', { class: 9, seed: 9000 }));
    const deadline = Date.now() + 10_000;
    while (s.batcher.stats().running + s.batcher.queued === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 2));
    s.engine.release();
    const answers = await Promise.all(all);
    assert.ok(answers.every((a) => a.statusCode === 200));
    assert.ok(answers.every((a) => a.rawPayload.equals(answers[0].rawPayload)));
    assert.equal(s.engine.batchSizes.length - batches, 1, 'one engine batch');
    assert.equal(s.engine.batchSizes.at(-1), 1, 'of one sample');
  } finally {
    s.engine.release();
  }
});

test('a changed weight file changes the ETag (the digest covers the weights)', async () => {
  const { filesDigest } = await import('../../../src/weights/file-digest.js');
  const { mkdtempSync, writeFileSync, copyFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const path = await import('node:path');
  const dir = mkdtempSync(path.join(tmpdir(), 'biggan-digest-'));
  const file = path.join(dir, 'model.safetensors');
  copyFileSync('test/fixtures/tiny-128/model.safetensors', file);
  const before = await filesDigest([file]);
  writeFileSync(file, Buffer.from([1]), { flag: 'a' });
  assert.notEqual(await filesDigest([file]), before);
});
