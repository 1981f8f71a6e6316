/**
 * The Node.js and process metrics keep their standard names (no `biggan_` prefix), so stock
 * Node.js dashboards and alerts work; the service's own metrics keep `biggan_`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMetrics } from '../../src/metrics/metrics.js';

test('/metrics text has the default process and Node metrics under their standard names', async () => {
  const text = await createMetrics().registry.metrics();
  for (const name of [
    'process_cpu_seconds_total',
    'process_resident_memory_bytes',
    'process_start_time_seconds',
    'nodejs_eventloop_lag_seconds',
    'nodejs_eventloop_lag_p99_seconds',
    'nodejs_heap_size_used_bytes',
    'nodejs_gc_duration_seconds',
  ]) {
    assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), name);
  }
  assert.doesNotMatch(text, /^# TYPE biggan_(process|nodejs)_/m, 'no prefixed copies of the default metrics');
  for (const m of text.matchAll(/^# TYPE (\S+) /gm)) {
    assert.match(m[1], /^(biggan|process|nodejs)_/, `${m[1]}: service metrics are prefixed biggan_`);
  }
});
