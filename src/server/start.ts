/**
 * Starting and stopping the whole server. `start` reads like the architecture: logger, metrics,
 * tracing and access first; the model repository (each model's stack built on load); the
 * service chain; the three listeners; SIGHUP; preload. Every part registers its closer with one
 * Lifecycle, which closes in reverse order on a failed start and at the end of a drain.
 */
import * as grpcJs from '@grpc/grpc-js';
import { Server as TlsServer } from 'node:tls';
import { format } from 'node:util';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { ServerConfig } from '../config/server-config.js';
import { createMetrics, type Metrics } from '../metrics/metrics.js';
import type { SupervisedEngine } from '../engine/supervised-engine.js';
import type { Batcher } from '../batching/batcher.js';
import { FairScheduler } from '../batching/fair-scheduler.js';
import { EngineLiveness } from '../engine/liveness.js';
import { expectedDevice } from '../engine/device.js';
import type { GenerationService } from '../service/generation-service.js';
import type { ModelRepository } from '../service/repository/model-repository.js';
import type { ModelCatalog } from '../service/repository/model-catalog.js';
import type { RequestService } from '../service/types.js';
import { buildHttpApp } from '../transport/http/app.js';
import { buildMetricsApp } from '../transport/http/metrics-app.js';
import { createGrpcServer, type GrpcServer } from '../transport/grpc/server.js';
import { tracingFromEnv, type Tracing } from '../tracing/tracing.js';
import { packageVersion } from '../package-root.js';
import { BigGanError } from '../errors.js';
import { isLoopback, setUpAccess, type Access } from '../access.js';
import { Lifecycle } from './lifecycle.js';
import { createLogger, type LoggerSetting } from './logger.js';
import { defaultEngineFactory, type EngineFactory, type ModelStack } from './model-stack.js';
import { openRepository, preload, readSources } from './repository.js';
import { buildServiceChain, type ServiceChain } from './service-chain.js';
import { listenGrpc, listenHttp, type Listener } from './listeners.js';
import { drain, onHangUp } from './operations.js';

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
  /** The models, classes and readiness, as every transport sees them. */
  readonly catalog: ModelCatalog;
  /** What every transport calls for images (quotas -> router -> caches). */
  readonly requests: RequestService;
  readonly http: FastifyInstance;
  /** Port of the separate /metrics listener; -1 when /metrics is on the HTTP port. */
  readonly metricsPort: number;
  /** Re-reads the API key file and the TLS certificates (what SIGHUP does). */
  reload(): void;
  /** Graceful stop: not ready, finish accepted work (up to the grace period), close, free. */
  stop(): Promise<void>;
}

/** Options of `startServer` beyond the config. */
export interface StartOptions {
  /** The log: false (silent), true, or pino options with an optional `stream`; default JSON at `config.log.level`. */
  readonly logger?: LoggerSetting;
  /**
   * Creates the engine (default `createEngine`). Also used to replace an engine whose worker died.
   * Tests wrap the real engine here to fail or stall it on command.
   */
  readonly createEngine?: EngineFactory;
  /** Tracing to use (default: from the OTEL_* environment; off unless an exporter is configured). */
  readonly tracing?: Tracing;
}

/**
 * Starts everything; resolves once the listeners are up and the preload has run (ready). On any
 * failure (weights, engine, a listener, warm-up) it closes what it opened and rejects with one
 * BigGanError naming the cause, so the process can exit non-zero.
 */
