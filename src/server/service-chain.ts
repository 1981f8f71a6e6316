/**
 * The two objects the transports talk to, over the model repository: the Catalog (models,
 * classes, readiness) and the RequestService chain: quotas -> router -> each model's cache ->
 * its handle -> its generation service (see src/service/types.ts).
 */
import type { Metrics } from '../metrics/metrics.js';
import { ENCODER_ID } from '../image/encode.js';
import { CachingService, cacheObserverOf } from '../service/cache/caching-service.js';
import type { ModelRepository } from '../service/repository/model-repository.js';
import { ModelCatalog } from '../service/repository/model-catalog.js';
import { RoutingService } from '../service/repository/routing-service.js';
import { QuotaService, type QuotaOptions } from '../service/quota-service.js';
import type { EngineChoice } from '../engine/choices.js';
import type { CacheSettings } from '../config/server-config.js';

/** Settings of the chain. */
export interface ServiceChainOptions {
  readonly maxSamplesPerRequest: number;
  /** Engine reported for a model before it is loaded. */
  readonly engine: EngineChoice;
  /** The cache group: bytes of encoded images all models' caches hold together (shared equally); 0: off. */
  readonly cache: CacheSettings;
  readonly quota: QuotaOptions;
}

/** What the transports get. */
export interface ServiceChain {
  readonly catalog: ModelCatalog;
  readonly requests: QuotaService;
}

/** Builds the catalog and quotas -> router -> caches over `repository`. */
export function buildServiceChain(
  repository: ModelRepository,
  metrics: Metrics,
  options: ServiceChainOptions,
): ServiceChain {
  const catalog = new ModelCatalog(repository, {
    maxSamplesPerRequest: options.maxSamplesPerRequest,
    engine: options.engine,
  });
  // The response cache: the size shared equally by the models (each keyed by its weights digest).
  const cacheBytes = Math.floor(options.cache.sizeBytes / repository.names().length);
  const routing = new RoutingService(
    catalog,
    (handle) =>
      new CachingService(handle, {
        maxBytes: cacheBytes,
        keyContext: { modelDigest: handle.source.digest, encoderId: ENCODER_ID },
        observer: cacheObserverOf(metrics, handle.source.name),
      }),
  );
  // Per-key quotas in front of the models' caches (they price requests: cache hits cost nothing).
  return { catalog, requests: new QuotaService(routing, options.quota) };
}
