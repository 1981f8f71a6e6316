/**
 * Starting and stopping the whole server: weights -> engine -> batcher -> service -> HTTP + gRPC,
 * warm-up before ready, and a graceful drain (not ready, finish accepted work, exit) on SIGTERM.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { ServerConfig } from './config/server-config.js';
import { loadModel } from './model/load-model.js';
import { createEngine } from './engine/create-engine.js';
import type { Engine } from './engine/engine.js';
import { Batcher } from './batching/batcher.js';
import { createMetrics, type Metrics } from './metrics/metrics.js';
import { GenerationService } from './service/generation-service.js';
import { buildHttpApp } from './transport/http/app.js';
import { createGrpcServer } from './transport/grpc/server.js';
import { defaultCacheDir, modelDir, isModelCached } from './download/cache.js';
import { downloadModel } from './download/download.js';
import { createProgressReporter } from './download/progress.js';
import { BigGanError } from './errors.js';
import { CachingService, cacheObserverOf } from './service/cache/caching-service.js';
import { filesDigest } from './weights/file-digest.js';
import { ENCODER_ID } from './image/encode.js';
import { packageVersion } from './package-root.js';

/** A running server. */
export interface RunningServer {
  readonly httpPort: number;
  /** -1 when gRPC is off. */
  readonly grpcPort: number;
  readonly service: GenerationService;
  readonly metrics: Metrics;
  readonly engine: Engine;
  readonly batcher: Batcher;
  readonly http: FastifyInstance;
  /** Graceful stop: not ready, finish accepted work (up to the grace period), close, free. */
  stop(): Promise<void>;
}

/** The model folder to serve: --weights, else the cache (downloading when allowed). */
export async function resolveWeights(config: ServerConfig, log: (msg: string) => void): Promise<string> {
  if (config.weights) {
    if (!existsSync(path.join(config.weights, 'config.json'))) {
      throw new BigGanError('INVALID_CONFIG', `--weights ${config.weights}: no config.json there; a model folder holds config.json and model.safetensors or pytorch_model.bin`);
    }
    return config.weights;
  }
  const cache = config.cache ?? defaultCacheDir();
  const dir = modelDir(cache, config.model);
  if (isModelCached(dir)) return dir;
  const howTo =
    `To get weights: 'biggan-serve download ${config.model}' (needs internet), or serve a folder you copied with '--weights DIR', ` +
    `or make a random-weight model for testing with 'biggan-serve init-random --out DIR' and pass '--weights DIR'.`;
  if (!config.download) throw new BigGanError('INVALID_CONFIG', `${config.model} is not in the cache (${dir}). ${howTo}`);
  log(`${config.model} is not cached; downloading into ${cache}`);
  try {
    const progress = createProgressReporter();
    await downloadModel(config.model, { cacheDir: cache, onProgress: progress });
    progress.end();
  } catch (err) {
    throw new BigGanError('IO_ERROR', `could not download ${config.model}: ${(err as Error).message}. ${howTo}`, { cause: err });
  }
  return dir;
}

/** Starts everything; resolves once both listeners are up and warm-up has run (ready). */
export async function startServer(config: ServerConfig, opts: { logger?: boolean | object } = {}): Promise<RunningServer> {
  const metrics = createMetrics();
  const logger = opts.logger ?? { level: config.logLevel };
  // The HTTP app's logger is the service's logger, so every line is JSON on stdout.
  const info = (msg: string, extra: object = {}) => http.log.info(extra, msg);

  const weightsDir = await resolveWeights(config, (m) => process.stderr.write(`biggan-serve: ${m}\n`));
  const rssBefore = process.memoryUsage().rss;
  const loaded = await loadModel(weightsDir);
  const engine = await createEngine(loaded.folded, { engine: config.engine, ...(config.backend ? { backend: config.backend } : {}), threads: config.threads });
  const batcher = new Batcher(engine, { maxBatchSize: config.maxBatchSize, maxQueueDelayMs: config.maxQueueDelayMs, maxQueueSize: config.maxQueueSize, maxConcurrentBatches: config.maxConcurrentBatches }, { observer: metrics.batcherObserver });
  const modelName = path.basename(path.resolve(weightsDir));
  const service = new GenerationService(engine, batcher, metrics, { modelName, maxSamplesPerRequest: config.maxSamplesPerRequest });
  const digestStart = performance.now();
  const modelDigest = await filesDigest([path.join(weightsDir, 'config.json'), loaded.weightFile]);
  const digestMs = performance.now() - digestStart;
  // Both transports see the cache in front of the service.
  const front = new CachingService(service, {
    maxBytes: config.cacheSizeBytes,
    keyContext: { modelDigest, encoderId: ENCODER_ID },
    observer: cacheObserverOf(metrics),
    onRejected: (reason) => metrics.rejections.inc({ reason }),
  });
  const http = buildHttpApp(front, metrics, { bodyLimitBytes: config.bodyLimitBytes, version: packageVersion(), logger });
  info('model loaded', {
    weights: loaded.weightFile,
    format: loaded.format,
    loadSeconds: +(loaded.loadMs / 1000).toFixed(3),
    rssMiB: Math.round((process.memoryUsage().rss - rssBefore) / 2 ** 20),
    engine: engine.name,
    backend: engine.backend,
    parameters: service.model.parameters,
    sha256: modelDigest,
    digestSeconds: +(digestMs / 1000).toFixed(3),
  });

  await http.listen({ host: config.host, port: config.httpPort });
  const httpPort = (http.server.address() as { port: number }).port;
  let grpc: ReturnType<typeof createGrpcServer> | undefined;
  let grpcPort = -1;
  if (config.grpcPort >= 0) {
    grpc = createGrpcServer(front, {
      maxConnectionAgeMs: config.grpcMaxConnectionAgeMs,
      maxConnectionAgeGraceMs: config.grpcMaxConnectionAgeGraceMs,
      metrics,
      onInternalError: (err: unknown) => http.log.error({ err }, 'grpc internal error'),
    });
    grpcPort = await grpc.start(config.host, config.grpcPort);
  }
  info('listening', { httpPort, grpcPort });

  const warmMs = await service.warmUp();
  service.setReady();
  grpc?.setServing(true);
  info('ready', { warmUpSeconds: +(warmMs / 1000).toFixed(3), engine: engine.name, backend: engine.backend });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      service.startDrain(); // readiness and gRPC health go false at once; new requests get 503
      grpc?.setServing(false);
      info('draining', { gracePeriodMs: config.gracePeriodMs });
      const idle = service.whenIdle().then(() => batcher.drain());
      const inTime = await Promise.race([idle.then(() => true), delay(config.gracePeriodMs).then(() => false)]);
      if (!inTime) info('grace period over; closing with requests still in flight');
      batcher.close();
      await Promise.all([http.close(), grpc?.shutdown(inTime ? 1000 : 0)]);
      await engine.dispose();
      info('stopped');
    })();
    return stopping;
  };
  return { httpPort, grpcPort, service, metrics, engine, batcher, http, stop };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
