/**
 * REST API through fastify's inject (and one real socket for client disconnects), on the real
 * service with the tiny-128 fixture model.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { createStack, type Stack } from '../../helpers/stack.js';
import { CASE_NAMES, loadCase, maxPixelDiff } from '../../helpers/fixtures.js';
import { decodeImage } from '../../../src/image/encode.js';

let s: Stack;
before(async () => {
  s = await createStack({ maxBatchSize: 8, maxQueueDelayMs: 2, maxQueueSize: 24 }, 16);
});

const post = (url: string, payload: unknown) => s.app.inject({ method: 'POST', url, payload: payload as object });

/** Waits (polling state, never a fixed sleep) until `ready()` holds; fails after `ms`. */
async function until(ready: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ready()) {
    if (Date.now() > end) throw new Error('timed out waiting for the expected state');
    await new Promise((r) => setTimeout(r, 2));
  }
}
const rowsOf = (a: Float32Array, width: number) =>
  Array.from({ length: a.length / width }, (_, i) => Array.from(a.subarray(i * width, (i + 1) * width)));

test('one sample answers with the PNG itself and reports its seed', async () => {
  const res = await post('/generate', { class: 'golden retriever', truncation: 0.4, seed: 7 });
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['content-type'], 'image/png');
  assert.equal(res.headers['x-seed'], '7');
  const img = await decodeImage(res.rawPayload);
  assert.equal(img.width, 128);
  assert.equal(img.height, 128);
  const again = await post('/v1/generate', { class: 207, truncation: 0.4, seed: 7 });
  assert.deepEqual(again.rawPayload, res.rawPayload, 'same seed and request must give the same bytes');
  const other = await post('/generate', { class: 207, truncation: 0.4, seed: 8 });
  assert.notDeepEqual(other.rawPayload, res.rawPayload);
});

test('several samples answer JSON; image i is reproducible alone with seed + i', async () => {
  const res = await post('/generate', { class: { '207': 0.7, '1': 0.3 }, truncation: 0.5, seed: 100, count: 3 });
  assert.equal(res.statusCode, 200);
  const body = res.json() as {
    seed: number;
    images: { data: string; seed: number; truncation: number; class: Record<string, number> }[];
  };
  assert.equal(body.seed, 100);
  assert.deepEqual(
    body.images.map((i) => i.seed),
    [100, 101, 102],
  );
  assert.deepEqual(body.images[0].class, { '1': Math.fround(0.3), '207': Math.fround(0.7) });
  const alone = await post('/generate', { class: { '207': 0.7, '1': 0.3 }, truncation: 0.5, seed: 102 });
  assert.deepEqual(alone.rawPayload, Buffer.from(body.images[2].data, 'base64'));
  const grid = await post('/generate', { class: 207, seed: 1, count: 4, grid: true });
  assert.equal(grid.headers['content-type'], 'image/png');
  const g = await decodeImage(grid.rawPayload);
  assert.equal(g.width, 2 * 128 + 2);
  const jpeg = await post('/generate', { class: 207, seed: 1, format: 'jpeg' });
  assert.equal(jpeg.headers['content-type'], 'image/jpeg');
});

test('explicit z, classVector and truncation reproduce the fixture PNGs within +-1', async () => {
  for (const name of CASE_NAMES) {
    const c = loadCase(name);
    const res = await post('/generate', {
      z: rowsOf(c.z, 128),
      classVector: rowsOf(c.classVector, 1000),
      truncation: c.truncation,
    });
    assert.equal(res.statusCode, 200, res.body.slice(0, 200));
    const pngs =
      c.batch === 1
        ? [res.rawPayload]
        : (res.json() as { images: { data: string }[] }).images.map((i) => Buffer.from(i.data, 'base64'));
    assert.equal(pngs.length, c.batch);
    for (let i = 0; i < c.batch; i++) {
      const ref = await decodeImage(await readFile(c.pngFiles[i]));
      const got = await decodeImage(pngs[i]);
      assert.ok(maxPixelDiff(ref.data, got.data) <= 1, `${name} sample ${i}`);
    }
  }
});

