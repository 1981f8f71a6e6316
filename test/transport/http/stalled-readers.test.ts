/**
 * Clients that ask for a large answer and never read it must not pin the server's memory:
 * - a cached (seeded) JSON answer is serialised once and the same bytes are written to every
 *   client (real stack: cache, service, batcher, fixture engine);
 * - a response whose client took nothing for the send timeout is closed;
 * - the bytes held by answers being written are bounded in total: past the budget a new large
 *   answer is refused with 503, while one Buffer shared by many replies counts once.
 * The non-reading clients are raw sockets that read the first chunk (so the answer has started)
 * and then stop reading; with 8 MB answers the kernel's socket buffers cannot absorb them.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createStack } from '../../helpers/stack.js';
import { buildHttpApp } from '../../../src/transport/http/app.js';
import { createMetrics, type Metrics } from '../../../src/metrics/metrics.js';
import { FakeService } from '../grpc/harness.js';
import type { CallContext, GenerateRequest, GenerateResult } from '../../../src/service/types.js';

const BIG = 8 * 2 ** 20;

/** Answers one image of 8 MB: the same Buffer every time (`shared`), or a new one per request. */
class BigAnswers extends FakeService {
  private readonly one = Buffer.alloc(BIG, 7);
  constructor(private readonly shared: boolean) {
    super();
  }

  override async generate(req: GenerateRequest, ctx: CallContext): Promise<GenerateResult> {
    const result = await super.generate(req, ctx);
    const data = this.shared ? this.one : Buffer.alloc(BIG, Number(req.seed ?? 0) % 256);
    return { ...result, images: result.images.map((img) => ({ ...img, data })) };
  }
}

const apps: FastifyInstance[] = [];
const sockets: net.Socket[] = [];
after(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(apps.map((a) => a.close()));
});

async function serve(
  shared: boolean,
  send: { sendTimeoutMs: number; sendBudgetBytes: number },
): Promise<{ app: FastifyInstance; port: number; metrics: Metrics }> {
  const service = new BigAnswers(shared);
  const metrics = createMetrics();
  const app = buildHttpApp(service, service, metrics, { bodyLimitBytes: 64 * 1024, version: 'test', send });
  apps.push(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, port: (app.server.address() as { port: number }).port, metrics };
}

/** Asks for an answer, reads its first chunk (the status line), then reads nothing more. */
function stalledReader(port: number, seed: number): Promise<{ status: number; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(`GET /generate?class=1&seed=${seed} HTTP/1.1\r\nHost: x\r\nAccept: image/png\r\n\r\n`);
    });
    sockets.push(socket);
    socket.once('error', reject);
    socket.once('data', (chunk: Buffer) => {
      socket.pause();
      resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(chunk.toString('latin1'))?.[1]), socket });
    });
  });
}

const connections = (app: FastifyInstance) =>
  new Promise<number>((resolve, reject) => app.server.getConnections((err, n) => (err ? reject(err) : resolve(n))));

async function waitFor(what: string, ok: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) assert.fail(`${what} did not happen within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('a response whose client reads nothing is closed after the send timeout', async () => {
  const { app, port } = await serve(false, { sendTimeoutMs: 400, sendBudgetBytes: 256 * 2 ** 20 });
  const reader = await stalledReader(port, 1);
  assert.equal(reader.status, 200);
  assert.equal(await connections(app), 1);
  // Idle timer: 400 ms without progress; generous margin for a loaded machine.
  await waitFor('the server closing the stalled response', async () => (await connections(app)) === 0, 5_000);
});

test('answers being written are bounded in total: past the budget a new large answer gets 503', async () => {
  const { port, metrics } = await serve(false, { sendTimeoutMs: 0, sendBudgetBytes: 20 * 2 ** 20 });
  const first = await stalledReader(port, 1);
  const second = await stalledReader(port, 2);
  assert.deepEqual([first.status, second.status], [200, 200]);
  const third = await fetch(`http://127.0.0.1:${port}/generate?class=1&seed=3`, { headers: { accept: 'image/png' } });
  assert.equal(third.status, 503);
  assert.equal(third.headers.get('retry-after'), '1');
  const { error } = (await third.json()) as { error: { code: string; message: string } };
  assert.equal(error.code, 'UNAVAILABLE');
  assert.match(error.message, /send budget/);
  // The refusal is counted once, at the exit (the onSend hook's error goes through the onError hook).
  const rejections = (await metrics.registry.getSingleMetricAsString('biggan_rejections_total'))
    .split('\n')
    .filter((l) => !l.startsWith('#') && l !== '');
  assert.deepEqual(
    rejections.map((l) => l.replace(/\{.*\}/, '')),
    ['biggan_rejections_total 1'],
    rejections.join('\n'),
  );
  assert.match(rejections[0], /reason="unavailable"/);
  // Small answers are not refused by the budget.
  assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
});

test('one Buffer written to many stalled readers counts once against the budget', async () => {
  const { port } = await serve(true, { sendTimeoutMs: 0, sendBudgetBytes: 20 * 2 ** 20 });
  for (let i = 0; i < 5; i++) assert.equal((await stalledReader(port, 1)).status, 200);
  const last = await fetch(`http://127.0.0.1:${port}/generate?class=1&seed=1`, { headers: { accept: 'image/png' } });
  assert.equal(last.status, 200);
  assert.equal((await last.arrayBuffer()).byteLength, BIG);
});

test('a cached JSON answer is serialised once: every reply writes the same bytes', async () => {
  const s = await createStack({}, 16, 32 * 2 ** 20);
  const app = buildHttpApp(s.requests, s.catalog, s.metrics, { bodyLimitBytes: 64 * 1024, version: 'test' });
  apps.push(app);
  const payloads: unknown[] = [];
  app.addHook('onSend', async (request, _reply, payload) => {
    if (request.url.startsWith('/generate')) payloads.push(payload);
    return payload;
  });
  const ask = () =>
    app.inject({
      method: 'POST',
      url: '/generate',
      payload: { class: 207, seed: '7', count: 2 },
      headers: { accept: 'application/json' },
    });
  const one = await ask();
  const two = await ask();
  assert.equal(one.statusCode, 200);
  assert.equal(two.body, one.body);
  const body = one.json() as { seed: number; images: { data: string; seed: number }[] };
  assert.equal(body.seed, 7);
  assert.deepEqual(
    body.images.map((i) => i.seed),
    [7, 8],
  );
  assert.equal(payloads.length, 2);
  assert.ok(Buffer.isBuffer(payloads[0]), 'the JSON answer is written as bytes made once');
  assert.equal(payloads[1], payloads[0], 'the second reply writes the very same Buffer');
});
