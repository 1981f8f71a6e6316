/**
 * The server's configuration: every setting with its flag, environment variable, default and
 * description side by side. Read from flags and environment here only, validated at start-up and
 * frozen.
 */
import os from 'node:os';
import { defineOptions, parseOptions, formatHelp, UsageError } from './options.js';
import { ENGINE_CHOICES, type EngineChoice } from '../engine/choices.js';
import { PRESET_NAMES, type PresetName } from '../model/config.js';

/** The validated, frozen server settings. */
export interface ServerConfig {
  readonly weights?: string;
  /** A folder whose subfolders holding config.json are the models served (named after the folder). */
  readonly modelRepository?: string;
  /** Published models to serve from the cache (with --download: fetched when missing). */
  readonly models?: readonly PresetName[];
  /** Model of requests that name none (default: the first name in sorted order). */
  readonly defaultModel?: string;
  /** Most bytes the loaded models may take together, by estimate (default: 80% of the cgroup limit, else of the machine's memory). */
  readonly memoryBudgetBytes?: number;
  /** Models loaded at start: all, default, none; default `all` when every model fits the budget, else `default`. */
  readonly preload?: 'all' | 'default' | 'none';
  readonly model: PresetName;
  readonly cache?: string;
  readonly download: boolean;
  readonly host: string;
  readonly httpPort: number;
  /** -1 disables gRPC; 0 picks a free port. */
  readonly grpcPort: number;
  readonly engine: EngineChoice;
  readonly backend?: string;
  readonly threads: number;
  readonly maxBatchSize: number;
  readonly maxQueueDelayMs: number;
  readonly maxQueueSize: number;
  readonly maxConcurrentBatches: number;
  /** Most predicted queue wait (ms) a new request may face; longer ones get 503 / UNAVAILABLE at once. */
  readonly maxQueueWaitMs?: number;
  readonly maxSamplesPerRequest: number;
  readonly bodyLimitBytes: number;
  /** Time for an HTTP client to send its whole request (headers and body), ms; past it 408. */
  readonly requestTimeoutMs: number;
  /** Time for an HTTP client to send its request line and headers, ms; past it 408. */
  readonly headersTimeoutMs: number;
  /** Close an HTTP answer whose client took nothing for this long, ms; 0 turns it off. */
  readonly sendTimeoutMs: number;
  /** Most bytes held by HTTP answers being written, all connections together; larger new ones get 503. */
  readonly sendBudgetBytes: number;
  /** Bytes of encoded images the response cache may hold; 0 turns it off. */
  readonly cacheSizeBytes: number;
  readonly gracePeriodMs: number;
  /** On SIGTERM: ms to stay unready but serving before the drain starts (load balancers catch up). */
  readonly drainDelayMs: number;
  readonly grpcMaxConnectionAgeMs: number;
  readonly grpcMaxConnectionAgeGraceMs: number;
  /** Largest gRPC request / response message, bytes (both services on the gRPC port). */
  readonly grpcMaxReceiveMessageBytes: number;
  readonly grpcMaxSendMessageBytes: number;
  /** Consecutive engine failures after which the server goes unready until a probe succeeds. */
  readonly engineFailureThreshold: number;
  /** While unready for engine failures: ms between probe batches. */
  readonly engineProbeIntervalMs: number;
  /** Ms a GPU engine may stay unhealthy before /healthz fails (the process is restarted); 0: never. */
  readonly engineLivenessTimeoutMs: number;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** API key file (JSON; keys as SHA-256); absent: the API is open. */
  readonly apiKeysFile?: string;
  /** Bearer token /metrics requires; absent: open. */
  readonly metricsToken?: string;
  /** Serve /metrics on this port instead of the HTTP port (-1: on the HTTP port; 0: any free port). */
  readonly metricsPort: number;
  /** Redis address of shared quota buckets; absent: buckets in this process. */
  readonly quotaRedis?: string;
  /** When Redis does not answer: refuse keyed requests with a quota (`closed`) or let them through (`open`). */
  readonly quotaRedisFailure: 'closed' | 'open';
  /** PEM certificate chain and private key: HTTPS and gRPC over TLS. */
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  /** PEM CA bundle: clients must present a certificate it signed (mutual TLS). */
  readonly tlsClientCa?: string;
  /** Origins allowed to call the API from browsers (CORS). */
  readonly corsOrigins: readonly string[];
  /** Read the client's scheme and host from X-Forwarded-Proto/-Host (set only behind a proxy that sets them). */
  readonly trustProxy: boolean;
  /** Base of the OpenAI API's `url` answers, e.g. https://images.example.com/biggan; absent: the request's origin. */
  readonly publicBaseUrl?: string;
}