test('invalid fields get 400 naming the field and the allowed values', async () => {
  const cases: [unknown, string, RegExp][] = [
    [{ class: 207, truncation: 0 }, 'truncation', /0|truncation/],
    [{ class: 207, truncation: 1.5 }, 'truncation', /1/],
    [{ class: 207, colour: 'red' }, 'colour', /unknown field.*allowed fields: .*truncation/],
    [{ class: 'golden retreiver' }, 'class', /did you mean.*golden retriever/],
    [{ class: 1000 }, 'class', /0\.\.999|0-999|999/],
    [{ class: 207, format: 'bmp' }, 'format', /png.*jpeg.*webp/],
    [{ class: 207, count: 17 }, 'count', /16/],
    [{ class: 207, z: [[1, 2, 3]] }, 'z[0]', /128/],
    [{ class: 207, priority: 'urgent' }, 'priority', /normal.*high/],
    [{}, 'class', /required/],
    [{ class: 207, seed: -1 }, 'seed', /seed/],
  ];
  for (const [payload, field, message] of cases) {
    const res = await post('/generate', payload);
    assert.equal(res.statusCode, 400, JSON.stringify(payload));
    const err = (res.json() as { error: { code: string; message: string; field: string } }).error;
    assert.equal(err.code, 'INVALID_ARGUMENT');
    assert.ok(err.field.startsWith(field.split('[')[0]), `${JSON.stringify(payload)} -> field ${err.field}`);
    assert.match(err.message, message);
  }
  const badJson = await s.app.inject({
    method: 'POST',
    url: '/generate',
    headers: { 'content-type': 'application/json' },
    payload: '{"class": 2',
  });
  assert.equal(badJson.statusCode, 400);
  const big = await post('/generate', {
    class: 207,
    z: Array.from({ length: 600 }, () => Array(128).fill(0.123456789)),
  });
  assert.equal(big.statusCode, 413);
  const missing = await s.app.inject({ method: 'GET', url: '/nope' });
  assert.equal(missing.statusCode, 404);
  const metrics = (await s.app.inject({ method: 'GET', url: '/metrics' })).body;
  assert.match(metrics, /biggan_rejections_total\{reason="invalid"[^}]*\} [1-9]/);
});

test('interpolate answers a GIF, JSON frames, or a grid', async () => {
  const gif = await post('/interpolate', {
    from: { seed: 1, class: 207 },
    to: { seed: 2, class: 'goldfish' },
    frames: 4,
    truncation: 0.6,
  });
  assert.equal(gif.statusCode, 200);
  assert.equal(gif.headers['content-type'], 'image/gif');
  assert.equal(gif.rawPayload.subarray(0, 6).toString(), 'GIF89a');
  const frames = await post('/v1/interpolate', {
    from: { seed: 1, class: 207 },
    to: { seed: 2, class: 1 },
    frames: 3,
    format: 'png',
    method: 'slerp',
  });
  const body = frames.json() as { frames: { t: number; seed?: number; class: Record<string, number> }[] };
  assert.deepEqual(
    body.frames.map((f) => f.t),
    [0, 0.5, 1],
  );
  assert.equal(body.frames[0].seed, 1);
  assert.deepEqual(body.frames[1].class, { '1': 0.5, '207': 0.5 });
  const grid = await post('/interpolate', {
    from: { seed: 1, class: 207 },
    to: { seed: 2, class: 1 },
    frames: 3,
    format: 'png',
    grid: true,
  });
  assert.equal(grid.headers['content-type'], 'image/png');
  const bad = await post('/interpolate', { from: { seed: 1, class: 207 }, to: { seed: 2, class: 1 }, frames: 1 });
  assert.equal(bad.statusCode, 400);
});