export async function startServer(config: ServerConfig, opts: StartOptions = {}): Promise<RunningServer> {
  const log = createLogger(opts.logger ?? true, config.log.level);
  const lifecycle = new Lifecycle((name, err) => log.warn({ err }, `closing ${name} failed`));
  try {
    return await start(config, opts, log, lifecycle);
  } catch (err) {
    await lifecycle.close();
    if (err instanceof BigGanError) throw err;
    throw new BigGanError('INTERNAL', `start-up failed: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
}

/** What the parts of a running server are, for the drain and RunningServer. */
interface Parts {
  readonly config: ServerConfig;
  readonly log: Logger;
  readonly lifecycle: Lifecycle;
  readonly metrics: Metrics;
  readonly access: Access;
  readonly repository: ModelRepository;
  readonly stacks: Map<string, ModelStack>;
  /** When the models must be closed by (performance.now() ms): set by the drain, so a running load is not waited for past it. */
  readonly closeModelsBy: { atMs?: number };
  readonly chain: ServiceChain;
  readonly app: FastifyInstance;
  readonly http: Listener;
  readonly metricsListener: Listener | undefined;
  readonly grpc: { readonly server: GrpcServer; readonly listener: Listener } | undefined;
  /** GPU engines unhealthy past --engine-liveness-timeout-ms fail /healthz (and OIP's live probe). */
  readonly liveness: EngineLiveness;
}

async function start(
  config: ServerConfig,
  opts: StartOptions,
  log: Logger,
  lifecycle: Lifecycle,
): Promise<RunningServer> {
  const metrics = createMetrics();
  // The device is decided before loading: on a GPU the batch defaults and memory estimates differ.
  const device = expectedDevice(config.engine.engine, config.engine.backend);
  const read = await readSources(config.repository, config.batching, log, device);
  // OTEL_* environment; off (the API's no-op tracer) unless an exporter is configured.
  const tracing = opts.tracing ?? (await tracingFromEnv());
  lifecycle.defer('tracing', () => tracing.shutdown());
  // Key file and certificates first: an invalid one fails the start before any model loads.
  const access = setUpAccess(config.access, metrics, () => ({
    info: (msg, extra) => log.info(extra ?? {}, msg),
    warn: (msg, extra) => log.warn(extra ?? {}, msg),
  }));
  lifecycle.defer('access', () => access.close());

  const stacks = new Map<string, ModelStack>();
  const stackDeps = {
    // The engine group is both the engine's options (engine, backend, threads) and its supervision's.
    engine: config.engine,
    createEngine: opts.createEngine ?? defaultEngineFactory,
    supervision: config.engine,
    batching: config.batching,
    maxSamplesPerRequest: config.batching.maxSamplesPerRequest,
    scheduler: new FairScheduler(1),
    metrics,
    tracing,
    log,
    device,
    // A GPU engine unhealthy past the limit fails /healthz: only a new process gets a new CUDA context.
    liveness: new EngineLiveness({ unhealthyLimitMs: config.engine.livenessTimeoutMs }),
  };
  const repository = openRepository(
    read,
    { ...config.repository, engine: config.engine.engine },
    { stackDeps, metrics, log, tracingDescription: tracing.description, device },
    stacks,
  );
  // Without a deadline (a failed start) every load is waited for; a drain sets one (its grace period's end).
  const closeModelsBy: { atMs?: number } = {};
  lifecycle.defer('models', () =>
    repository.close(
      closeModelsBy.atMs === undefined ? undefined : Math.max(0, closeModelsBy.atMs - performance.now()),
    ),
  );
  const chain = buildServiceChain(repository, metrics, {
    maxSamplesPerRequest: config.batching.maxSamplesPerRequest,
    engine: config.engine.engine,
    cache: config.cache,
    quota: access.quota,
  });

  const parts = await openListeners(
    { config, log, lifecycle, metrics, access, repository, stacks, closeModelsBy, chain, liveness: stackDeps.liveness },
    tracing,
  );
  lifecycle.defer('SIGHUP', onHangUp(access, log));
  await preload(repository, config.repository.preload, log);
  parts.grpc?.server.setServing(true);
  return runningServer(parts);
}

/** The HTTP API, the /metrics port and gRPC, each listening, with their closers registered. */
async function openListeners(
  p: Omit<Parts, 'app' | 'http' | 'metricsListener' | 'grpc'>,
  tracing: Tracing,
): Promise<Parts> {
  const { config, access, metrics, chain, log, lifecycle } = p;
  const liveness = (): string | undefined => p.liveness.failure();
  const app = buildHttpApp(chain.requests, chain.catalog, metrics, {
    // The HTTP group whole: body and time limits, send limits, CORS, proxy trust, public base URL.
    ...config.http,
    version: packageVersion(),
    logger: log,
    tracing,
    keys: access.keyFile?.store,
    metricsToken: config.metrics.token,
    serveMetrics: config.metrics.port < 0,
    tls: access.tls?.httpsOptions(),
    liveness,
  });
  if (access.tls && app.server instanceof TlsServer) access.tls.attachHttps(app.server);
  // grpc-js logs to stderr by itself; its lines go to the service's JSON log instead, so that a
  // failure prints one message.
  grpcJs.setLogger({ error: (...args: unknown[]) => log.warn({ source: 'grpc-js' }, format(...args)) });
  const http = await listenHttp(app, config.http.host, config.http.port, 'http-port');
  lifecycle.defer('http', http.close);
  let metricsListener: Listener | undefined;
  if (config.metrics.port >= 0) {
    metricsListener = await listenHttp(
      buildMetricsApp(metrics, chain.catalog, config.metrics.token, liveness),
      config.http.host,
      config.metrics.port,
      'metrics-port',
    );
    lifecycle.defer('metrics', metricsListener.close);
  }
  let grpc: Parts['grpc'];
  if (config.grpc.port >= 0) {
    const server = createGrpcServer(chain.requests, chain.catalog, {
      // The gRPC group whole: connection age and message limits.
      ...config.grpc,
      metrics,
      onInternalError: (err: unknown) => log.error({ err }, 'grpc internal error'),
      liveness,
      observe: { tracing, logger: log, model: () => chain.catalog.modelInfo().name },
      credentials: access.tls?.grpcCredentials(),
      auth: access.keyFile && {
        keys: access.keyFile.store,
        onFailure: (reason) => metrics.authFailures.inc({ reason }),
      },
    });
    grpc = { server, listener: await listenGrpc(server, config.http.host, config.grpc.port) };
    lifecycle.defer('grpc', grpc.listener.close);
  }
  const ports = {
    httpPort: http.port,
    grpcPort: grpc?.listener.port ?? -1,
    metricsPort: metricsListener?.port, // undefined (left out of the log line) when /metrics is on the HTTP port
  };
  log.info(
    {
      ...ports,
      tls: access.tls !== undefined,
      mutualTls: config.access.tlsClientCa !== undefined,
      apiKeys: access.keyFile?.store.size ?? 0,
      quotas: config.access.quotaRedis ? 'redis' : 'process',
    },
    'listening',
  );
  if (!access.keyFile && !isLoopback(config.http.host)) {
    log.warn(
      `no API key file (--api-keys): the API is open to anyone who can reach ${config.http.host}; see README "Access control"`,
    );
  }
  return { ...p, app, http, metricsListener, grpc };
}

/** The RunningServer view of the parts; the default model's pieces are looked up on each access. */
function runningServer(parts: Parts): RunningServer {
  const { repository, stacks } = parts;
  const stack = (): ModelStack => {
    const s = stacks.get(repository.defaultModel);
    if (!s) throw new BigGanError('UNAVAILABLE', `the default model ${repository.defaultModel} is not loaded`);
    return s;
  };
  let stopping: Promise<void> | undefined;
  return {
    httpPort: parts.http.port,
    grpcPort: parts.grpc?.listener.port ?? -1,
    metricsPort: parts.metricsListener?.port ?? -1,
    metrics: parts.metrics,
    http: parts.app,
    repository,
    catalog: parts.chain.catalog,
    requests: parts.chain.requests,
    stop: () => (stopping ??= drain(parts)),
    reload: () => parts.access.reload(),
    get service() {
      return stack().service;
    },
    get engine() {
      return stack().engine;
    },
    get batcher() {
      return stack().batcher;
    },
  };
}

export type { Parts as ServerParts };
