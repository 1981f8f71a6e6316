/**
 * Kubernetes probes and /metrics are polled every few seconds: they are not traced by default
 * (a span per probe would flood the exporter), while API routes are, with the model they used.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tracingFromEnv } from '../../src/tracing/tracing.js';
import { buildHttpApp } from '../../src/transport/http/app.js';
import { createStack } from '../helpers/stack.js';
import { startOtlpSink } from './otlp-sink.js';

test('/healthz, /readyz and /metrics make no spans; /v1/models and /generate do, naming the model', async () => {
  const sink = await startOtlpSink();
  const tracing = await tracingFromEnv({
    OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
    OTEL_SERVICE_NAME: 'biggan-probe-test',
  });
  const s = await createStack();
  const app = buildHttpApp(s.requests, s.catalog, s.metrics, { bodyLimitBytes: 64 * 1024, version: 'test', tracing });
  try {
    for (const url of ['/healthz', '/readyz', '/metrics', '/v1/models'])
      assert.equal((await app.inject({ method: 'GET', url })).statusCode, 200, url);
    assert.equal((await app.inject({ method: 'GET', url: '/generate?class=1&seed=2' })).statusCode, 200);
  } finally {
    await app.close();
    await tracing.shutdown(); // flushes the exporter
    await sink.close();
  }
  const routes = sink.spans.map((sp) => sp.attributes['http.route']).filter((r) => r !== undefined);
  for (const probe of ['/healthz', '/readyz', '/metrics'])
    assert.ok(!routes.includes(probe), `${probe} was traced: ${routes.join(', ')}`);
  assert.ok(routes.includes('/v1/models'), routes.join(', '));
  const generate = sink.spans.find((sp) => sp.attributes['http.route'] === '/generate');
  assert.equal(generate?.attributes['biggan.model'], s.catalog.modelInfo().name);
});