/** The `serve` flags, each with its env var and default. */
export const SERVER_OPTIONS = defineOptions([
  {
    name: 'weights',
    type: 'string',
    placeholder: 'DIR',
    env: 'BIGGAN_WEIGHTS',
    description:
      'Model folder (config.json + model.safetensors or pytorch_model.bin). Without it, --model is taken from the cache.',
  },
  {
    name: 'model-repository',
    type: 'string',
    placeholder: 'DIR',
    env: 'BIGGAN_MODEL_REPOSITORY',
    description:
      'Serve every subfolder of DIR holding a config.json as a model named after its folder (DIR/biggan-deep-256 -> biggan-deep-256); requests pick one with `model`.',
  },
  {
    name: 'models',
    type: 'string',
    placeholder: 'NAME,NAME',
    env: 'BIGGAN_MODELS',
    description: `Serve several published models from the cache (${PRESET_NAMES.join(', ')}), comma-separated; with --download the missing ones are fetched.`,
  },
  {
    name: 'default-model',
    type: 'string',
    placeholder: 'NAME',
    env: 'BIGGAN_DEFAULT_MODEL',
    description: 'Model answering requests that name none (default: the first name in sorted order).',
  },
  {
    name: 'memory-budget',
    type: 'integer',
    placeholder: 'BYTES',
    env: 'BIGGAN_MEMORY_BUDGET',
    min: 1,
    description:
      'Most memory the loaded models may take together, by estimate; past it the least recently used idle model is unloaded (default: 80% of the container memory limit, else of the machine memory).',
  },
  {
    name: 'preload',
    type: 'string',
    choices: ['all', 'default', 'none'],
    env: 'BIGGAN_PRELOAD',
    description:
      'Models loaded at start (default: all when they fit the memory budget, else the default model); the others load on their first request.',
  },
  {
    name: 'model',
    type: 'string',
    choices: PRESET_NAMES,
    env: 'BIGGAN_MODEL',
    default: 'biggan-deep-128',
    description: 'Published model to serve from the cache when --weights is not given.',
  },
  {
    name: 'cache',
    type: 'string',
    placeholder: 'DIR',
    env: 'BIGGAN_CACHE',
    description: 'Download cache (default $XDG_CACHE_HOME/biggan-serve or ~/.cache/biggan-serve).',
  },
  {
    name: 'download',
    type: 'boolean',
    env: 'BIGGAN_DOWNLOAD',
    default: false,
    description: 'Download --model into the cache when it is missing.',
  },
  {
    name: 'host',
    type: 'string',
    env: 'BIGGAN_HOST',
    default: '0.0.0.0',
    description: 'Address to listen on (HTTP and gRPC).',
  },
  {
    name: 'http-port',
    type: 'integer',
    env: 'BIGGAN_HTTP_PORT',
    default: 8080,
    min: 0,
    max: 65535,
    description: 'HTTP port (0 = any free port).',
  },
  {
    name: 'grpc-port',
    type: 'integer',
    env: 'BIGGAN_GRPC_PORT',
    default: 50051,
    min: -1,
    max: 65535,
    description: 'gRPC port (0 = any free port, -1 = no gRPC).',
  },
  {
    name: 'engine',
    type: 'string',
    choices: ENGINE_CHOICES,
    env: 'BIGGAN_ENGINE',
    default: 'auto',
    description: 'Inference engine: ort (ONNX Runtime), tfjs, or auto (the fastest available).',
  },
  {
    name: 'backend',
    type: 'string',
    env: 'BIGGAN_BACKEND',
    description:
      'tfjs backend (tensorflow|wasm|cpu) or ort execution provider (cpu|cuda|tensorrt); default: the best available.',
  },
  {
    name: 'threads',
    type: 'integer',
    env: 'BIGGAN_THREADS',
    min: 1,
    max: 1024,
    description: 'Intra-op threads of the ort engine (default: all cores).',
  },
  {
    name: 'max-batch-size',
    type: 'integer',
    env: 'BIGGAN_MAX_BATCH_SIZE',
    default: 8,
    min: 1,
    max: 256,
    description: 'Most samples per engine call.',
  },
  {
    name: 'max-queue-delay-ms',
    type: 'number',
    env: 'BIGGAN_MAX_QUEUE_DELAY_MS',
    default: 5,
    min: 0,
    max: 10_000,
    description: 'How long a partial batch waits for more samples, ms.',
  },
  {
    name: 'max-queue-size',
    type: 'integer',
    env: 'BIGGAN_MAX_QUEUE_SIZE',
    default: 256,
    min: 1,
    max: 1_000_000,
    description: 'Most samples waiting; beyond it requests get 503 / UNAVAILABLE at once.',
  },
  {
    name: 'max-concurrent-batches',
    type: 'integer',
    env: 'BIGGAN_MAX_CONCURRENT_BATCHES',
    default: 2,
    min: 1,
    max: 8,
    description:
      'Engine calls outstanding at once: 2 hands a full batch to the engine while the previous one runs (no idle gap); partial batches always wait.',
  },
  {
    name: 'max-queue-wait-ms',
    type: 'integer',
    env: 'BIGGAN_MAX_QUEUE_WAIT_MS',
    min: 1,
    max: 3_600_000,
    description:
      'Most predicted wait in the queue (from the measured engine time), ms; a request that could not start within it, or within its own timeout, gets 503 / UNAVAILABLE with Retry-After. Default per model: its serving.json maxQueueWaitMs, else 4 x its measured full-batch time (at least 2000 ms); see docs/reliability.md.',
  },
  {
    name: 'max-samples-per-request',
    type: 'integer',
    env: 'BIGGAN_MAX_SAMPLES_PER_REQUEST',
    default: 16,
    min: 1,
    max: 1024,
    description: 'Most samples (count, frames) in one request.',
  },
  {
    name: 'body-limit-bytes',
    type: 'integer',
    env: 'BIGGAN_BODY_LIMIT_BYTES',
    default: 4 * 1024 * 1024,
    min: 1024,
    max: 1 << 30,
    description: 'Largest HTTP request body; larger ones get 413.',
  },
  {
    name: 'request-timeout-ms',
    type: 'integer',
    env: 'BIGGAN_REQUEST_TIMEOUT_MS',
    default: 30_000,
    min: 100,
    max: 3_600_000,
    description:
      'Time an HTTP client has to send its whole request (headers and body); past it 408 and the socket is closed. Waiting in the queue and generating do not count.',
  },
  {
    name: 'headers-timeout-ms',
    type: 'integer',
    env: 'BIGGAN_HEADERS_TIMEOUT_MS',
    default: 10_000,
    min: 100,
    max: 3_600_000,
    description:
      'Time an HTTP client has to send its request line and headers (at most --request-timeout-ms); past it 408.',
  },
  {
    name: 'send-timeout-ms',
    type: 'integer',
    env: 'BIGGAN_SEND_TIMEOUT_MS',
    default: 30_000,
    min: 0,
    max: 3_600_000,
    description:
      'Close an HTTP answer whose client has read nothing of it for this long, ms (stalled readers must not pin memory); 0: never.',
  },
  {
    name: 'send-budget-bytes',
    type: 'integer',
    env: 'BIGGAN_SEND_BUDGET_BYTES',
    default: 128 * 1024 * 1024,
    min: 1024 * 1024,
    max: 2 ** 40,
    description:
      'Most bytes held by HTTP answers being written (a cached answer shared by several clients counts once); a new answer of 1 MiB or more past it gets 503.',
  },
  {
    name: 'cache-size',
    type: 'integer',
    env: 'BIGGAN_CACHE_SIZE',
    default: 256 * 1024 * 1024,
    min: 0,
    max: 2 ** 40,
    description: 'Bytes of encoded images kept in the response cache (LRU); 0 turns it off.',
  },
  {
    name: 'grace-period-ms',
    type: 'integer',
    env: 'BIGGAN_GRACE_PERIOD_MS',
    default: 30_000,
    min: 0,
    max: 3_600_000,
    description: 'On SIGTERM/SIGINT: time to finish accepted work before exiting.',
  },
  {
    name: 'drain-delay-ms',
    type: 'integer',
    env: 'BIGGAN_DRAIN_DELAY_MS',
    default: 0,
    min: 0,
    max: 600_000,
    description:
      'On SIGTERM/SIGINT: first go unready but keep serving for this long, so load balancers stop sending before the drain refuses new requests.',
  },
  {
    name: 'api-keys',
    type: 'string',
    placeholder: 'FILE',
    env: 'BIGGAN_API_KEYS_FILE',
    description:
      'API key file (JSON {"keys": [{"name", "sha256", "imagesPerSecond"?, "burst"?, "maxInFlight"?}]}; make entries with `biggan-serve keys new`). Re-read on change and on SIGHUP. Without it the API is open.',
  },
  {
    name: 'metrics-token',
    type: 'string',
    placeholder: 'TOKEN',
    env: 'BIGGAN_METRICS_TOKEN',
    description: '/metrics answers only requests with Authorization: Bearer TOKEN (default: open).',
  },
  {
    name: 'metrics-port',
    type: 'integer',
    env: 'BIGGAN_METRICS_PORT',
    default: -1,
    min: -1,
    max: 65535,
    description:
      'Serve /metrics on this port (plain HTTP) instead of the HTTP port (-1 = on the HTTP port, 0 = any free port).',
  },
  {
    name: 'quota-redis',
    type: 'string',
    placeholder: 'URL',
    env: 'BIGGAN_QUOTA_REDIS',
    description:
      'Keep quota buckets in Redis (redis://[:PASSWORD@]HOST:PORT[/DB], or rediss:// for TLS) so all replicas enforce one limit (default: in this process).',
  },
  {
    name: 'quota-redis-failure',
    type: 'string',
    choices: ['closed', 'open'],
    env: 'BIGGAN_QUOTA_REDIS_FAILURE',
    default: 'closed',
    description:
      'While Redis does not answer: closed refuses requests of keys with a quota (503), open lets them through unmetered.',
  },
  {
    name: 'tls-cert',
    type: 'string',
    placeholder: 'FILE',
    env: 'BIGGAN_TLS_CERT',
    description: 'PEM certificate (chain): serve HTTPS and gRPC over TLS (needs --tls-key). Re-read on change.',
  },
  {
    name: 'tls-key',
    type: 'string',
    placeholder: 'FILE',
    env: 'BIGGAN_TLS_KEY',
    description: 'PEM private key of --tls-cert.',
  },
  {
    name: 'tls-client-ca',
    type: 'string',
    placeholder: 'FILE',
    env: 'BIGGAN_TLS_CLIENT_CA',
    description: 'PEM CA bundle: clients must present a certificate signed by it (mutual TLS; needs --tls-cert).',
  },
  {
    name: 'cors-origin',
    type: 'string',
    placeholder: 'ORIGINS',
    env: 'BIGGAN_CORS_ORIGIN',
    description:
      'Comma-separated origins (https://app.example.com) whose browser pages may call the API (default: none).',
  },
  {
    name: 'trust-proxy',
    type: 'boolean',
    env: 'BIGGAN_TRUST_PROXY',
    default: false,
    description:
      "Trust X-Forwarded-Proto/-Host/-For from the peer (set it only behind a proxy that overwrites them): they then build the OpenAI API's url answers and the logged client address.",
  },
  {
    name: 'public-base-url',
    type: 'string',
    placeholder: 'URL',
    env: 'BIGGAN_PUBLIC_BASE_URL',
    description:
      "Base of the OpenAI API's url answers (https://images.example.com/biggan, path prefix allowed; default: the request's scheme and host).",
  },
  {
    name: 'grpc-max-connection-age-ms',
    type: 'integer',
    env: 'BIGGAN_GRPC_MAX_CONNECTION_AGE_MS',
    default: 300_000,
    min: 1000,
    description: 'gRPC connections are closed (GOAWAY) after this age so clients rebalance across replicas.',
  },
  {
    name: 'grpc-max-connection-age-grace-ms',
    type: 'integer',
    env: 'BIGGAN_GRPC_MAX_CONNECTION_AGE_GRACE_MS',
    default: 30_000,
    min: 0,
    description: 'Time calls on an aged connection may still take.',
  },
  {
    name: 'grpc-max-receive-message-bytes',
    type: 'integer',
    env: 'BIGGAN_GRPC_MAX_RECEIVE_MESSAGE_BYTES',
    default: 4 * 1024 * 1024,
    min: 1024,
    max: 2 ** 31 - 1,
    description:
      'Largest gRPC request message, bytes (default 4 MiB); larger ones are refused with RESOURCE_EXHAUSTED.',
  },
  {
    name: 'grpc-max-send-message-bytes',
    type: 'integer',
    env: 'BIGGAN_GRPC_MAX_SEND_MESSAGE_BYTES',
    default: 128 * 1024 * 1024,
    min: 1024,
    max: 2 ** 31 - 1,
    description:
      'Largest gRPC response message, bytes (default 128 MiB); a request whose answer would be larger is refused with RESOURCE_EXHAUSTED naming this flag.',
  },
  {
    name: 'engine-failure-threshold',
    type: 'integer',
    env: 'BIGGAN_ENGINE_FAILURE_THRESHOLD',
    default: 5,
    min: 1,
    max: 1_000_000,
    description:
      'Consecutive failed engine calls after which the server reports not ready (/readyz 503, gRPC NOT_SERVING) until a probe batch succeeds.',
  },
  {
    name: 'engine-probe-interval-ms',
    type: 'integer',
    env: 'BIGGAN_ENGINE_PROBE_INTERVAL_MS',
    default: 5000,
    min: 10,
    max: 3_600_000,
    description: 'While not ready for engine failures: time between one-sample probe batches, ms.',
  },
  {
    name: 'engine-liveness-timeout-ms',
    type: 'integer',
    env: 'BIGGAN_ENGINE_LIVENESS_TIMEOUT_MS',
    default: 300_000,
    min: 0,
    max: 86_400_000,
    description:
      'On a GPU (cuda, tensorrt): time the engine may stay unhealthy (a lost CUDA context never recovers in-process) before /healthz answers 503 so the container is restarted, ms; 0: never.',
  },
  {
    name: 'log-level',
    type: 'string',
    env: 'BIGGAN_LOG_LEVEL',
    default: 'info',
    choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    description: 'Log level (JSON logs on stdout).',
  },
]);