test('models, classes, health, readiness, metrics and OpenAPI', async () => {
  const models = (await s.app.inject('/v1/models')).json() as {
    models: {
      name: string;
      resolution: number;
      zDim: number;
      numClasses: number;
      parameters: number;
      engine: string;
      backend: string;
      maxSamplesPerRequest: number;
    }[];
  };
  assert.deepEqual(
    { ...models.models[0] },
    {
      ...models.models[0],
      name: 'tiny-128',
      resolution: 128,
      zDim: 128,
      numClasses: 1000,
      parameters: 1_437_129,
      engine: 'tfjs',
      backend: 'wasm',
      maxSamplesPerRequest: 16,
    },
  );
  const classes = (await s.app.inject('/v1/classes')).json() as {
    classes: { index: number; wnid: string; names: string[] }[];
  };
  assert.equal(classes.classes.length, 1000);
  assert.equal(classes.classes[207].wnid, 'n02099601');
  assert.equal((await s.app.inject('/healthz')).statusCode, 200);
  assert.equal((await s.app.inject('/readyz')).statusCode, 200);
  const metrics = await s.app.inject('/metrics');
  for (const name of [
    'biggan_requests_total',
    'biggan_request_duration_seconds',
    'biggan_queue_depth_samples',
    'biggan_queue_wait_seconds',
    'biggan_batch_size_samples',
    'biggan_inference_duration_seconds',
    'biggan_encode_duration_seconds',
    'biggan_images_generated_total',
    'biggan_rejections_total',
    'biggan_model_info',
    'process_cpu_seconds_total',
  ]) {
    assert.match(metrics.body, new RegExp(`^# TYPE ${name} `, 'm'), name);
  }
  assert.match(
    metrics.body,
    /biggan_model_info\{model="tiny-128",engine="tfjs",backend="wasm",resolution="128",state="ready"\} 1/,
  );
  const doc = (await s.app.inject('/openapi.json')).json() as { openapi: string; paths: Record<string, unknown> };
  assert.equal(doc.openapi, '3.1.0');
  assert.ok(doc.paths['/generate'] && doc.paths['/interpolate']);
  for (const path of [
    '/generate',
    '/v1/generate',
    '/interpolate',
    '/v1/interpolate',
    '/v1/models',
    '/v1/classes',
    '/healthz',
    '/readyz',
    '/metrics',
  ]) {
    assert.ok(JSON.stringify(doc.paths).includes(`"${path}"`), `${path} is documented`);
  }
  const generate = (
    doc.paths['/generate'] as {
      post: {
        requestBody: { content: Record<string, { schema: { properties: Record<string, unknown> } }> };
        responses: Record<string, { content?: Record<string, unknown> }>;
      };
    }
  ).post;
  assert.ok(generate.requestBody.content['application/json'].schema.properties.truncation, 'request schema documented');
  assert.ok(
    generate.responses['200'].content?.['image/png'] && generate.responses['200'].content['application/json'],
    'response schemas documented',
  );
  assert.ok(generate.responses['400'], 'error answers documented');
  const security = (doc as unknown as { components: { securitySchemes: Record<string, { type: string }> } }).components
    .securitySchemes;
  assert.equal(security.bearerAuth.type, 'http', 'API keys are documented as a bearer scheme');
  // Swagger UI, with its assets served from the package (no CDN).
  const docs = await s.app.inject('/docs');
  assert.match(docs.headers['content-type'] as string, /text\/html/);
  assert.match(docs.body, /Swagger UI/);
  const css = await s.app.inject('/docs/static/swagger-ui.css');
  assert.equal(css.statusCode, 200);
  assert.doesNotMatch(docs.body, /https?:\/\/(?!localhost)[a-z]/i, 'no remote assets');
});

