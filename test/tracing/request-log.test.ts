/**
 * Request ids and request logs, read from the server's own log stream: one info line per request
 * carrying the request id (the client's, when safe, else a generated one), probes and scrapes at
 * debug, and the same id over gRPC metadata.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import { parseServerConfig } from '../../src/config/server-config.js';
import { startServer } from '../../src/server/start.js';
import { createGeneratorClient } from '../../src/transport/grpc/server.js';
import { FIXTURE_DIR } from '../helpers/fixtures.js';

interface LogLine {
  level: number;
  msg: string;
  requestId?: string;
  route?: string;
  status?: number | string;
  images?: number;
  model?: string;
  latencyMs?: number;
  transport?: string;
}

const INFO = 30;
const DEBUG = 20;

test('request ids and one log line per request, over HTTP and gRPC', async () => {
  const lines: LogLine[] = [];
  let partial = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      partial += chunk.toString('utf8');
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      for (const p of parts) if (p.trim()) lines.push(JSON.parse(p) as LogLine);
      done();
    },
  });
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
      '--max-queue-delay-ms',
      '0',
    ],
    {},
  );
  const server = await startServer(config, { logger: { level: 'debug', stream } });
  const base = `http://127.0.0.1:${server.httpPort}`;
  const client = createGeneratorClient(`127.0.0.1:${server.grpcPort}`);
  try {
    const post = (headers: Record<string, string>) =>
      fetch(`${base}/generate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ class: 1, seed: 3 }),
      });

    const mine = await post({ 'x-request-id': 'client-id.1:A_b-c' });
    assert.equal(mine.status, 200);
    assert.equal(mine.headers.get('x-request-id'), 'client-id.1:A_b-c', 'a safe client id is echoed');
    await mine.arrayBuffer();

    const unsafe = await post({ 'x-request-id': 'bad id"\\<script>' });
    const generated = unsafe.headers.get('x-request-id') ?? '';
    assert.match(
      generated,
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
      'an unsafe id is replaced by a UUID',
    );
    await unsafe.arrayBuffer();
    const tooLong = await post({ 'x-request-id': 'a'.repeat(129) });
    assert.notEqual(tooLong.headers.get('x-request-id'), 'a'.repeat(129));
    await tooLong.arrayBuffer();

    const bad = await fetch(`${base}/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'bad-request-1' },
      body: JSON.stringify({ class: 99999 }),
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.headers.get('x-request-id'), 'bad-request-1', 'errors carry the id too');

    for (const probe of ['/healthz', '/readyz', '/metrics']) {
      const r = await fetch(`${base}${probe}`, { headers: { 'x-request-id': `probe${probe.replace('/', '-')}` } });
      assert.equal(r.status, 200);
      await r.arrayBuffer();
    }

    const md = new grpc.Metadata();
    md.set('x-request-id', 'grpc-id-1');
    const initial = await new Promise<grpc.Metadata>((resolve, reject) => {
      const call = client.Generate({ classes: [{ index: 2 }], seed: 5 }, md, {}, (err) =>
        err ? reject(err) : undefined,
      );
      call.on('metadata', resolve);
    });
    assert.deepEqual(initial.get('x-request-id'), ['grpc-id-1'], 'echoed in the initial metadata');

    const md2 = new grpc.Metadata();
    md2.set('x-request-id', 'grpc-bad-1');
    const failure = await new Promise<grpc.ServiceError>((resolve) =>
      client.Generate({ classes: [{ index: 99999 }] }, md2, {}, (err) => resolve(err!)),
    );
    assert.equal(failure.code, grpc.status.INVALID_ARGUMENT);
    assert.deepEqual(failure.metadata.get('x-request-id'), ['grpc-bad-1'], 'and in the trailers of a failed call');
  } finally {
    client.close();
    await server.stop();
  }

  assert.equal(
    lines.filter((l) => l.msg === 'incoming request' || l.msg === 'request completed').length,
    0,
    "fastify's default pair is off",
  );
  const byId = (id: string) => lines.filter((l) => l.requestId === id);

  const mineLines = byId('client-id.1:A_b-c');
  assert.equal(mineLines.length, 1, JSON.stringify(mineLines));
  assert.equal(mineLines[0].level, INFO);
  assert.equal(mineLines[0].msg, 'request');
  assert.equal(mineLines[0].route, '/generate');
  assert.equal(mineLines[0].status, 200);
  assert.equal(mineLines[0].images, 1);
  assert.equal(mineLines[0].model, 'tiny-128');
  assert.equal(typeof mineLines[0].latencyMs, 'number');

  const badLines = byId('bad-request-1');
  assert.ok(badLines.length >= 1 && badLines.every((l) => l.requestId === 'bad-request-1'));
  assert.equal(badLines.filter((l) => l.msg === 'request').length, 1);
  assert.equal(badLines.find((l) => l.msg === 'request')?.status, 400);

  for (const probe of ['probe-healthz', 'probe-readyz', 'probe-metrics']) {
    const probeLines = byId(probe);
    assert.equal(probeLines.length, 1, probe);
    assert.equal(probeLines[0].level, DEBUG, `${probe} logs at debug`);
  }

  const grpcLines = byId('grpc-id-1');
  assert.equal(grpcLines.length, 1, JSON.stringify(grpcLines));
  assert.deepEqual(
    {
      level: grpcLines[0].level,
      msg: grpcLines[0].msg,
      route: grpcLines[0].route,
      status: grpcLines[0].status,
      images: grpcLines[0].images,
      transport: grpcLines[0].transport,
      model: grpcLines[0].model,
    },
    { level: INFO, msg: 'request', route: 'Generate', status: 'OK', images: 1, transport: 'grpc', model: 'tiny-128' },
  );
  assert.equal(byId('grpc-bad-1')[0]?.status, 'INVALID_ARGUMENT');
});
