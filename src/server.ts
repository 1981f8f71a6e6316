/**
 * Starting and stopping the whole server: weights -> engine -> batcher -> service -> HTTP + gRPC,
 * warm-up before ready, and a graceful drain (not ready, finish accepted work, exit) on SIGTERM.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { ServerConfig } from './config/server-config.js';
import { loadModel } from './model/load-model.js';
import { format } from 'node:util';
import * as grpcJs from '@grpc/grpc-js';
import { createEngine, type EngineOptions } from './engine/create-engine.js';
import type { Engine } from './engine/engine.js';
import { SupervisedEngine } from './engine/supervised-engine.js';
import type { FoldedGenerator } from './model/folded-weights.js';
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
import { batchTracer, tracingFromEnv, type Tracing } from './tracing/tracing.js';
import { Server as TlsServer } from 'node:tls';
import { isLoopback, setUpAccess } from './access.js';
import { QuotaService } from './service/quota-service.js';
import { buildMetricsApp } from './transport/http/metrics-app.js';

/** A running server. */
export interface RunningServer {
  readonly httpPort: number;
  /** -1 when gRPC is off. */
  readonly grpcPort: number;
  readonly service: GenerationService;
  readonly metrics: Metrics;
  /** The supervised engine (its health drives readiness). */
  readonly engine: SupervisedEngine;
  readonly batcher: Batcher;
  readonly http: FastifyInstance;
  /** Port of the separate /metrics listener; -1 when /metrics is on the HTTP port. */
  readonly metricsPort: number;
  /** Re-reads the API key file and the TLS certificates (what SIGHUP does). */
  reload(): void;
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

/** Options of `startServer` beyond the config. */
export interface StartOptions {
  /** fastify logger setting; default JSON at `config.logLevel`. */
  readonly logger?: boolean | object;
  /**
   * Creates the engine (default `createEngine`). Also used to replace an engine whose worker died.
   * Tests wrap the real engine here to fail or stall it on command.
   */
  readonly createEngine?: (folded: FoldedGenerator, opts: EngineOptions) => Promise<Engine>;
  /** Tracing to use (default: from the OTEL_* environment; off unless an exporter is configured). */
  readonly tracing?: Tracing;
}

/**
 * Starts everything; resolves once both listeners are up and warm-up has run (ready). On any
 * failure (weights, engine, either listener, warm-up) it closes what it opened and rejects with
 * one BigGanError naming the cause, so the process can exit non-zero.
 */
export async function startServer(config: ServerConfig, opts: StartOptions = {}): Promise<RunningServer> {
  const opened: (() => Promise<unknown>)[] = [];
  try {
    return await start(config, opts, opened);
  } catch (err) {
    for (const close of opened.reverse()) await close().catch(() => undefined);
    if (err instanceof BigGanError) throw err;
    throw new BigGanError('INTERNAL', `start-up failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

async function start(config: ServerConfig, opts: StartOptions, opened: (() => Promise<unknown>)[]): Promise<RunningServer> {
  const metrics = createMetrics();
  const logger = opts.logger ?? { level: config.logLevel };
  // The HTTP app's logger is the service's logger, so every line is JSON on stdout.
  const info = (msg: string, extra: object = {}) => http.log.info(extra, msg);
  // The engine may warn (e.g. ort cannot load: tfjs serves) before the app and its logger exist.
  let logReady = false;
  const early: string[] = [];
  const warn = (msg: string): void => {
    if (logReady) http.log.warn(msg);
    else early.push(msg);
  };

  // Key file and certificates first: an invalid one fails the start before the model loads.
  // A reload may report before the logger exists (a file changed while the model loads): held until then.
  const access = setUpAccess(config, metrics, () => ({
    info: (msg, extra) => (logReady ? info(msg, extra) : early.push(msg)),
    warn: (msg, extra) => (logReady ? http.log.warn(extra ?? {}, msg) : warn(msg)),
  }));
  opened.push(() => access.close());

  const weightsDir = await resolveWeights(config, (m) => process.stderr.write(`biggan-serve: ${m}\n`));
  const rssBefore = process.memoryUsage().rss;
  const loaded = await loadModel(weightsDir);
  const makeEngine = opts.createEngine ?? createEngine;
  const engineOptions: EngineOptions = { engine: config.engine, ...(config.backend ? { backend: config.backend } : {}), threads: config.threads, warn };
  let first: Engine;
  try {
    first = await makeEngine(loaded.folded, engineOptions);
  } catch (err) {
    if (err instanceof BigGanError) throw err;
    throw new BigGanError('INTERNAL', `the engine could not be created: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  // A replacement reloads the weights (the first engine may have moved them into its worker) and
  // keeps the engine and backend the first one chose.
  const restartOptions: EngineOptions = { ...engineOptions, engine: first.name, backend: first.backend };
  const engine = new SupervisedEngine(
    first,
    async () => makeEngine((await loadModel(weightsDir)).folded, restartOptions),
    { failureThreshold: config.engineFailureThreshold, probeIntervalMs: config.engineProbeIntervalMs },
    {
      ...metrics.engineObserver,
      onRestart: () => {
        metrics.engineObserver.onRestart?.();
        warn('engine restarted after its worker stopped');
      },
      onHealthChange: (healthy) => {
        service.setEngineHealthy(healthy);
        if (healthy) info('engine healthy again: ready');
        else warn(`engine failed ${config.engineFailureThreshold} times in a row: not ready until a probe batch succeeds`);
      },
    },
  );
  opened.push(() => engine.dispose());
  const modelName = path.basename(path.resolve(weightsDir));
  // OTEL_* environment; off (the API's no-op tracer) unless an exporter is configured.
  const tracing = opts.tracing ?? (await tracingFromEnv());
  opened.push(() => tracing.shutdown());
  const traceBatch = batchTracer(tracing, { model: modelName, engine: engine.name, backend: engine.backend });
  const batcher = new Batcher(engine, { maxBatchSize: config.maxBatchSize, maxQueueDelayMs: config.maxQueueDelayMs, maxQueueSize: config.maxQueueSize, maxConcurrentBatches: config.maxConcurrentBatches, maxQueueWaitMs: config.maxQueueWaitMs }, { observer: metrics.batcherObserver, ...(traceBatch ? { traceBatch } : {}) });
  opened.push(async () => batcher.close());
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
  // Per-key quotas in front of the cache (it prices requests: cache hits cost nothing).
  const guarded = new QuotaService(front, access.quota);
  const http = buildHttpApp(guarded, metrics, {
    bodyLimitBytes: config.bodyLimitBytes, requestTimeoutMs: config.requestTimeoutMs, headersTimeoutMs: config.headersTimeoutMs, version: packageVersion(), logger, tracing,
    ...(access.keyFile ? { keys: access.keyFile.store } : {}),
    ...(config.metricsToken !== undefined ? { metricsToken: config.metricsToken } : {}),
    serveMetrics: config.metricsPort < 0,
    corsOrigins: config.corsOrigins,
    ...(access.tls ? { tls: access.tls.httpsOptions() } : {}),
  });
  if (access.tls && http.server instanceof TlsServer) access.tls.attachHttps(http.server);
  // grpc-js logs to stderr by itself; its lines go to the service's JSON log instead, so that a
  // failure prints one message.
  grpcJs.setLogger({ error: (...args: unknown[]) => http.log.warn({ source: 'grpc-js' }, format(...args)) });
  logReady = true;
  for (const msg of early.splice(0)) warn(msg);
  info('model loaded', {
    weights: loaded.weightFile,
    format: loaded.format,
    loadSeconds: +(loaded.loadMs / 1000).toFixed(3),
    rssMiB: Math.round((process.memoryUsage().rss - rssBefore) / 2 ** 20),
    engine: engine.name,
    backend: engine.backend,
    parameters: service.model.parameters,
    tracing: tracing.description,
    sha256: modelDigest,
    digestSeconds: +(digestMs / 1000).toFixed(3),
  });

  opened.push(() => http.close());
  try {
    await http.listen({ host: config.host, port: config.httpPort });
  } catch (err) {
    throw listenError('HTTP', config.host, config.httpPort, 'http-port', err);
  }
  const httpPort = (http.server.address() as { port: number }).port;
  let metricsPort = -1;
  let metricsApp: FastifyInstance | undefined;
  if (config.metricsPort >= 0) {
    metricsApp = buildMetricsApp(metrics, guarded, config.metricsToken);
    const app = metricsApp;
    opened.push(() => app.close());
    try {
      await app.listen({ host: config.host, port: config.metricsPort });
    } catch (err) {
      throw listenError('HTTP', config.host, config.metricsPort, 'metrics-port', err);
    }
    metricsPort = (app.server.address() as { port: number }).port;
  }
  let grpc: ReturnType<typeof createGrpcServer> | undefined;
  let grpcPort = -1;
  if (config.grpcPort >= 0) {
    const server = createGrpcServer(guarded, {
      maxConnectionAgeMs: config.grpcMaxConnectionAgeMs,
      maxConnectionAgeGraceMs: config.grpcMaxConnectionAgeGraceMs,
      metrics,
      onInternalError: (err: unknown) => http.log.error({ err }, 'grpc internal error'),
      observe: { tracing, logger: http.log, model: () => modelName },
      ...(access.tls ? { credentials: access.tls.grpcCredentials() } : {}),
      ...(access.keyFile ? { auth: { keys: access.keyFile.store, onFailure: (reason) => metrics.authFailures.inc({ reason }) } } : {}),
    });
    grpc = server;
    opened.push(() => server.shutdown(0));
    try {
      grpcPort = await server.start(config.host, config.grpcPort);
    } catch (err) {
      throw listenError('gRPC', config.host, config.grpcPort, 'grpc-port', err);
    }
  }
  info('listening', { httpPort, grpcPort, ...(metricsPort >= 0 ? { metricsPort } : {}), tls: access.tls !== undefined, mutualTls: config.tlsClientCa !== undefined, apiKeys: access.keyFile?.store.size ?? 0, quotas: config.quotaRedis ? 'redis' : 'process' });
  if (!access.keyFile && !isLoopback(config.host)) {
    http.log.warn(`no API key file (--api-keys): the API is open to anyone who can reach ${config.host}; see README "Access control"`);
  }
  const onHangUp = () => {
    info('SIGHUP: re-reading the API key file and TLS certificates');
    access.reload();
  };
  process.on('SIGHUP', onHangUp);
  opened.push(async () => process.off('SIGHUP', onHangUp));

  let warmMs: number;
  try {
    warmMs = await service.warmUp();
  } catch (err) {
    throw new BigGanError('INTERNAL', `the warm-up batch failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  // Admission by predicted wait needs an engine time before the first batch: the warm-up batch
  // (full size, and slower than later ones, so the start is conservative) until one is measured.
  batcher.primeEngineTime(config.maxBatchSize, warmMs);
  service.setReady();
  grpc?.setServing(true);
  info('ready', { warmUpSeconds: +(warmMs / 1000).toFixed(3), engine: engine.name, backend: engine.backend });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (config.drainDelayMs > 0) {
        // Unready but serving: endpoints controllers and load balancers need time to stop sending.
        service.leaveRotation();
        grpc?.setServing(false);
        info('not ready; serving until the drain starts', { drainDelayMs: config.drainDelayMs });
        await delay(config.drainDelayMs);
      }
      service.startDrain(); // readiness and gRPC health go false at once; new requests get 503
      grpc?.setServing(false);
      info('draining', { gracePeriodMs: config.gracePeriodMs });
      const idle = service.whenIdle().then(() => batcher.drain());
      const inTime = await Promise.race([idle.then(() => true), delay(config.gracePeriodMs).then(() => false)]);
      if (!inTime) info('grace period over; closing with requests still in flight');
      batcher.close();
      process.off('SIGHUP', onHangUp);
      await Promise.all([http.close(), metricsApp?.close(), grpc?.shutdown(inTime ? 1000 : 0)]);
      await access.close();
      await engine.dispose();
      await tracing.shutdown().catch((err: unknown) => http.log.warn({ err }, 'tracing shutdown failed'));
      info('stopped');
    })();
    return stopping;
  };
  return { httpPort, grpcPort, service, metrics, engine, batcher, http, metricsPort, reload: () => access.reload(), stop };
}

/** One clear message for a listener that could not start, naming the port and what to do. */
function listenError(what: 'HTTP' | 'gRPC', host: string, port: number, flag: string, err: unknown): BigGanError {
  const text = errorText(err);
  if (text.includes('EADDRINUSE')) {
    return new BigGanError('IO_ERROR', `${what} port ${port} is already in use (on ${host}); stop whatever holds it or choose another with --${flag}`, { cause: err });
  }
  if (text.includes('EACCES')) {
    return new BigGanError('IO_ERROR', `${what} port ${port}: permission denied (ports below 1024 need privileges); choose another with --${flag}`, { cause: err });
  }
  if (text.includes('EADDRNOTAVAIL') || text.includes('ENOTFOUND')) {
    return new BigGanError('IO_ERROR', `${what}: cannot listen on ${host}: no such local address; check --host`, { cause: err });
  }
  return new BigGanError('IO_ERROR', `${what}: cannot listen on ${host}:${port}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

/** An error's message, code and causes as one string (grpc-js puts the errno in the message). */
function errorText(err: unknown): string {
  const parts: string[] = [];
  for (let e = err, depth = 0; e !== undefined && depth < 5; depth++) {
    if (!(e instanceof Error)) {
      parts.push(String(e));
      break;
    }
    parts.push(e.message, 'code' in e ? String(e.code) : '');
    e = e.cause;
  }
  return parts.join(' ');
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
