/**
 * Prometheus metrics: one private registry per service instance (tests start clean), prefix
 * `biggan_`, base units in names (seconds, bytes), counters ending in `_total`, latencies as
 * histograms.
 */
import { Registry, Counter, Gauge, Histogram, collectDefaultMetrics } from 'prom-client';
import type { BatcherObserver, RejectReason } from '../batching/batcher.js';

/** Latency buckets in seconds: 5 ms .. 60 s. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Batch sizes up to 256. */
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];

/** Every metric the service exports. */
export interface Metrics {
  readonly registry: Registry;
  readonly requests: Counter<'transport' | 'route' | 'status'>;
  readonly requestDuration: Histogram<'transport' | 'route'>;
  readonly queueDepth: Gauge;
  readonly queueWait: Histogram;
  readonly batchSize: Histogram;
  readonly inferenceDuration: Histogram;
  readonly encodeDuration: Histogram<'format'>;
  readonly images: Counter<'transport'>;
  readonly rejections: Counter<'reason'>;
  readonly modelInfo: Gauge<'model' | 'engine' | 'backend' | 'resolution'>;
  readonly ready: Gauge;
  /** Response cache lookups by result: hit, miss, or coalesced (joined an identical request in flight). */
  readonly cacheLookups: Counter<'result'>;
  readonly cacheBytes: Gauge;
  readonly cacheEvictions: Counter;
  /** A batcher observer that feeds the queue and batch metrics. */
  readonly batcherObserver: BatcherObserver;
}

/** Creates the metrics on a fresh private registry (with Node's default process metrics). */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'biggan_' });
  const registers = [registry];
  const requests = new Counter({ name: 'biggan_requests_total', help: 'Requests answered, by transport, route and status (HTTP status code or gRPC status name).', labelNames: ['transport', 'route', 'status'] as const, registers });
  const requestDuration = new Histogram({ name: 'biggan_request_duration_seconds', help: 'Time from receiving a request to its answer.', labelNames: ['transport', 'route'] as const, buckets: LATENCY_BUCKETS, registers });
  const queueDepth = new Gauge({ name: 'biggan_queue_depth_samples', help: 'Samples waiting in the batcher queue.', registers });
  const queueWait = new Histogram({ name: 'biggan_queue_wait_seconds', help: 'Time a sample waited in the queue before its batch ran.', buckets: LATENCY_BUCKETS, registers });
  const batchSize = new Histogram({ name: 'biggan_batch_size_samples', help: 'Samples per engine call.', buckets: BATCH_BUCKETS, registers });
  const inferenceDuration = new Histogram({ name: 'biggan_inference_duration_seconds', help: 'Engine time per batch.', buckets: LATENCY_BUCKETS, registers });
  const encodeDuration = new Histogram({ name: 'biggan_encode_duration_seconds', help: 'Image encoding time per image, by format.', labelNames: ['format'] as const, buckets: LATENCY_BUCKETS, registers });
  const images = new Counter({ name: 'biggan_images_generated_total', help: 'Images generated and returned.', labelNames: ['transport'] as const, registers });
  const rejections = new Counter({ name: 'biggan_rejections_total', help: 'Requests rejected, by reason: overload, deadline, cancelled, invalid, unavailable.', labelNames: ['reason'] as const, registers });
  const modelInfo = new Gauge({ name: 'biggan_model_info', help: 'The model being served (always 1), labelled with model, engine, backend and resolution.', labelNames: ['model', 'engine', 'backend', 'resolution'] as const, registers });
  const ready = new Gauge({ name: 'biggan_ready', help: '1 when the service is ready (loaded, warmed up, not draining).', registers });
  const cacheLookups = new Counter({ name: 'biggan_cache_lookups_total', help: 'Image cache lookups: hit, miss, or coalesced (an identical request was already being computed).', labelNames: ['result'] as const, registers });
  const cacheBytes = new Gauge({ name: 'biggan_cache_bytes', help: 'Bytes of encoded images held by the response cache.', registers });
  const cacheEvictions = new Counter({ name: 'biggan_cache_evictions_total', help: 'Entries evicted from the response cache to stay within --cache-size.', registers });
  const batcherObserver: BatcherObserver = {
    onBatch: ({ size, durationMs }) => {
      batchSize.observe(size);
      inferenceDuration.observe(durationMs / 1000);
    },
    onQueueWait: (ms) => queueWait.observe(ms / 1000),
    onQueueDepth: (samples) => queueDepth.set(samples),
    onReject: (reason: RejectReason) => rejections.inc({ reason }),
  };
  return { registry, requests, requestDuration, queueDepth, queueWait, batchSize, inferenceDuration, encodeDuration, images, rejections, modelInfo, ready, cacheLookups, cacheBytes, cacheEvictions, batcherObserver };
}
