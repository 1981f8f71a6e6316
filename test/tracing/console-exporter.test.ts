/**
 * OTEL_TRACES_EXPORTER=console keeps stdout one JSON line per record: each span is one JSON line,
 * with a client's oversized `tracestate` cut short (the SDK's console exporter printed multi-line
 * dumps with the raw 10 KB header into the JSON log).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tracingFromEnv } from '../../src/tracing/tracing.js';
import { buildHttpApp } from '../../src/transport/http/app.js';
import { createStack } from '../helpers/stack.js';

test('console spans are one JSON line each on stdout, tracestate bounded', async () => {
  const tracing = await tracingFromEnv({ OTEL_TRACES_EXPORTER: 'console', OTEL_SERVICE_NAME: 'biggan-console-test' });
  const s = await createStack();
  const app = buildHttpApp(s.requests, s.catalog, s.metrics, { bodyLimitBytes: 64 * 1024, version: 'test', tracing });
  const written: string[] = [];
  const original = process.stdout.write.bind(process.stdout);
  const traceState = Array.from({ length: 400 }, (_, i) => `k${i}=${'v'.repeat(20)}`).join(',');
  try {
    const res = await app.inject({
      method: 'GET',
      url: '/v1/models',
      headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', tracestate: traceState },
    });
    assert.equal(res.statusCode, 200);
    process.stdout.write = ((chunk: string | Uint8Array) => {
      written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
      return true;
    }) as typeof process.stdout.write;
    await tracing.shutdown(); // flushes the exporter
  } finally {
    process.stdout.write = original;
    await app.close();
  }
  const text = written.join('');
  assert.ok(text.length > 0, 'a span was written');
  const lines = text.split('\n').filter((l) => l !== '');
  for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), `not one JSON record: ${line.slice(0, 200)}`);
  const span = lines
    .map((l) => JSON.parse(l) as { name?: string; traceId?: string; traceState?: string })
    .find((r) => r.name === 'GET /v1/models');
  assert.equal(span?.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
  assert.ok((span?.traceState?.length ?? 0) <= 512, 'tracestate cut short');
});