export const SERVE_USAGE = formatHelp(
  'biggan-serve serve [--weights DIR | --model-repository DIR | --models A,B | --model NAME] [--download] [--http-port 8080] [--grpc-port 50051] [options]',
  'Serves BigGAN-deep over REST (POST /generate, /interpolate; docs at /docs) and gRPC (biggan.v1.Generator),\nwith dynamic batching, Prometheus metrics at /metrics, and graceful drain on SIGTERM.\nSeeded answers are cached (--cache-size) and cacheable by URL: GET /generate?class=207&seed=7 with a strong ETag.\nEvery flag can also be set by its BIGGAN_* environment variable.',
  SERVER_OPTIONS,
);

/** The CORS origins of a comma-separated list; each must be scheme://host[:port]. */
function corsOrigins(list: string | undefined): string[] {
  if (list === undefined) return [];
  const origins = list
    .split(',')
    .map((o) => o.trim())
    .filter((o) => o !== '');
  for (const o of origins) {
    if (!/^https?:\/\/[^/\s]+$/.test(o))
      throw new UsageError(
        `--cors-origin: '${o}' is not an origin; expected scheme://host[:port] with no path, e.g. https://app.example.com`,
      );
  }
  return origins;
}

/** An absolute http(s) URL without query or fragment (a trailing slash is dropped). */
function publicBaseUrl(text: string): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || !/^https?:$/.test(url.protocol) || url.search !== '' || url.hash !== '' || url.username !== '') {
    throw new UsageError(
      `--public-base-url: expected an absolute http(s) URL such as https://images.example.com/biggan (no query), got '${text}'`,
    );
  }
  return text.replace(/\/+$/, '');
}

