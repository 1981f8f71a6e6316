/**
 * Prometheus metrics: one private registry per service instance (tests start clean), service
 * metrics prefixed `biggan_` (Node's default metrics keep their standard names), base units in
 * names (seconds, bytes), counters ending in `_total`, latencies as histograms.
 */
import { Registry, Counter, Gauge, Histogram, collectDefaultMetrics } from 'prom-client';
import type { BatcherObserver } from '../batching/batcher.js';
import type { SupervisorObserver } from '../engine/supervised-engine.js';

/** Latency buckets in seconds: 5 ms .. 60 s. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Batch sizes up to 256. */
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];

/** Every metric the service exports. */
export interface Metrics {
  readonly registry: Registry;
  readonly requests: Counter<'transport' | 'route' | 'status' | 'model'>;
  readonly requestDuration: Histogram<'transport' | 'route' | 'model'>;
  readonly queueDepth: Gauge<'model'>;
  readonly queueWait: Histogram<'model'>;
  readonly batchSize: Histogram<'model'>;
  readonly inferenceDuration: Histogram<'model'>;
  readonly engineWait: Histogram<'model'>;
  readonly engineRestarts: Counter<'model'>;
  readonly engineFailures: Counter<'model'>;
  readonly nonFiniteOutputs: Counter<'model'>;
  readonly encodeDuration: Histogram<'format' | 'model'>;
  readonly images: Counter<'transport' | 'model'>;
  readonly rejections: Counter<'reason' | 'model'>;
  readonly estimatedWait: Gauge<'model'>;
  readonly modelInfo: Gauge<'model' | 'engine' | 'backend' | 'resolution' | 'state'>;
  readonly ready: Gauge<'model'>;
  /** Response cache lookups by result: hit, miss, or coalesced (joined an identical request in flight). */
  readonly cacheLookups: Counter<'result' | 'model'>;
  readonly cacheBytes: Gauge<'model'>;
  readonly cacheEvictions: Counter<'model'>;
  /** Requests refused for their API key, by reason: missing, unknown, disabled, metrics_token. */
  readonly authFailures: Counter<'reason'>;
  /** Requests refused by a key's quota, by key name. */
  readonly quotaRejections: Counter<'key'>;
  /** Images answered per key name (cached ones included). */
  readonly keyImages: Counter<'key'>;
  /** Quota store (Redis) failures: commands that got no answer. */
  readonly quotaStoreErrors: Counter;
  /** 1 while the quota store (Redis) answers, 0 while it does not. */
  readonly quotaStoreUp: Gauge;
  /** A batcher observer that feeds the queue and batch metrics (no model label; see batcherObserverFor). */
  readonly batcherObserver: BatcherObserver;
  /** An engine-supervisor observer that feeds engine time, wait, failures and restarts (no model label). */
  readonly engineObserver: SupervisorObserver;
  /** The batcher observer of one model's batcher: every series labelled `model`. */
  batcherObserverFor(model: string): BatcherObserver;
  /** The engine-supervisor observer of one model's engine: every series labelled `model`. */
  engineObserverFor(model: string): SupervisorObserver;
}

/** The registry every metric of one `createMetrics` call registers on. */
type Registers = Registry[];

