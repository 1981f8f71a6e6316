/**
 * A full service stack on the tiny-128 fixture (tfjs wasm engine, real batcher, real service,
 * real fastify app), plus an engine wrapper that can be held to make the queue fill up.
 */
import path from 'node:path';
import { loadModel } from '../../src/model/load-model.js';
import { createTfjsEngine } from '../../src/engine/tfjs/tfjs-engine.js';
import type { Engine, EngineBatch, EngineOutput } from '../../src/engine/engine.js';
import type { Batcher } from '../../src/batching/batcher.js';
import { FairScheduler } from '../../src/batching/fair-scheduler.js';
import { createMetrics, type Metrics } from '../../src/metrics/metrics.js';
import type { GenerationService } from '../../src/service/generation-service.js';
import { buildHttpApp } from '../../src/transport/http/app.js';
import { readModelSource, type ModelSource, type ServingSettings } from '../../src/service/repository/model-source.js';
import type { ModelStack, ModelStackDeps } from '../../src/server/model-stack.js';
import { openRepository, preload } from '../../src/server/repository.js';
import { buildServiceChain } from '../../src/server/service-chain.js';
import type { ModelRepository } from '../../src/service/repository/model-repository.js';
import type { Catalog, RequestService } from '../../src/service/types.js';
import { LocalQuotaStore } from '../../src/auth/quota-store.js';
import { createLogger } from '../../src/server/logger.js';
import { NOOP_TRACING } from '../../src/tracing/tracing.js';
import type { FastifyInstance } from 'fastify';
import { FIXTURE_DIR } from './fixtures.js';

/** An engine wrapper that counts samples and can be paused (`hold`) and resumed (`release`). */
export class GatedEngine implements Engine {
  readonly name;
  readonly backend;
  readonly config;
  samplesRun = 0;
  batchSizes: number[] = [];
  private gate: Promise<void> = Promise.resolve();
  private open: () => void = () => undefined;

  constructor(private readonly inner: Engine) {
    this.name = inner.name;
    this.backend = inner.backend;
    this.config = inner.config;
  }

  /** Every later batch waits until `release()`. */
  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }

  release(): void {
    this.open();
  }

  async generate(batch: EngineBatch): Promise<EngineOutput> {
    await this.gate;
    this.samplesRun += batch.size;
    this.batchSizes.push(batch.size);
    return this.inner.generate(batch);
  }

  dispose(): Promise<void> {
    return this.inner.dispose();
  }
}

let shared: Promise<Engine> | undefined;
/** The fixture model on the wasm backend, loaded once per test process. */
export function fixtureEngine(): Promise<Engine> {
  shared ??= loadModel(FIXTURE_DIR).then((m) => createTfjsEngine(m.folded, { backend: 'wasm' }));
  return shared;
}

/** Everything a transport test needs. */
export interface Stack {
  engine: GatedEngine;
  batcher: Batcher;
  metrics: Metrics;
  /** The model's generation service (its drain, its readiness). */
  service: GenerationService;
  /** What the transports call for images: the server's chain (quotas, router, cache) over the repository. */
  requests: RequestService;
  /** Models, classes and readiness, as the transports see them. */
  catalog: Catalog;
  repository: ModelRepository;
  app: FastifyInstance;
}

/** The fixture model's source with the given batching settings. */
async function fixtureSource(settings: Partial<ServingSettings>): Promise<ModelSource> {
  const source = await readModelSource(path.basename(FIXTURE_DIR), FIXTURE_DIR, {
    maxBatchSize: 8,
    maxQueueDelayMs: 2,
    maxQueueSize: 64,
  });
  return { ...source, serving: { maxBatchSize: 8, maxQueueDelayMs: 2, maxQueueSize: 64, ...settings } };
}

/**
 * Builds a ready stack with the given batching settings: the server's model repository over the
 * fixture model (its model stack over a GatedEngine, warmed up) and the server's service chain.
 */
export async function createStack(
  settings: Partial<ServingSettings> = {},
  maxSamplesPerRequest = 16,
  cacheBytes = 0,
): Promise<Stack> {
  const metrics = createMetrics();
  const log = createLogger(false, 'info');
  const source = await fixtureSource(settings);
  const engine = new GatedEngine(await fixtureEngine());
  const stacks = new Map<string, ModelStack>();
  const stackDeps: ModelStackDeps = {
    engine: { engine: 'tfjs', backend: 'wasm' },
    createEngine: async () => engine,
    supervision: { failureThreshold: 5, probeIntervalMs: 5000 },
    batching: { maxConcurrentBatches: 1, maxQueueWaitMs: 3_600_000 },
    maxSamplesPerRequest,
    scheduler: new FairScheduler(1),
    metrics,
    tracing: NOOP_TRACING,
    log,
  };
  const repository = openRepository(
    { sources: [source], broken: [] },
    { engine: 'tfjs' },
    { stackDeps, metrics, log, tracingDescription: 'off' },
    stacks,
  );
  const chain = buildServiceChain(repository, metrics, {
    maxSamplesPerRequest,
    engine: 'tfjs',
    cache: { sizeBytes: cacheBytes },
    quota: { store: new LocalQuotaStore(), failure: 'closed' },
  });
  await preload(repository, 'all', log);
  const model = stacks.get(source.name)!;
  const app = buildHttpApp(chain.requests, chain.catalog, metrics, { bodyLimitBytes: 256 * 1024, version: 'test' });
  return {
    engine,
    batcher: model.batcher,
    metrics,
    service: model.service,
    requests: chain.requests,
    catalog: chain.catalog,
    repository,
    app,
  };
}