/** Parses and validates the `serve` flags (with env fallback); `help` is true for --help. */
export function parseServerConfig(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): { config: ServerConfig; help: boolean } {
  const { values: v, help } = parseOptions(argv, SERVER_OPTIONS, env);
  const config: ServerConfig = Object.freeze({
    ...(v.weights ? { weights: v.weights } : {}),
    ...(v['model-repository'] ? { modelRepository: v['model-repository'] } : {}),
    ...(v.models ? { models: parseModelList(v.models) } : {}),
    ...(v['default-model'] ? { defaultModel: v['default-model'] } : {}),
    ...(v['memory-budget'] !== undefined ? { memoryBudgetBytes: v['memory-budget'] } : {}),
    ...(v.preload ? { preload: v.preload } : {}),
    model: v.model,
    ...(v.cache ? { cache: v.cache } : {}),
    download: v.download,
    host: v.host,
    httpPort: v['http-port'],
    grpcPort: v['grpc-port'],
    engine: v.engine,
    ...(v.backend ? { backend: v.backend } : {}),
    threads: v.threads ?? os.availableParallelism(),
    maxBatchSize: v['max-batch-size'],
    maxQueueDelayMs: v['max-queue-delay-ms'],
    maxQueueSize: v['max-queue-size'],
    maxConcurrentBatches: v['max-concurrent-batches'],
    ...(v['max-queue-wait-ms'] !== undefined ? { maxQueueWaitMs: v['max-queue-wait-ms'] } : {}),
    maxSamplesPerRequest: v['max-samples-per-request'],
    bodyLimitBytes: v['body-limit-bytes'],
    requestTimeoutMs: v['request-timeout-ms'],
    headersTimeoutMs: v['headers-timeout-ms'],
    sendTimeoutMs: v['send-timeout-ms'],
    sendBudgetBytes: v['send-budget-bytes'],
    cacheSizeBytes: v['cache-size'],
    gracePeriodMs: v['grace-period-ms'],
    grpcMaxConnectionAgeMs: v['grpc-max-connection-age-ms'],
    grpcMaxConnectionAgeGraceMs: v['grpc-max-connection-age-grace-ms'],
    grpcMaxReceiveMessageBytes: v['grpc-max-receive-message-bytes'],
    grpcMaxSendMessageBytes: v['grpc-max-send-message-bytes'],
    engineFailureThreshold: v['engine-failure-threshold'],
    engineProbeIntervalMs: v['engine-probe-interval-ms'],
    engineLivenessTimeoutMs: v['engine-liveness-timeout-ms'],
    drainDelayMs: v['drain-delay-ms'],
    logLevel: v['log-level'],
    ...(v['api-keys'] ? { apiKeysFile: v['api-keys'] } : {}),
    ...(v['metrics-token'] ? { metricsToken: v['metrics-token'] } : {}),
    metricsPort: v['metrics-port'],
    ...(v['quota-redis'] ? { quotaRedis: v['quota-redis'] } : {}),
    quotaRedisFailure: v['quota-redis-failure'],
    ...(v['tls-cert'] ? { tlsCert: v['tls-cert'] } : {}),
    ...(v['tls-key'] ? { tlsKey: v['tls-key'] } : {}),
    ...(v['tls-client-ca'] ? { tlsClientCa: v['tls-client-ca'] } : {}),
    corsOrigins: Object.freeze(corsOrigins(v['cors-origin'])),
    trustProxy: v['trust-proxy'],
    ...(v['public-base-url'] ? { publicBaseUrl: publicBaseUrl(v['public-base-url']) } : {}),
  });
  if ([config.weights, config.modelRepository, config.models].filter((x) => x !== undefined).length > 1) {
    throw new UsageError('give at most one of --weights, --model-repository and --models');
  }
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) {
    throw new UsageError('--tls-cert and --tls-key go together: give both (a certificate and its private key)');
  }
  if (config.tlsClientCa !== undefined && config.tlsCert === undefined) {
    throw new UsageError(
      '--tls-client-ca needs --tls-cert and --tls-key: client certificates are checked only over TLS',
    );
  }
  if (config.quotaRedis !== undefined && !/^rediss?:\/\/[^/]/.test(config.quotaRedis)) {
    throw new UsageError(
      `--quota-redis: expected redis://HOST:PORT (or rediss://), got '${config.quotaRedis.replace(/:[^:@/]*@/, ':REDACTED@')}'`,
    );
  }
  if (config.metricsPort > 0 && (config.metricsPort === config.httpPort || config.metricsPort === config.grpcPort)) {
    throw new UsageError(`--metrics-port ${config.metricsPort} is already the HTTP or gRPC port; choose another`);
  }
  if (config.maxSamplesPerRequest > config.maxQueueSize) {
    throw new UsageError(
      `--max-samples-per-request (${config.maxSamplesPerRequest}) must not exceed --max-queue-size (${config.maxQueueSize}): such a request could never be queued`,
    );
  }
  if (config.headersTimeoutMs > config.requestTimeoutMs) {
    throw new UsageError(
      `--headers-timeout-ms (${config.headersTimeoutMs}) must not exceed --request-timeout-ms (${config.requestTimeoutMs}): the headers are part of the request`,
    );
  }
  return { config, help };
}

/** `a,b` -> published model names, each checked. */
function parseModelList(text: string): PresetName[] {
  const names = text
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '');
  if (names.length === 0) throw new UsageError('--models: give at least one model name');
  for (const n of names) {
    if (!(PRESET_NAMES as readonly string[]).includes(n))
      throw new UsageError(`--models: unknown model '${n}'; choose from ${PRESET_NAMES.join(', ')}`);
  }
  return [...new Set(names)] as PresetName[];
}
