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
import { collectGarbage } from './engine/collect-garbage.js';
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
import { FairScheduler } from './batching/fair-scheduler.js';
import { ModelRepository, type ModelLoader } from './service/repository/model-repository.js';
import { RoutingService } from './service/repository/routing-service.js';
import { readModelSource, repositoryFolders, type ModelSource } from './service/repository/model-source.js';
import { defaultMemoryBudget } from './service/repository/memory.js';
import type { PresetName } from './model/config.js';
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
  /** The default model's service (throws while that model is not loaded). */
  readonly service: GenerationService;
  readonly metrics: Metrics;
  /** The default model's supervised engine (its health drives readiness). */
  readonly engine: SupervisedEngine;
  /** The default model's batcher. */
  readonly batcher: Batcher;
  /** Every model served and its state. */
  readonly repository: ModelRepository;
  /** What both transports call: dispatches by the request's `model`. */
  readonly routing: RoutingService;
  readonly http: FastifyInstance;
  /** Port of the separate /metrics listener; -1 when /metrics is on the HTTP port. */
  readonly metricsPort: number;
  /** Re-reads the API key file and the TLS certificates (what SIGHUP does). */
  reload(): void;
  /** Graceful stop: not ready, finish accepted work (up to the grace period), close, free. */
  stop(): Promise<void>;
}

/** The model folder of one published model from the cache, downloading it when allowed. */
async function cachedModel(config: ServerConfig, name: PresetName, log: (msg: string) => void): Promise<string> {
  const cache = config.cache ?? defaultCacheDir();
  const dir = modelDir(cache, name);
  if (isModelCached(dir)) return dir;
  const howTo =
    `To get weights: 'biggan-serve download ${name}' (needs internet), or serve a folder you copied with '--weights DIR' or '--model-repository DIR', ` +
    `or make a random-weight model for testing with 'biggan-serve init-random --out DIR' and pass '--weights DIR'.`;
  if (!config.download) throw new BigGanError('INVALID_CONFIG', `${name} is not in the cache (${dir}). ${howTo}`);
  log(`${name} is not cached; downloading into ${cache}`);
  try {
    const progress = createProgressReporter();
    await downloadModel(name, { cacheDir: cache, onProgress: progress });
    progress.end();
  } catch (err) {
    throw new BigGanError('IO_ERROR', `could not download ${name}: ${(err as Error).message}. ${howTo}`, { cause: err });
  }
  return dir;
}

/** The model folder to serve when one model is served: --weights, else the cache (downloading when allowed). */
export async function resolveWeights(config: ServerConfig, log: (msg: string) => void): Promise<string> {
  if (config.weights) {
    if (!existsSync(path.join(config.weights, 'config.json'))) {
      throw new BigGanError('INVALID_CONFIG', `--weights ${config.weights}: no config.json there; a model folder holds config.json and model.safetensors or pytorch_model.bin`);
    }
    return config.weights;
  }
  return cachedModel(config, config.model, log);
}

/**
 * The models to serve, by name: --model-repository (every subfolder with a config.json),
 * --models (published models from the cache), or one model (--weights, else --model).
 */
