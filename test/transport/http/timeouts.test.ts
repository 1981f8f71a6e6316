/**
 * Clients that never finish sending their request: a body or headers dripped a byte at a time get
 * 408 and a closed socket within the request timeout, while other clients are answered and a
 * request that was received in time may wait in the queue far longer than the timeout.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createMetrics, type Metrics } from '../../../src/metrics/metrics.js';
import { buildHttpApp } from '../../../src/transport/http/app.js';
import { FakeService } from '../grpc/harness.js';

const REQUEST_TIMEOUT_MS = 600;
const HEADERS_TIMEOUT_MS = 300;

let app: FastifyInstance;
let port: number;
let metrics: Metrics;
const service = new FakeService();
before(async () => {
  metrics = createMetrics();
  app = buildHttpApp(service, service, metrics, {
    bodyLimitBytes: 64 * 1024,
    version: 'test',
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
    headersTimeoutMs: HEADERS_TIMEOUT_MS,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as net.AddressInfo).port;
});
after(() => app.close());

/** What a raw client saw: everything the server sent, and when the socket closed (ms after connecting). */
interface Dripped {
  response: string;
  closedAfterMs: number;
}

/**
 * Opens a socket, writes `head` at once, then drips `drip` one byte every 50 ms (for at most
 * 10 s) until the server closes the connection.
 */
function drip(head: string, drip: string): Promise<Dripped> {
  return new Promise((resolve, reject) => {
    const startedAt = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    let response = '';
    let at = 0;
    let timer: NodeJS.Timeout | undefined;
    const giveUp = setTimeout(() => socket.destroy(new Error('the server never closed the dripping socket')), 10_000);
    socket.on('connect', () => {
      socket.write(head);
      // The drip starts only once the head is written, so the bytes arrive in order.
      timer = setInterval(() => {
        if (at < drip.length && socket.writable) socket.write(drip[at++]);
      }, 50);
    });
    socket.on('data', (d) => (response += d.toString()));
    socket.on('error', (err) => {
      if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err);
    });
    socket.on('close', () => {
      clearInterval(timer);
      clearTimeout(giveUp);
      resolve({ response, closedAfterMs: Date.now() - startedAt });
    });
  });
}

const body = JSON.stringify({ class: 1, seed: 1, padding: 'p'.repeat(200) });

test('a body dripped a byte at a time gets 408 and a closed socket within the request timeout', async () => {
  const dripped = drip(
    `POST /generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
    body,
  );
  // Meanwhile other clients are answered.
  const health = await fetch(`http://127.0.0.1:${port}/healthz`);
  assert.equal(health.status, 200);
  const { response, closedAfterMs } = await dripped;
  assert.match(response, /^HTTP\/1\.1 408 Request Timeout\r\n/);
  assert.match(response, /"code":"REQUEST_TIMEOUT"/);
  assert.ok(closedAfterMs >= REQUEST_TIMEOUT_MS - 50, `closed after ${closedAfterMs} ms`);
  // Node checks every quarter of the headers timeout; allow that and a loaded machine.
  assert.ok(closedAfterMs < REQUEST_TIMEOUT_MS + 3_000, `closed after ${closedAfterMs} ms`);
  const text = await metrics.registry.metrics();
  assert.match(text, /biggan_requests_total\{transport="http",route="unmatched",status="408"\} [1-9]/);
  assert.match(text, /biggan_rejections_total\{reason="request_timeout"\} [1-9]/);
});

test('headers dripped a byte at a time get 408 within the headers timeout', async () => {
  const { response, closedAfterMs } = await drip('GET /healthz HTTP/1.1\r\n', 'X-Slow: ' + 'a'.repeat(200));
  assert.match(response, /^HTTP\/1\.1 408 /);
  assert.ok(closedAfterMs < HEADERS_TIMEOUT_MS + 3_000, `closed after ${closedAfterMs} ms`);
});

test('a request received in time may wait longer than the request timeout for its answer', async () => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  service.hold = () => released;
  try {
    const answer = fetch(`http://127.0.0.1:${port}/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ class: 1, seed: 1 }),
    });
    await service.nextCall();
    // A dripping client that started after the request was in: when it has its 408, the held
    // request has been waiting longer than the request timeout.
    const dripped = await drip(
      `POST /generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
      body,
    );
    assert.match(dripped.response, /^HTTP\/1\.1 408 /);
    release();
    const res = await answer;
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'image 0');
  } finally {
    service.reset();
  }
});

test('an idle keep-alive connection is not timed out: its next request is answered', async () => {
  const socket = net.connect(port, '127.0.0.1');
  let received = '';
  let closed = false;
  let wake: () => void = () => undefined;
  socket.on('data', (d) => {
    received += d.toString();
    wake();
  });
  socket.on('close', () => {
    closed = true;
    wake();
  });
  /** Resolves once `n` answers have arrived; rejects if the server closes the connection first. */
  const answers = async (n: number): Promise<void> => {
    while ((received.match(/HTTP\/1\.1 200 /g) ?? []).length < n) {
      if (closed) throw new Error(`closed after: ${received.slice(0, 200)}`);
      await new Promise<void>((resolve) => (wake = resolve));
    }
  };
  try {
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await answers(1);
    // Idle for longer than the request timeout: a dripping client started now gets its 408 first.
    const dripped = await drip(
      `POST /generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
      body,
    );
    assert.match(dripped.response, /^HTTP\/1\.1 408 /);
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await answers(2);
  } finally {
    socket.destroy();
  }
});
