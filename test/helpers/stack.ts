/**
 * A full service stack on the tiny-128 fixture (tfjs wasm engine, real batcher, real service,
 * real fastify app), plus an engine wrapper that can be held to make the queue fill up.
 */
import path from 'node:path';
import { loadModel } from '../../src/model/load-model.js';
import { createTfjsEngine } from '../../src/engine/tfjs/tfjs-engine.js';
import type { Engine, EngineBatch, EngineOutput } from '../../src/engine/engine.js';
import { Batcher, type BatcherSettings } from '../../src/batching/batcher.js';
import { createMetrics, type Metrics } from '../../src/metrics/metrics.js';
import { GenerationService } from '../../src/service/generation-service.js';
import { buildHttpApp } from '../../src/transport/http/app.js';
import { CachingService, cacheObserverOf } from '../../src/service/cache/caching-service.js';
import { filesDigest } from '../../src/weights/file-digest.js';
import { ENCODER_ID } from '../../src/image/encode.js';
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
  service: GenerationService;
  /** The service behind the transports: the response cache (off unless `cacheBytes` > 0) over `service`. */
  front: CachingService;
  app: FastifyInstance;
}

/** Builds a ready stack (warm-up run) with the given batching settings. */
export async function createStack(settings: Partial<BatcherSettings> = {}, maxSamplesPerRequest = 16, cacheBytes = 0): Promise<Stack> {
  const engine = new GatedEngine(await fixtureEngine());
  const metrics = createMetrics();
  const batcher = new Batcher(engine, { maxBatchSize: 8, maxQueueDelayMs: 2, maxQueueSize: 64, ...settings }, { observer: metrics.batcherObserver });
  const service = new GenerationService(engine, batcher, metrics, { modelName: path.basename(FIXTURE_DIR), maxSamplesPerRequest });
  const modelDigest = await filesDigest([path.join(FIXTURE_DIR, 'config.json'), path.join(FIXTURE_DIR, 'model.safetensors')]);
  const front = new CachingService(service, {
    maxBytes: cacheBytes,
    keyContext: { modelDigest, encoderId: ENCODER_ID },
    observer: cacheObserverOf(metrics),
    onRejected: (reason) => metrics.rejections.inc({ reason }),
  });
  const app = buildHttpApp(front, metrics, { bodyLimitBytes: 256 * 1024, version: 'test' });
  await service.warmUp();
  service.setReady();
  return { engine, batcher, metrics, service, front, app };
}