export async function resolveModelFolders(config: ServerConfig, log: (msg: string) => void): Promise<{ name: string; dir: string }[]> {
  if (config.modelRepository) return repositoryFolders(config.modelRepository);
  if (config.models) {
    const out: { name: string; dir: string }[] = [];
    for (const name of config.models) out.push({ name, dir: await cachedModel(config, name, log) });
    return out;
  }
  const dir = await resolveWeights(config, log);
  return [{ name: path.basename(path.resolve(dir)), dir }];
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

/** One loaded model's parts, for RunningServer and the forced stop. */
interface ModelParts {
  readonly engine: SupervisedEngine;
  readonly batcher: Batcher;
  readonly service: GenerationService;
}

async function start(config: ServerConfig, opts: StartOptions, opened: (() => Promise<unknown>)[]): Promise<RunningServer> {
  const metrics = createMetrics();
  const logger = opts.logger ?? { level: config.logLevel };
  const stderrLog = (m: string): void => {
    process.stderr.write(`biggan-serve: ${m}\n`);
  };
  const folders = await resolveModelFolders(config, stderrLog);
  const base = { maxBatchSize: config.maxBatchSize, maxQueueDelayMs: config.maxQueueDelayMs, maxQueueSize: config.maxQueueSize };
  const sources: ModelSource[] = [];
  for (const f of folders) sources.push(await readModelSource(f.name, f.dir, base));
  const names = sources.map((m) => m.name).sort();
  const defaultModel = config.defaultModel ?? names[0];
  const budgetBytes = config.memoryBudgetBytes ?? defaultMemoryBudget();
  // OTEL_* environment; off (the API's no-op tracer) unless an exporter is configured.
  const tracing = opts.tracing ?? (await tracingFromEnv());
  opened.push(() => tracing.shutdown());
  const makeEngine = opts.createEngine ?? createEngine;
  // One engine call at a time over all models, round-robin among the models with work.
  const scheduler = new FairScheduler(1);
  const parts = new Map<string, ModelParts>();
  // Set once built: logs go to the app's JSON log from then on, and state changes reach the router.
  const late: { http?: FastifyInstance; routing?: RoutingService } = {};
  const info = (msg: string, extra: object = {}): void => {
    if (late.http) late.http.log.info(extra, msg);
    else stderrLog(msg);
  };
  const warn = (msg: string): void => {
    if (late.http) late.http.log.warn(msg);
    else stderrLog(msg);
  };

  // Key file and certificates first: an invalid one fails the start before any model loads.
  const access = setUpAccess(config, metrics, () => ({
    info: (msg, extra) => info(msg, extra),
    warn: (msg, extra) => (late.http ? late.http.log.warn(extra ?? {}, msg) : warn(msg)),
  }));
  opened.push(() => access.close());

  const load: ModelLoader = async (source) => {
    const name = source.name;
    const rssBefore = process.memoryUsage().rss;
    // The float32 weights in JS are only needed until the engine has its own copy: held only in a
    // variable this (long-suspended) function drops, then collected after the warm-up.
    let folded: FoldedGenerator | undefined;
    const loaded = await loadModel(source.dir).then(({ folded: weights, ...rest }) => {
      folded = weights;
      return rest;
    });
    const engineOptions: EngineOptions = { engine: config.engine, ...(config.backend ? { backend: config.backend } : {}), threads: config.threads, warn };
    let first: Engine;
    try {
      first = await makeEngine(folded!, engineOptions);
    } catch (err) {
      if (err instanceof BigGanError) throw err;
      throw new BigGanError('INTERNAL', `the engine could not be created: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    } finally {
      folded = undefined;
    }
    // A replacement reloads the weights (the first engine may have moved them into its worker) and
    // keeps the engine and backend the first one chose.
    const restartOptions: EngineOptions = { ...engineOptions, engine: first.name, backend: first.backend };
    const observer = metrics.engineObserverFor(name);
    const supervised = new SupervisedEngine(
      first,
      async () => makeEngine((await loadModel(source.dir)).folded, restartOptions),
      { failureThreshold: config.engineFailureThreshold, probeIntervalMs: config.engineProbeIntervalMs },
      {
        ...observer,
        onRestart: () => {
          observer.onRestart?.();
          warn(`engine of ${name} restarted after its worker stopped`);
        },
        onHealthChange: (healthy) => {
          service.setEngineHealthy(healthy);
          if (healthy) info(`engine of ${name} healthy again: ready`);
          else warn(`engine of ${name} failed ${config.engineFailureThreshold} times in a row: not ready until a probe batch succeeds`);
        },
      },
    );
    const engine = scheduler.wrap(name, supervised);
    const traceBatch = batchTracer(tracing, { model: name, engine: supervised.name, backend: supervised.backend });
    const batcher = new Batcher(engine, { ...source.serving, maxConcurrentBatches: config.maxConcurrentBatches, maxQueueWaitMs: config.maxQueueWaitMs }, { observer: metrics.batcherObserverFor(name), ...(traceBatch ? { traceBatch } : {}) });
    const service = new GenerationService(engine, batcher, metrics, { modelName: name, maxSamplesPerRequest: config.maxSamplesPerRequest, reportModelInfo: false });
    const dispose = async () => {
      parts.delete(name);
      batcher.close();
      await supervised.dispose();
    };
    service.onReadinessChange(() => routing.readinessMaybeChanged(name));
    let warmMs: number;
    try {
      warmMs = await service.warmUp();
    } catch (err) {
      await dispose();
      throw new BigGanError('INTERNAL', `the warm-up batch of ${name} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    // Admission by predicted wait needs an engine time before the first batch: the warm-up batch
    // (full size, and slower than later ones, so the start is conservative) until one is measured.
    batcher.primeEngineTime(source.serving.maxBatchSize, warmMs);
    // Loading's dead buffers (file bytes, folded weights) would otherwise stay resident: an idle
    // server allocates too little for V8 to run a major GC on its own (issue 20).
    collectGarbage();
    service.setReady();
    parts.set(name, { engine: supervised, batcher, service });
    info('model loaded', {
      model: name,
      weights: loaded.weightFile,
      format: loaded.format,
      loadSeconds: +(loaded.loadMs / 1000).toFixed(3),
      warmUpSeconds: +(warmMs / 1000).toFixed(3),
      rssMiB: Math.round((process.memoryUsage().rss - rssBefore) / 2 ** 20),
      estimateMiB: Math.round(source.memory.totalBytes / 2 ** 20),
      engine: supervised.name,
      backend: supervised.backend,
      parameters: service.model.parameters,
      maxBatchSize: source.serving.maxBatchSize,
      tracing: tracing.description,
      sha256: source.digest,
    });
    return { service, engine: supervised.name, backend: supervised.backend, dispose };
  };

  // biggan_model_info: one series per model, its labels following the state.
  const infoLabels = new Map<string, Record<string, string>>();
  const repository = new ModelRepository(sources, {
    budgetBytes,
    defaultModel,
    load,
    onState: (source, state, detail) => {
      const prev = infoLabels.get(source.name);
      if (prev) metrics.modelInfo.remove(prev);
      const labels = { model: source.name, engine: detail.engine ?? config.engine, backend: detail.backend ?? '', resolution: String(source.config.outputDim), state };
      infoLabels.set(source.name, labels);
      metrics.modelInfo.set(labels, 1);
      if (state !== 'ready') metrics.ready.set({ model: source.name }, 0);
      late.routing?.readinessMaybeChanged(source.name);
      if (state === 'failed') warn(`model ${source.name} failed to load: ${detail.reason}`);
      else if (state === 'unloaded' && detail.loadMs !== undefined) info('model unloaded', { model: source.name });
    },
  });
  // The response cache: --cache-size shared equally by the models (each keyed by its weights digest).
  const cacheBytes = Math.floor(config.cacheSizeBytes / sources.length);
  const routing: RoutingService = new RoutingService(repository, {
    maxSamplesPerRequest: config.maxSamplesPerRequest,
    engine: config.engine,
    onRejected: (reason, model) => metrics.rejections.inc({ reason, model }),
    front: (source, handle) => new CachingService(handle, {
      maxBytes: cacheBytes,
      keyContext: { modelDigest: source.digest, encoderId: ENCODER_ID },
      observer: cacheObserverOf(metrics, source.name),
      onRejected: (reason) => metrics.rejections.inc({ reason, model: source.name }),
    }),
  });
  late.routing = routing;
  // Per-key quotas in front of the models' caches (they price requests: cache hits cost nothing).
  const guarded = new QuotaService(routing, access.quota);
  const app = buildHttpApp(guarded, metrics, {
    bodyLimitBytes: config.bodyLimitBytes, requestTimeoutMs: config.requestTimeoutMs, headersTimeoutMs: config.headersTimeoutMs, version: packageVersion(), logger, tracing,
    ...(access.keyFile ? { keys: access.keyFile.store } : {}),
    ...(config.metricsToken !== undefined ? { metricsToken: config.metricsToken } : {}),
    serveMetrics: config.metricsPort < 0,
    corsOrigins: config.corsOrigins,
    ...(access.tls ? { tls: access.tls.httpsOptions() } : {}),
  });
  if (access.tls && app.server instanceof TlsServer) access.tls.attachHttps(app.server);
  late.http = app;
  // grpc-js logs to stderr by itself; its lines go to the service's JSON log instead, so that a
  // failure prints one message.
  grpcJs.setLogger({ error: (...args: unknown[]) => app.log.warn({ source: 'grpc-js' }, format(...args)) });
  info('models', {
    models: sources.map((m) => ({ name: m.name, resolution: m.config.outputDim, maxBatchSize: m.serving.maxBatchSize, estimateMiB: Math.round(m.memory.totalBytes / 2 ** 20) })),
    default: defaultModel,
    memoryBudgetMiB: Math.round(budgetBytes / 2 ** 20),
  });

  opened.push(() => app.close());
  try {
    await app.listen({ host: config.host, port: config.httpPort });
  } catch (err) {
    throw listenError('HTTP', config.host, config.httpPort, 'http-port', err);
  }
  const httpPort = (app.server.address() as { port: number }).port;
  let metricsPort = -1;
  let metricsApp: FastifyInstance | undefined;
  if (config.metricsPort >= 0) {
    metricsApp = buildMetricsApp(metrics, guarded, config.metricsToken);
    const mApp = metricsApp;
    opened.push(() => mApp.close());
    try {
      await mApp.listen({ host: config.host, port: config.metricsPort });
    } catch (err) {
      throw listenError('HTTP', config.host, config.metricsPort, 'metrics-port', err);
    }
    metricsPort = (mApp.server.address() as { port: number }).port;
  }
  let grpc: ReturnType<typeof createGrpcServer> | undefined;
  let grpcPort = -1;
  if (config.grpcPort >= 0) {
    const server = createGrpcServer(guarded, {
      maxConnectionAgeMs: config.grpcMaxConnectionAgeMs,
      maxConnectionAgeGraceMs: config.grpcMaxConnectionAgeGraceMs,
      metrics,
      onInternalError: (err: unknown) => app.log.error({ err }, 'grpc internal error'),
      observe: { tracing, logger: app.log, model: () => routing.model.name },
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
    app.log.warn(`no API key file (--api-keys): the API is open to anyone who can reach ${config.host}; see README "Access control"`);
  }
  const onHangUp = () => {
    info('SIGHUP: re-reading the API key file and TLS certificates');
    access.reload();
  };
  process.on('SIGHUP', onHangUp);
  opened.push(async () => process.off('SIGHUP', onHangUp));

  // Preload: the default model first (start-up fails when it cannot load), then the others that fit.
  opened.push(() => repository.close());
  const order = [defaultModel, ...names.filter((n) => n !== defaultModel)];
  const fitsAll = repository.fitting(order).length === order.length;
  const preload = config.preload ?? (fitsAll ? 'all' : 'default');
  const toLoad = preload === 'none' ? [] : preload === 'default' ? [defaultModel] : repository.fitting(order);
  const failures = await repository.preload(toLoad);
  const defaultFailure = failures.find((f) => f.name === defaultModel);
  if (defaultFailure) throw defaultFailure.error;
  grpc?.setServing(true);
  info('ready', { models: toLoad, preload, default: defaultModel });

  const part = (): ModelParts => {
    const p = parts.get(defaultModel);
    if (!p) throw new BigGanError('UNAVAILABLE', `the default model ${defaultModel} is not loaded`);
    return p;
  };
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (config.drainDelayMs > 0) {
        // Unready but serving: endpoints controllers and load balancers need time to stop sending.
        for (const p of parts.values()) p.service.leaveRotation();
        grpc?.setServing(false);
        info('not ready; serving until the drain starts', { drainDelayMs: config.drainDelayMs });
        await delay(config.drainDelayMs);
      }
      routing.startDrain(); // readiness and gRPC health go false at once; new requests get 503
      for (const p of parts.values()) p.service.startDrain();
      grpc?.setServing(false);
      info('draining', { gracePeriodMs: config.gracePeriodMs });
      const idle = Promise.all([...parts.values()].map((p) => p.service.whenIdle().then(() => p.batcher.drain()))).then(() => true);
      const inTime = await Promise.race([idle, delay(config.gracePeriodMs).then(() => false)]);
      if (!inTime) info('grace period over; closing with requests still in flight');
      for (const p of parts.values()) p.batcher.close();
      process.off('SIGHUP', onHangUp);
      await Promise.all([app.close(), metricsApp?.close(), grpc?.shutdown(inTime ? 1000 : 0)]);
      await access.close();
      await repository.close();
      await tracing.shutdown().catch((err: unknown) => app.log.warn({ err }, 'tracing shutdown failed'));
      info('stopped');
    })();
    return stopping;
  };
  return {
    httpPort, grpcPort, metricsPort, metrics, http: app, repository, routing, stop,
    reload: () => access.reload(),
    get service() {
      return part().service;
    },
    get engine() {
      return part().engine;
    },
    get batcher() {
      return part().batcher;
    },
  };
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
