/**
 * End to end on the tiny-128 fixture: the real server (startServer) on ephemeral ports, HTTP and
 * gRPC against each other and against the fixture PNGs, gRPC health, and a bounded load test.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { parseServerConfig } from '../../src/config/server-config.js';
import { startServer, type RunningServer } from '../../src/server/start.js';
import { createGeneratorClient, type GeneratorClient } from '../../src/transport/grpc/server.js';
import type { GenerateResponseMessage, FrameMessage } from '../../src/transport/grpc/codec.js';
import { runHttpLoad } from '../../src/bench/http-load.js';
import { decodeImage } from '../../src/image/encode.js';
import { FIXTURE_DIR, CASE_NAMES, loadCase, maxPixelDiff } from '../helpers/fixtures.js';

let server: RunningServer;
let client: GeneratorClient;
let base: string;

before(async () => {
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
      '5',
      '--max-queue-size',
      '12',
      '--max-samples-per-request',
      '8',
      '--grace-period-ms',
      '5000',
    ],
    {},
  );
  server = await startServer(config, { logger: false });
  base = `http://127.0.0.1:${server.httpPort}`;
  client = createGeneratorClient(`127.0.0.1:${server.grpcPort}`);
});

after(async () => {
  client.close();
  await server.stop();
});

const generateGrpc = (req: Parameters<GeneratorClient['Generate']>[0]) =>
  new Promise<GenerateResponseMessage>((resolve, reject) =>
    client.Generate(req, (err, res) => (err ? reject(err) : resolve(res!))),
  );

test('for every fixture case, HTTP returns PNGs equal (+-1) to the fixture and gRPC returns the same bytes', async () => {
  for (const name of CASE_NAMES) {
    const c = loadCase(name);
    const zRows = Array.from({ length: c.batch }, (_, i) => Array.from(c.z.subarray(i * 128, (i + 1) * 128)));
    const cvRows = Array.from({ length: c.batch }, (_, i) =>
      Array.from(c.classVector.subarray(i * 1000, (i + 1) * 1000)),
    );
    const res = await fetch(`${base}/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ z: zRows, classVector: cvRows, truncation: c.truncation }),
    });
    assert.equal(res.status, 200);
    const httpPngs =
      c.batch === 1
        ? [Buffer.from(await res.arrayBuffer())]
        : ((await res.json()) as { images: { data: string }[] }).images.map((i) => Buffer.from(i.data, 'base64'));
    const grpcRes = await generateGrpc({
      z: Array.from(c.z),
      classVector: Array.from(c.classVector),
      truncation: c.truncation,
      count: c.batch,
    });
    assert.equal(grpcRes.images.length, c.batch);
    for (let i = 0; i < c.batch; i++) {
      const ref = await decodeImage(await readFile(c.pngFiles[i]));
      assert.ok(maxPixelDiff(ref.data, (await decodeImage(httpPngs[i])).data) <= 1, `${name} sample ${i}`);
      assert.ok(
        Buffer.from(grpcRes.images[i].data).equals(httpPngs[i]),
        `${name} sample ${i}: gRPC bytes differ from HTTP`,
      );
      assert.equal(grpcRes.images[i].mimeType, 'image/png');
    }
  }
});

test('gRPC Generate by class and seed equals HTTP, and reports the per-sample seeds', async () => {
  const http = await fetch(`${base}/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ class: 'golden retriever', seed: 41, count: 2, truncation: 0.3 }),
  });
  const body = (await http.json()) as { images: { data: string; seed: number }[] };
  const g = await generateGrpc({ classes: [{ name: 'golden retriever' }], seed: '41', count: 2, truncation: 0.3 });
  assert.deepEqual(
    g.images.map((i) => String(i.seed)),
    ['41', '42'],
  );
  assert.ok(Buffer.from(g.images[1].data).equals(Buffer.from(body.images[1].data, 'base64')));
  // The float field decodes to the float32 widened (0.30000001192092896); truncation_exact is what
  // the client sent.
  assert.notEqual(g.images[0].truncation, 0.3);
  assert.equal(g.images[0].truncationExact, 0.3);
});

test('gRPC Interpolate streams frames in order', async () => {
  const frames: FrameMessage[] = [];
  await new Promise<void>((resolve, reject) => {
    const call = client.Interpolate({
      from: { seed: '1', class: { index: 207 } },
      to: { seed: '2', class: { name: 'goldfish' } },
      frames: 5,
      truncation: 0.6,
      format: 'png',
    });
    call.on('data', (f: FrameMessage) => frames.push(f));
    call.on('end', resolve);
    call.on('error', reject);
  });
  const images = frames.filter((f) => f.image && f.image.data && f.image.data.length > 0);
  assert.ok(images.length >= 5);
  assert.deepEqual(
    images.slice(0, 5).map((f) => Number(f.t)),
    [0, 0.25, 0.5, 0.75, 1],
  );
});

test('bounded load: concurrent clients with mixed truncations, batches form, the queue bound holds, overload answers 503', async () => {
  // Sample the queue depth all along: it must never exceed maxQueueSize (12).
  let maxQueued = 0;
  const probe = setInterval(() => (maxQueued = Math.max(maxQueued, queueDepth())), 2);
  const before = await batchCounts();
  // 8 clients, 1 image each, for at most 4 s or 120 requests: no errors, batches of > 1 form.
  const r = await runHttpLoad('127.0.0.1', server.httpPort, 8, 4, 120);
  assert.equal(r.errors, 0);
  assert.deepEqual(r.statuses, {});
  assert.ok(r.ok > 8);
  const afterLoad = await batchCounts();
  const meanBatch = (afterLoad.sum - before.sum) / (afterLoad.count - before.count);
  assert.ok(meanBatch > 1, `mean batch size ${meanBatch}`);
  // Overload: 40 clients, 8 samples each, against a queue of 12 samples.
  const statuses = await Promise.all(
    Array.from({ length: 40 }, (_, i) =>
      fetch(`${base}/generate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ class: i, seed: i, count: 8 }),
      }).then(async (res) => {
        await res.arrayBuffer();
        return { status: res.status, retryAfter: res.headers.get('retry-after') };
      }),
    ),
  );
  const codes = new Set(statuses.map((s) => s.status));
  assert.ok(codes.has(200) && codes.has(503), `statuses ${[...codes].join(',')}`);
  assert.ok([...codes].every((c) => c === 200 || c === 503));
  assert.ok(statuses.filter((s) => s.status === 503).every((s) => Number(s.retryAfter) >= 1));
  const metrics = await (await fetch(`${base}/metrics`)).text();
  assert.match(metrics, /biggan_rejections_total\{reason="overload"[^}]*\} [1-9]/);
  clearInterval(probe);
  assert.ok(maxQueued <= 12, `queue depth reached ${maxQueued}`);
  assert.ok(maxQueued > 0);
});

function queueDepth(): number {
  return server.batcher.queued;
}

async function batchCounts(): Promise<{ sum: number; count: number }> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const sum = Number(/^biggan_batch_size_samples_sum(?:\{[^}]*\})? (\S+)/m.exec(text)?.[1] ?? 0);
  const count = Number(/^biggan_batch_size_samples_count(?:\{[^}]*\})? (\S+)/m.exec(text)?.[1] ?? 0);
  return { sum, count };
}