test('a full queue answers 503 with Retry-After at once; accepted work still completes', async () => {
  s.engine.hold();
  try {
    // The first request occupies the (held) engine; the queue (24 samples) then fills up. Seeds are
    // far apart so no image repeats (identical images in flight would be computed once).
    const running = post('/generate', { class: 207, seed: 100, count: 8 });
    await until(() => s.batcher.stats().running === 8);
    const queued = [
      post('/generate', { class: 207, seed: 200, count: 16 }),
      post('/generate', { class: 207, seed: 300, count: 8 }),
    ];
    await until(() => s.batcher.queued === 24);
    const t0 = Date.now();
    const overloaded = await post('/generate', { class: 207, seed: 400, count: 2 });
    assert.equal(overloaded.statusCode, 503);
    assert.ok(Number(overloaded.headers['retry-after']) >= 1);
    assert.equal((overloaded.json() as { error: { code: string } }).error.code, 'OVERLOADED');
    assert.ok(Date.now() - t0 < 1000, 'overload must be answered at once');
    const before = s.engine.samplesRun; // the held first batch has not counted yet
    assert.ok(s.batcher.queued <= 24, 'the queue bound holds');
    s.engine.release();
    const answers = await Promise.all([running, ...queued]);
    assert.deepEqual(
      answers.map((a) => a.statusCode),
      [200, 200, 200],
    );
    assert.equal(s.engine.samplesRun - before, 32, 'every accepted sample ran, the rejected ones did not');
  } finally {
    s.engine.release();
  }
});

test('a request whose timeoutMs passes in the queue gets 504 and never runs', async () => {
  const t = await createStack({ maxBatchSize: 4, maxQueueDelayMs: 0, maxQueueSize: 64 });
  t.engine.hold();
  try {
    const running = t.app.inject({ method: 'POST', url: '/generate', payload: { class: 207, seed: 1, count: 4 } });
    await until(() => t.batcher.stats().running === 4);
    // The held batch runs past its predicted time: the queue then predicts no wait, so admission
    // (from the warm-up's engine time) takes the request and its own timeout expires in the queue.
    await until(() => t.batcher.estimateWaitMs(1) === 0);
    const before = t.engine.samplesRun;
    const late = await t.app.inject({
      method: 'POST',
      url: '/generate',
      payload: { class: 207, seed: 200, timeoutMs: 40 },
    });
    assert.equal(late.statusCode, 504);
    assert.equal((late.json() as { error: { code: string } }).error.code, 'DEADLINE_EXCEEDED');
    t.engine.release();
    assert.equal((await running).statusCode, 200);
    await t.batcher.drain();
    assert.equal(t.engine.samplesRun - before, 4, 'the expired sample must not run');
    assert.match((await t.app.inject('/metrics')).body, /biggan_rejections_total\{reason="deadline"[^}]*\} 1/);
  } finally {
    t.engine.release();
  }
});

test('a client that disconnects has its queued samples removed, never computed', async () => {
  const t = await createStack({ maxBatchSize: 2, maxQueueDelayMs: 0, maxQueueSize: 64 });
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const port = (t.app.server.address() as { port: number }).port;
  t.engine.hold();
  try {
    const running = t.app.inject({ method: 'POST', url: '/generate', payload: { class: 207, seed: 1, count: 2 } });
    await until(() => t.batcher.stats().running === 2);
    const before = t.engine.samplesRun;
    const req = http.request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/generate',
      headers: { 'content-type': 'application/json' },
    });
    req.on('error', () => undefined);
    req.end(JSON.stringify({ class: 207, seed: 90, count: 6 }));
    await until(() => t.batcher.queued === 6);
    req.destroy();
    await until(() => t.batcher.queued === 0); // cancelled samples leave the queue
    t.engine.release();
    assert.equal((await running).statusCode, 200);
    await t.batcher.drain();
    assert.equal(t.engine.samplesRun - before, 2, 'only the first request ran');
    assert.match((await t.app.inject('/metrics')).body, /biggan_rejections_total\{reason="cancelled"[^}]*\} 1/);
  } finally {
    t.engine.release();
    await t.app.close();
  }
});
