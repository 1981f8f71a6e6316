/**
 * The request path in front of the models: each model's response cache over its handle, the
 * router picking the model a request names, and the per-key quotas in front of it all.
 */
import type { Metrics } from '../metrics/metrics.js';
import { ENCODER_ID } from '../image/encode.js';
import { CachingService, cacheObserverOf } from '../service/cache/caching-service.js';
import type { ModelRepository } from '../service/repository/model-repository.js';
import { RoutingService } from '../service/repository/routing-service.js';
import { QuotaService, type QuotaOptions } from '../service/quota-service.js';
import type { EngineChoice } from '../engine/choices.js';

/** Settings of the chain. */
export interface ServiceChainOptions {
  readonly maxSamplesPerRequest: number;
  /** Engine reported for a model before it is loaded. */
  readonly engine: EngineChoice;
  /** Bytes of encoded images all models' caches hold together (shared equally); 0: off. */
  readonly cacheSizeBytes: number;
  readonly quota: QuotaOptions;
}

/** The built chain: the router (readiness, catalog) and what the transports call. */
export interface ServiceChain {
  readonly routing: RoutingService;
  readonly requests: QuotaService;
}

/** Builds cache -> router -> quotas over `repository`. */
export function buildServiceChain(repository: ModelRepository, metrics: Metrics, options: ServiceChainOptions): ServiceChain {
  const cacheBytes = Math.floor(options.cacheSizeBytes / repository.names().length);
  const routing = new RoutingService(repository, {
    maxSamplesPerRequest: options.maxSamplesPerRequest,
    engine: options.engine,
    onRejected: (reason, model) => metrics.rejections.inc({ reason, model }),
    front: (source, handle) =>
      new CachingService(handle, {
        maxBytes: cacheBytes,
        keyContext: { modelDigest: source.digest, encoderId: ENCODER_ID },
        observer: cacheObserverOf(metrics, source.name),
        onRejected: (reason) => metrics.rejections.inc({ reason, model: source.name }),
      }),
  });
  // Per-key quotas in front of the models' caches (they price requests: cache hits cost nothing).
  return { routing, requests: new QuotaService(routing, options.quota) };
}