/** Request-level metrics: answers, latency, images returned, encoding time and refusals. */
function requestMetrics(registers: Registers) {
  return {
    requests: new Counter({
      name: 'biggan_requests_total',
      help: 'Requests answered, by transport, route and status (HTTP status code or gRPC status name).',
      labelNames: ['transport', 'route', 'status', 'model'] as const,
      registers,
    }),
    requestDuration: new Histogram({
      name: 'biggan_request_duration_seconds',
      help: 'Time from receiving a request to its answer.',
      labelNames: ['transport', 'route', 'model'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    encodeDuration: new Histogram({
      name: 'biggan_encode_duration_seconds',
      help: 'Image encoding time per image, by format.',
      labelNames: ['format', 'model'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    images: new Counter({
      name: 'biggan_images_generated_total',
      help: 'Images returned to clients: computed by the engine, or answered from the response cache or from an identical request in flight.',
      labelNames: ['transport', 'model'] as const,
      registers,
    }),
    rejections: new Counter({
      name: 'biggan_rejections_total',
      help: 'Requests rejected, by reason: overload, deadline, cancelled, invalid, unavailable.',
      labelNames: ['reason', 'model'] as const,
      registers,
    }),
  };
}

/** Batcher metrics: queue depth and wait, batch sizes, and the predicted wait that admission uses. */
function batchingMetrics(registers: Registers) {
  return {
    queueDepth: new Gauge({
      name: 'biggan_queue_depth_samples',
      help: 'Samples waiting in the batcher queue.',
      labelNames: ['model'] as const,
      registers,
    }),
    queueWait: new Histogram({
      name: 'biggan_queue_wait_seconds',
      help: 'Time a sample waited in the queue before its batch ran.',
      buckets: LATENCY_BUCKETS,
      labelNames: ['model'] as const,
      registers,
    }),
    batchSize: new Histogram({
      name: 'biggan_batch_size_samples',
      help: 'Samples per engine call.',
      buckets: BATCH_BUCKETS,
      labelNames: ['model'] as const,
      registers,
    }),
    estimatedWait: new Gauge({
      name: 'biggan_queue_estimated_wait_seconds',
      help: 'Predicted wait before a new 1-sample request would start in the engine (from the measured engine time); admission refuses requests predicted to wait longer than --max-queue-wait-ms.',
      labelNames: ['model'] as const,
      registers,
    }),
  };
}

/** Engine metrics: compute time, pipelining wait, failures, restarts and non-finite outputs. */
function engineMetrics(registers: Registers) {
  return {
    inferenceDuration: new Histogram({
      name: 'biggan_inference_duration_seconds',
      help: 'Engine compute time per batch, from the moment the engine starts it (waiting behind another batch not included).',
      buckets: LATENCY_BUCKETS,
      labelNames: ['model'] as const,
      registers,
    }),
    engineWait: new Histogram({
      name: 'biggan_engine_wait_seconds',
      help: 'Time a batch handed to the engine waited for the previous one to finish (pipelining).',
      buckets: LATENCY_BUCKETS,
      labelNames: ['model'] as const,
      registers,
    }),
    engineRestarts: new Counter({
      name: 'biggan_engine_restarts_total',
      help: 'Engines started again after their worker thread died.',
      labelNames: ['model'] as const,
      registers,
    }),
    engineFailures: new Counter({
      name: 'biggan_engine_failures_total',
      help: 'Engine calls that failed.',
      labelNames: ['model'] as const,
      registers,
    }),
    nonFiniteOutputs: new Counter({
      name: 'biggan_nonfinite_outputs_total',
      help: 'Samples the engine answered with NaN or infinite values (their requests got an error).',
      labelNames: ['model'] as const,
      registers,
    }),
  };
}

/** Model metrics: one info series per model of the repository, and readiness. */
function modelMetrics(registers: Registers) {
  return {
    modelInfo: new Gauge({
      name: 'biggan_model_info',
      help: 'Each model of the repository (always 1), labelled with model, engine, backend, resolution and state (loading, ready, unloaded, failed).',
      labelNames: ['model', 'engine', 'backend', 'resolution', 'state'] as const,
      registers,
    }),
    ready: new Gauge({
      name: 'biggan_ready',
      help: '1 when the model is ready (loaded, warmed up, not draining), by model.',
      labelNames: ['model'] as const,
      registers,
    }),
  };
}

/** Response cache metrics: lookups by result, bytes held, evictions. */
function cacheMetrics(registers: Registers) {
  return {
    cacheLookups: new Counter({
      name: 'biggan_cache_lookups_total',
      help: 'Image cache lookups: hit, miss, or coalesced (an identical request was already being computed).',
      labelNames: ['result', 'model'] as const,
      registers,
    }),
    cacheBytes: new Gauge({
      name: 'biggan_cache_bytes',
      help: 'Bytes of encoded images held by the response cache.',
      labelNames: ['model'] as const,
      registers,
    }),
    cacheEvictions: new Counter({
      name: 'biggan_cache_evictions_total',
      help: 'Entries evicted from the response cache to stay within --cache-size.',
      labelNames: ['model'] as const,
      registers,
    }),
  };
}

/** Access metrics: API key refusals, quota refusals, images per key, and the quota store's health. */
function accessMetrics(registers: Registers) {
  return {
    authFailures: new Counter({
      name: 'biggan_auth_failures_total',
      help: 'Requests refused for their API key, by reason: missing, unknown, disabled, metrics_token.',
      labelNames: ['reason'] as const,
      registers,
    }),
    quotaRejections: new Counter({
      name: 'biggan_quota_rejections_total',
      help: 'Requests refused by the quota of their API key (429 / RESOURCE_EXHAUSTED), by key name.',
      labelNames: ['key'] as const,
      registers,
    }),
    keyImages: new Counter({
      name: 'biggan_key_images_total',
      help: 'Images answered per API key name (cached ones included).',
      labelNames: ['key'] as const,
      registers,
    }),
    quotaStoreErrors: new Counter({
      name: 'biggan_quota_store_errors_total',
      help: 'Quota store (Redis) commands that failed or timed out.',
      registers,
    }),
    // Registered on no registry here: the server registers it only when --quota-redis is set.
    quotaStoreUp: new Gauge({
      name: 'biggan_quota_store_up',
      help: '1 while the quota store (Redis) answers, 0 while it does not (absent without --quota-redis).',
      registers: [],
    }),
  };
}

/** The batcher observer feeding the batching metrics; `model` undefined gives unlabelled series. */
function batcherObserverOf(m: ReturnType<typeof batchingMetrics>, model?: string): BatcherObserver {
  const l = model === undefined ? {} : { model };
  return {
    // Engine time is observed by the engine supervisor, where the call really starts: the
    // batcher's duration includes the time a pipelined batch waits for the engine.
    onBatch: ({ size }) => m.batchSize.observe(l, size),
    onQueueWait: (ms) => m.queueWait.observe(l, ms / 1000),
    onQueueDepth: (samples) => m.queueDepth.set(l, samples),
    onWaitEstimate: (ms) => m.estimatedWait.set(l, ms / 1000),
  };
}

/** The engine-supervisor observer feeding the engine metrics; `model` undefined gives unlabelled series. */
function engineObserverOf(m: ReturnType<typeof engineMetrics>, model?: string): SupervisorObserver {
  const l = model === undefined ? {} : { model };
  return {
    onCompute: ({ durationMs, ok }) => {
      m.inferenceDuration.observe(l, durationMs / 1000);
      if (!ok) m.engineFailures.inc(l);
    },
    onWait: (ms) => m.engineWait.observe(l, ms / 1000),
    onRestart: () => m.engineRestarts.inc(l),
  };
}

/** Creates the metrics on a fresh private registry (with Node's default process metrics). */
export function createMetrics(): Metrics {
  const registry = new Registry();
  // No prefix: the process and Node metrics keep their standard names (process_cpu_seconds_total,
  // nodejs_eventloop_lag_seconds, ...) so the usual Node.js dashboards and alerts work unchanged.
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const batching = batchingMetrics(registers);
  const engine = engineMetrics(registers);
  return {
    registry,
    ...requestMetrics(registers),
    ...batching,
    ...engine,
    ...modelMetrics(registers),
    ...cacheMetrics(registers),
    ...accessMetrics(registers),
    batcherObserver: batcherObserverOf(batching),
    engineObserver: engineObserverOf(engine),
    batcherObserverFor: (model) => batcherObserverOf(batching, model),
    engineObserverFor: (model) => engineObserverOf(engine, model),
  };
}
