/**
 * Tracing end to end: a real server exports OTLP/HTTP to a receiver in the test. An HTTP
 * /generate and a gRPC Generate, each with its own W3C traceparent, share one engine batch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { parseServerConfig } from '../../src/config/server-config.js';
import { startServer } from '../../src/server/start.js';
import { createGeneratorClient } from '../../src/transport/grpc/server.js';
import { NOOP_TRACING, otlpTracesUrl, tracingFromEnv } from '../../src/tracing/tracing.js';
import { FIXTURE_DIR } from '../helpers/fixtures.js';
import { startOtlpSink, type ReceivedSpan } from './otlp-sink.js';

const HTTP_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const HTTP_PARENT = '00f067aa0ba902b7';
const GRPC_TRACE = '0af7651916cd43dd8448eb211c80319c';
const GRPC_PARENT = 'b7ad6b7169203331';

test('env: no exporter configured means the no-op tracer; an OTLP endpoint turns OTLP on', async () => {
  assert.equal(await tracingFromEnv({}), NOOP_TRACING);
  assert.equal(
    await tracingFromEnv({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x:4318' }),
    NOOP_TRACING,
  );
  assert.equal(
    await tracingFromEnv({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x:4318' }),
    NOOP_TRACING,
  );
  assert.equal(otlpTracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x:4318/' }), 'http://x:4318/v1/traces');
  assert.equal(
    otlpTracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://y/t' }),
    'http://y/t',
  );
  await assert.rejects(tracingFromEnv({ OTEL_TRACES_EXPORTER: 'zipkin' }), /unsupported exporter 'zipkin'/);
  const on = await tracingFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' });
  assert.equal(on.enabled, true);
  assert.equal(on.description, 'otlp http://127.0.0.1:9/v1/traces');
  await on.shutdown();
});

test("one /generate and one gRPC Generate in one batch: spans reach an OTLP receiver with the callers' trace ids and the batch links both", async () => {
  const sink = await startOtlpSink();
  const tracing = await tracingFromEnv({
    OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
    OTEL_SERVICE_NAME: 'biggan-trace-test',
  });
  // A full batch of 2 starts at once; the long delay makes sure the two requests wait for each other.
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
      '2',
      '--max-queue-delay-ms',
      '5000',
      '--max-concurrent-batches',
      '1',
    ],
    {},
  );
  const server = await startServer(config, { logger: false, tracing });
  const client = createGeneratorClient(`127.0.0.1:${server.grpcPort}`);
  try {
    const metadata = new grpc.Metadata();
    metadata.set('traceparent', `00-${GRPC_TRACE}-${GRPC_PARENT}-01`);
    const viaGrpc = new Promise<void>((resolve, reject) =>
      client.Generate({ classes: [{ index: 3 }], seed: 7 }, metadata, {}, (err) => (err ? reject(err) : resolve())),
    );
    const viaHttp = fetch(`http://127.0.0.1:${server.httpPort}/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${HTTP_TRACE}-${HTTP_PARENT}-01` },
      body: JSON.stringify({ class: 207, seed: 1 }),
    });
    const [res] = await Promise.all([viaHttp, viaGrpc]);
    assert.equal(res.status, 200);
    await res.arrayBuffer();
  } finally {
    client.close();
    await server.stop(); // flushes the exporter
    await sink.close();
  }
  assert.ok(
    sink.contentTypes.every((t) => t.startsWith('application/json')),
    sink.contentTypes.join(),
  );
  const spans = sink.spans;
  const named = (name: string, traceId: string): ReceivedSpan[] =>
    spans.filter((s) => s.name === name && s.traceId === traceId);

  const httpSpan = named('POST /generate', HTTP_TRACE);
  assert.equal(httpSpan.length, 1, `spans: ${spans.map((s) => `${s.name}@${s.traceId}`).join(', ')}`);
  assert.equal(httpSpan[0].parentSpanId, HTTP_PARENT, "the caller's span is the parent");
  assert.equal(httpSpan[0].kind, 2, 'SERVER');
  assert.equal(httpSpan[0].attributes['http.response.status_code'], 200);
  assert.equal(httpSpan[0].serviceName, 'biggan-trace-test');
  assert.match(String(httpSpan[0].attributes['biggan.request_id']), /^[0-9a-f-]{36}$/);

  const grpcSpan = named('biggan.v1.Generator/Generate', GRPC_TRACE);
  assert.equal(grpcSpan.length, 1);
  assert.equal(grpcSpan[0].parentSpanId, GRPC_PARENT);
  assert.equal(grpcSpan[0].attributes['rpc.grpc.status_code'], 0);

  for (const [trace, server] of [
    [HTTP_TRACE, httpSpan[0]],
    [GRPC_TRACE, grpcSpan[0]],
  ] as const) {
    const queue = named('queue', trace);
    assert.equal(queue.length, 1, `one queue span in ${trace}`);
    assert.equal(queue[0].parentSpanId, server.spanId);
    assert.ok(queue[0].endNs >= queue[0].startNs);
    const encode = named('encode', trace);
    assert.equal(encode.length, 1, `one encode span in ${trace}`);
    assert.equal(encode[0].parentSpanId, server.spanId);
    assert.equal(encode[0].attributes['biggan.format'], 'png');
    assert.ok(encode[0].startNs >= queue[0].endNs, 'encoding follows the queue wait');
  }

  const batches = spans.filter((s) => s.name === 'engine.batch');
  assert.equal(batches.length, 1, 'both requests ran in one batch');
  const batch = batches[0];
  assert.equal(batch.attributes['biggan.batch.size'], 2);
  assert.equal(batch.attributes['biggan.model'], 'tiny-128');
  assert.ok(batch.attributes['biggan.engine'], 'engine attribute');
  assert.ok(batch.attributes['biggan.backend'], 'backend attribute');
  const links = batch.links.map((l) => `${l.traceId}/${l.spanId}`).sort();
  assert.deepEqual(links, [`${HTTP_TRACE}/${httpSpan[0].spanId}`, `${GRPC_TRACE}/${grpcSpan[0].spanId}`].sort());
});
