/**
 * The server's configuration: every setting with its flag, environment variable, default and
 * description side by side. Read from flags and environment here only, validated at start-up and
 * frozen.
 */
import os from 'node:os';
import { defineOptions, parseOptions, formatHelp, UsageError, type OptionValues } from './options.js';
import { ENGINE_CHOICES, type EngineChoice } from '../engine/choices.js';
import { PRESET_NAMES, type PresetName } from '../model/config.js';

/** Where the models come from and how many are kept loaded (`--weights`, `--model-repository`, `--models`...). */
export interface RepositorySettings {
  readonly weights: string | undefined;
  /** A folder whose subfolders holding config.json are the models served (named after the folder). */
  readonly modelRepository: string | undefined;
  /** Published models to serve from the cache (with --download: fetched when missing). */
  readonly models: readonly PresetName[] | undefined;
  /** Model of requests that name none (undefined: the first name in sorted order). */
  readonly defaultModel: string | undefined;
  /** Most bytes the loaded models may take together, by estimate (undefined: 80% of the cgroup limit, else of the machine's memory). */
  readonly memoryBudgetBytes: number | undefined;
  /** Models loaded at start: all, default, none; undefined: `all` when every model fits the budget, else `default`. */
  readonly preload: 'all' | 'default' | 'none' | undefined;
  /** The published model served without --weights / --models. */
  readonly model: PresetName;
  /** Folder of downloaded models (`--cache`; undefined: the default cache folder). */
  readonly cacheDir: string | undefined;
  readonly download: boolean;
}

/** The HTTP listener and its request limits. */
export interface HttpSettings {
  /** Address every listener binds (HTTP, gRPC, /metrics). */
  readonly host: string;
  readonly port: number;
  readonly bodyLimitBytes: number;
  /** Time for an HTTP client to send its whole request (headers and body), ms; past it 408. */
  readonly requestTimeoutMs: number;
  /** Time for an HTTP client to send its request line and headers, ms; past it 408. */
  readonly headersTimeoutMs: number;
  /** Slow readers: close an answer nobody read for `sendTimeoutMs` (0: off); most bytes held by answers being written. */
  readonly send: { readonly sendTimeoutMs: number; readonly sendBudgetBytes: number };
  /** Origins allowed to call the API from browsers (CORS). */
  readonly corsOrigins: readonly string[];
  /** Read the client's scheme and host from X-Forwarded-Proto/-Host (set only behind a proxy that sets them). */
  readonly trustProxy: boolean;
  /** Base of the OpenAI API's `url` answers, e.g. https://images.example.com/biggan; undefined: the request's origin. */
  readonly publicBaseUrl: string | undefined;
}

/** The gRPC listener and its connection and message limits. */
export interface GrpcSettings {
  /** -1 disables gRPC; 0 picks a free port. */
  readonly port: number;
  readonly maxConnectionAgeMs: number;
  readonly maxConnectionAgeGraceMs: number;
  /** Largest gRPC request / response message, bytes (both services on the gRPC port). */
  readonly maxReceiveMessageBytes: number;
  readonly maxSendMessageBytes: number;
}

/** Where /metrics is served and who may read it. */
export interface MetricsSettings {
  /** Serve /metrics on this port instead of the HTTP port (-1: on the HTTP port; 0: any free port). */
  readonly port: number;
  /** Bearer token /metrics requires; undefined: open. */
  readonly token: string | undefined;
}

/** The engine each model runs on and how its failures are supervised. */
export interface EngineSettings {
  readonly engine: EngineChoice;
  readonly backend: string | undefined;
  readonly threads: number;
  /** Consecutive engine failures after which the server goes unready until a probe succeeds. */
  readonly failureThreshold: number;
  /** While unready for engine failures: ms between probe batches. */
  readonly probeIntervalMs: number;
  /** Ms a GPU engine may stay unhealthy before /healthz fails (the process is restarted); 0: never. */
  readonly livenessTimeoutMs: number;
}

/** Dynamic batching and admission. */
export interface BatchingSettings {
  readonly maxBatchSize: number;
  readonly maxQueueDelayMs: number;
  readonly maxQueueSize: number;
  readonly maxConcurrentBatches: number;
  /** Most predicted queue wait (ms) a new request may face (undefined: per model); longer ones get 503 / UNAVAILABLE at once. */
  readonly maxQueueWaitMs: number | undefined;
  readonly maxSamplesPerRequest: number;
}

/** The response cache. */
export interface CacheSettings {
  /** Bytes of encoded images the response cache may hold; 0 turns it off. */
  readonly sizeBytes: number;
}

/** API keys, quotas and TLS. */
export interface AccessSettings {
  /** API key file (JSON; keys as SHA-256); undefined: the API is open. */
  readonly apiKeysFile: string | undefined;
  /** Redis address of shared quota buckets; undefined: buckets in this process. */
  readonly quotaRedis: string | undefined;
  /** When Redis does not answer: refuse keyed requests with a quota (`closed`) or let them through (`open`). */
  readonly quotaRedisFailure: 'closed' | 'open';
  /** PEM certificate chain and private key: HTTPS and gRPC over TLS. */
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  /** PEM CA bundle: clients must present a certificate it signed (mutual TLS). */
  readonly tlsClientCa: string | undefined;
}

/** The graceful stop on SIGTERM/SIGINT. */
export interface DrainSettings {
  readonly gracePeriodMs: number;
  /** Ms to stay unready but serving before the drain starts (load balancers catch up). */
  readonly drainDelayMs: number;
}

export interface LogSettings {
  readonly level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

/**
 * The validated, frozen server settings: one frozen object per group of the option table (each
 * flag's `group`), so each layer is handed its group whole.
 */
export interface ServerConfig {
  readonly repository: RepositorySettings;
  readonly http: HttpSettings;
  readonly grpc: GrpcSettings;
  readonly metrics: MetricsSettings;
  readonly engine: EngineSettings;
  readonly batching: BatchingSettings;
  readonly cache: CacheSettings;
  readonly access: AccessSettings;
  readonly drain: DrainSettings;
  readonly log: LogSettings;
}

/** The groups of `serve --help`, in order, with their section titles. */
export const SERVER_OPTION_GROUPS: Readonly<Record<keyof ServerConfig, string>> = {
  repository: 'Models',
  engine: 'Engine',
  batching: 'Batching and admission',
  cache: 'Response cache',
  http: 'HTTP',
  grpc: 'gRPC',
  metrics: 'Metrics',
  access: 'Access (API keys, quotas, TLS)',
  drain: 'Drain',
  log: 'Logging',
};

/** The `serve` flags, each with its env var and default. */
export const SERVER_OPTIONS = defineOptions([
  {
    name: 'weights',
    group: 'repository',
    type: 'string',
    placeholder: 'DIR',
    env: 'BIGGAN_WEIGHTS',
    description:
      'Model folder (config.json + model.safetensors or pytorch_model.bin). Without it, --model is taken from the cache.',
  },
  {
    name: 'model-repository',
    group: 'repository',
    type: 'string',
    placeholder: 'DIR',
    env: 'BIGGAN_MODEL_REPOSITORY',
    description:
      'Serve every subfolder of DIR holding a config.json as a model named after its folder (DIR/biggan-deep-256 -> biggan-deep-256); requests pick one with `model`.',
  },
  {
    name: 'models',
    group: 'repository',
    type: 'string',
    placeholder: 'NAME,NAME',
    env: 'BIGGAN_MODELS',
    description: `Serve several published models from the cache (${PRESET_NAMES.join(', ')}), comma-separated; with --download the missing ones are fetched.`,
  },
  {
    name: 'default-model',
    group: 'repository',
    type: 'string',
    placeholder: 'NAME',
    env: 'BIGGAN_DEFAULT_MODEL',
    description: 'Model answering requests that name none (default: the first name in sorted order).',
  },
  {
    name: 'memory-budget',
    group: 'repository',
    type: 'integer',
    placeholder: 'BYTES',
    env: 'BIGGAN_MEMORY_BUDGET',
    min: 1,
    description:
      'Most memory the loaded models may take together, by estimate; past it the least recently used idle model is unloaded (default: 80% of the container memory limit, else of the machine memory).',
  },
  {
    name: 'preload',
    group: 'repository',
    type: 'string',
    choices: ['all', 'default', 'none'],
    env: 'BIGGAN_PRELOAD',
    description:
      'Models loaded at start (default: all when they fit the memory budget, else the default model); the others load on their first request.',
  },
  {
    name: 'model',
    group: 'repository',
    type: 'string',
    choices: PRESET_NAMES,
    env: 'BIGGAN_MODEL',
    default: 'biggan-deep-128',
    description: 'Published model to serve from the cache when --weights is not given.',
  },
  {
    name: 'cache',
    group: 'repository',
    type: 'string',
    placeholder: 'DIR',
    env: 'BIGGAN_CACHE',
    description: 'Download cache (default $XDG_CACHE_HOME/biggan-serve or ~/.cache/biggan-serve).',
  },
  {
    name: 'download',
    group: 'repository',
    type: 'boolean',
    env: 'BIGGAN_DOWNLOAD',
    default: false,
    description: 'Download --model into the cache when it is missing.',
  },
  {
    name: 'host',
    group: 'http',
    type: 'string',
    env: 'BIGGAN_HOST',
    default: '0.0.0.0',
    description: 'Address to listen on (HTTP and gRPC).',
  },
  {
    name: 'http-port',
    group: 'http',
    type: 'integer',
    env: 'BIGGAN_HTTP_PORT',
    default: 8080,
    min: 0,
    max: 65535,
    description: 'HTTP port (0 = any free port).',
  },
  {
    name: 'grpc-port',
    group: 'grpc',
    type: 'integer',
    env: 'BIGGAN_GRPC_PORT',
    default: 50051,
    min: -1,
    max: 65535,
    description: 'gRPC port (0 = any free port, -1 = no gRPC).',
  },
  {
    name: 'engine',
    group: 'engine',
    type: 'string',
    choices: ENGINE_CHOICES,
    env: 'BIGGAN_ENGINE',
    default: 'auto',
    description: 'Inference engine: ort (ONNX Runtime), tfjs, or auto (the fastest available).',
  },
  {
    name: 'backend',
    group: 'engine',
    type: 'string',
    env: 'BIGGAN_BACKEND',
    description:
      'tfjs backend (tensorflow|wasm|cpu) or ort execution provider (cpu|cuda|tensorrt); default: the best available.',
  },
  {
    name: 'threads',
    group: 'engine',
    type: 'integer',
    env: 'BIGGAN_THREADS',
    min: 1,
    max: 1024,
    description: 'Intra-op threads of the ort engine (default: all cores).',
  },
  {
    name: 'max-batch-size',
    group: 'batching',
    type: 'integer',
    env: 'BIGGAN_MAX_BATCH_SIZE',
    default: 8,
    min: 1,
    max: 256,
    description: 'Most samples per engine call.',
  },
  {
    name: 'max-queue-delay-ms',
    group: 'batching',
    type: 'number',
    env: 'BIGGAN_MAX_QUEUE_DELAY_MS',
    default: 5,
    min: 0,
    max: 10_000,
    description: 'How long a partial batch waits for more samples, ms.',
  },
  {
    name: 'max-queue-size',
    group: 'batching',
    type: 'integer',
    env: 'BIGGAN_MAX_QUEUE_SIZE',
    default: 256,
    min: 1,
    max: 1_000_000,
    description: 'Most samples waiting; beyond it requests get 503 / UNAVAILABLE at once.',
  },
  {
    name: 'max-concurrent-batches',
    group: 'batching',
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
    group: 'batching',
    type: 'integer',
    env: 'BIGGAN_MAX_QUEUE_WAIT_MS',
    min: 1,
    max: 3_600_000,
    description:
      'Most predicted wait in the queue (from the measured engine time), ms; a request that could not start within it, or within its own timeout, gets 503 / UNAVAILABLE with Retry-After. Default per model: its serving.json maxQueueWaitMs, else 2.5 x its measured full-batch time (at least 2000 ms); see docs/reliability.md.',
  },
  {
    name: 'max-samples-per-request',
    group: 'batching',
    type: 'integer',
    env: 'BIGGAN_MAX_SAMPLES_PER_REQUEST',
    default: 16,
    min: 1,
    max: 1024,
    description: 'Most samples (count, frames) in one request.',
  },
  {
    name: 'body-limit-bytes',
    group: 'http',
    type: 'integer',
    env: 'BIGGAN_BODY_LIMIT_BYTES',
    default: 4 * 1024 * 1024,
    min: 1024,
    max: 1 << 30,
    description: 'Largest HTTP request body; larger ones get 413.',
  },
  {
    name: 'request-timeout-ms',
    group: 'http',
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
    group: 'http',
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
    group: 'http',
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
    group: 'http',
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
    group: 'cache',
    type: 'integer',
    env: 'BIGGAN_CACHE_SIZE',
    default: 256 * 1024 * 1024,
    min: 0,
    max: 2 ** 40,
    description: 'Bytes of encoded images kept in the response cache (LRU); 0 turns it off.',
  },
  {
    name: 'grace-period-ms',
    group: 'drain',
    type: 'integer',
    env: 'BIGGAN_GRACE_PERIOD_MS',
    default: 30_000,
    min: 0,
    max: 3_600_000,
    description: 'On SIGTERM/SIGINT: time to finish accepted work before exiting.',
  },
  {
    name: 'drain-delay-ms',
    group: 'drain',
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
    group: 'access',
    type: 'string',
    placeholder: 'FILE',
    env: 'BIGGAN_API_KEYS_FILE',
    description:
      'API key file (JSON {"keys": [{"name", "sha256", "imagesPerSecond"?, "burst"?, "maxInFlight"?}]}; make entries with `biggan-serve keys new`). Re-read on change and on SIGHUP. Without it the API is open.',
  },
  {
    name: 'metrics-token',
    group: 'metrics',
    type: 'string',
    placeholder: 'TOKEN',
    env: 'BIGGAN_METRICS_TOKEN',
    description: '/metrics answers only requests with Authorization: Bearer TOKEN (default: open).',
  },
  {
    name: 'metrics-port',
    group: 'metrics',
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
    group: 'access',
    type: 'string',
    placeholder: 'URL',
    env: 'BIGGAN_QUOTA_REDIS',
    description:
      'Keep quota buckets in Redis (redis://[:PASSWORD@]HOST:PORT[/DB], or rediss:// for TLS) so all replicas enforce one limit (default: in this process).',
  },
  {
    name: 'quota-redis-failure',
    group: 'access',
    type: 'string',
    choices: ['closed', 'open'],
    env: 'BIGGAN_QUOTA_REDIS_FAILURE',
    default: 'closed',
    description:
      'While Redis does not answer: closed refuses requests of keys with a quota (503), open lets them through unmetered.',
  },
  {
    name: 'tls-cert',
    group: 'access',
    type: 'string',
    placeholder: 'FILE',
    env: 'BIGGAN_TLS_CERT',
    description: 'PEM certificate (chain): serve HTTPS and gRPC over TLS (needs --tls-key). Re-read on change.',
  },
  {
    name: 'tls-key',
    group: 'access',
    type: 'string',
    placeholder: 'FILE',
    env: 'BIGGAN_TLS_KEY',
    description: 'PEM private key of --tls-cert.',
  },
  {
    name: 'tls-client-ca',
    group: 'access',
    type: 'string',
    placeholder: 'FILE',
    env: 'BIGGAN_TLS_CLIENT_CA',
    description: 'PEM CA bundle: clients must present a certificate signed by it (mutual TLS; needs --tls-cert).',
  },
  {
    name: 'cors-origin',
    group: 'http',
    type: 'string',
    placeholder: 'ORIGINS',
    env: 'BIGGAN_CORS_ORIGIN',
    description:
      'Comma-separated origins (https://app.example.com) whose browser pages may call the API (default: none).',
  },
  {
    name: 'trust-proxy',
    group: 'http',
    type: 'boolean',
    env: 'BIGGAN_TRUST_PROXY',
    default: false,
    description:
      "Trust X-Forwarded-Proto/-Host/-For from the peer (set it only behind a proxy that overwrites them): they then build the OpenAI API's url answers and the logged client address.",
  },
  {
    name: 'public-base-url',
    group: 'http',
    type: 'string',
    placeholder: 'URL',
    env: 'BIGGAN_PUBLIC_BASE_URL',
    description:
      "Base of the OpenAI API's url answers (https://images.example.com/biggan, path prefix allowed; default: the request's scheme and host).",
  },
  {
    name: 'grpc-max-connection-age-ms',
    group: 'grpc',
    type: 'integer',
    env: 'BIGGAN_GRPC_MAX_CONNECTION_AGE_MS',
    default: 300_000,
    min: 1000,
    description: 'gRPC connections are closed (GOAWAY) after this age so clients rebalance across replicas.',
  },
  {
    name: 'grpc-max-connection-age-grace-ms',
    group: 'grpc',
    type: 'integer',
    env: 'BIGGAN_GRPC_MAX_CONNECTION_AGE_GRACE_MS',
    default: 30_000,
    min: 0,
    description: 'Time calls on an aged connection may still take.',
  },
  {
    name: 'grpc-max-receive-message-bytes',
    group: 'grpc',
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
    group: 'grpc',
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
    group: 'engine',
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
    group: 'engine',
    type: 'integer',
    env: 'BIGGAN_ENGINE_PROBE_INTERVAL_MS',
    default: 5000,
    min: 10,
    max: 3_600_000,
    description: 'While not ready for engine failures: time between one-sample probe batches, ms.',
  },
  {
    name: 'engine-liveness-timeout-ms',
    group: 'engine',
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
    group: 'log',
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
  '',
  SERVER_OPTION_GROUPS,
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

type ServeValues = OptionValues<typeof SERVER_OPTIONS>;

/** A flag's text, with an empty one (`--weights ''`) taken as not given. */
function given(text: string | undefined): string | undefined {
  return text === '' ? undefined : text;
}

/** The one mapping from the parsed flags to the grouped settings (each group frozen). */
function groupedConfig(v: ServeValues): ServerConfig {
  const models = given(v.models);
  const baseUrl = given(v['public-base-url']);
  return Object.freeze({
    repository: Object.freeze({
      weights: given(v.weights),
      modelRepository: given(v['model-repository']),
      models: models === undefined ? undefined : Object.freeze(parseModelList(models)),
      defaultModel: given(v['default-model']),
      memoryBudgetBytes: v['memory-budget'],
      preload: v.preload,
      model: v.model,
      cacheDir: given(v.cache),
      download: v.download,
    }),
    http: Object.freeze({
      host: v.host,
      port: v['http-port'],
      bodyLimitBytes: v['body-limit-bytes'],
      requestTimeoutMs: v['request-timeout-ms'],
      headersTimeoutMs: v['headers-timeout-ms'],
      send: Object.freeze({ sendTimeoutMs: v['send-timeout-ms'], sendBudgetBytes: v['send-budget-bytes'] }),
      corsOrigins: Object.freeze(corsOrigins(v['cors-origin'])),
      trustProxy: v['trust-proxy'],
      publicBaseUrl: baseUrl === undefined ? undefined : publicBaseUrl(baseUrl),
    }),
    grpc: Object.freeze({
      port: v['grpc-port'],
      maxConnectionAgeMs: v['grpc-max-connection-age-ms'],
      maxConnectionAgeGraceMs: v['grpc-max-connection-age-grace-ms'],
      maxReceiveMessageBytes: v['grpc-max-receive-message-bytes'],
      maxSendMessageBytes: v['grpc-max-send-message-bytes'],
    }),
    metrics: Object.freeze({ port: v['metrics-port'], token: given(v['metrics-token']) }),
    engine: Object.freeze({
      engine: v.engine,
      backend: given(v.backend),
      threads: v.threads ?? os.availableParallelism(),
      failureThreshold: v['engine-failure-threshold'],
      probeIntervalMs: v['engine-probe-interval-ms'],
      livenessTimeoutMs: v['engine-liveness-timeout-ms'],
    }),
    batching: Object.freeze({
      maxBatchSize: v['max-batch-size'],
      maxQueueDelayMs: v['max-queue-delay-ms'],
      maxQueueSize: v['max-queue-size'],
      maxConcurrentBatches: v['max-concurrent-batches'],
      maxQueueWaitMs: v['max-queue-wait-ms'],
      maxSamplesPerRequest: v['max-samples-per-request'],
    }),
    cache: Object.freeze({ sizeBytes: v['cache-size'] }),
    access: Object.freeze({
      apiKeysFile: given(v['api-keys']),
      quotaRedis: given(v['quota-redis']),
      quotaRedisFailure: v['quota-redis-failure'],
      tlsCert: given(v['tls-cert']),
      tlsKey: given(v['tls-key']),
      tlsClientCa: given(v['tls-client-ca']),
    }),
    drain: Object.freeze({ gracePeriodMs: v['grace-period-ms'], drainDelayMs: v['drain-delay-ms'] }),
    log: Object.freeze({ level: v['log-level'] }),
  });
}

/** Parses and validates the `serve` flags (with env fallback); `help` is true for --help. */
export function parseServerConfig(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): { config: ServerConfig; help: boolean } {
  const { values, help } = parseOptions(argv, SERVER_OPTIONS, env);
  const config = groupedConfig(values);
  validate(config);
  return { config, help };
}

/** Some groups, each partly given: what `serverConfig` fills from the defaults. */
export type PartialServerConfig = { readonly [G in keyof ServerConfig]?: Partial<ServerConfig[G]> };

/**
 * A whole config from the flag defaults (no environment) with `groups` laid over them, validated
 * like flags are, e.g. `serverConfig({ http: { port: 0 }, grpc: { port: -1 } })` (for tests and
 * embedders that do not parse a command line).
 */
export function serverConfig(groups: PartialServerConfig = {}): ServerConfig {
  const defaults = parseServerConfig([], {}).config;
  const merged: Record<string, object> = {};
  for (const name of Object.keys(defaults) as (keyof ServerConfig)[]) {
    merged[name] = Object.freeze({ ...defaults[name], ...groups[name] });
  }
  const config = Object.freeze(merged) as unknown as ServerConfig;
  validate(config);
  return config;
}

/** The rules between flags (each flag's own range is checked by the option table). */
function validate(config: ServerConfig): void {
  const { repository: r, access: a, http, grpc, metrics, batching: b } = config;
  if ([r.weights, r.modelRepository, r.models].filter((x) => x !== undefined).length > 1) {
    throw new UsageError('give at most one of --weights, --model-repository and --models');
  }
  if ((a.tlsCert === undefined) !== (a.tlsKey === undefined)) {
    throw new UsageError('--tls-cert and --tls-key go together: give both (a certificate and its private key)');
  }
  if (a.tlsClientCa !== undefined && a.tlsCert === undefined) {
    throw new UsageError(
      '--tls-client-ca needs --tls-cert and --tls-key: client certificates are checked only over TLS',
    );
  }
  if (a.quotaRedis !== undefined && !/^rediss?:\/\/[^/]/.test(a.quotaRedis)) {
    throw new UsageError(
      `--quota-redis: expected redis://HOST:PORT (or rediss://), got '${a.quotaRedis.replace(/:[^:@/]*@/, ':REDACTED@')}'`,
    );
  }
  if (metrics.port > 0 && (metrics.port === http.port || metrics.port === grpc.port)) {
    throw new UsageError(`--metrics-port ${metrics.port} is already the HTTP or gRPC port; choose another`);
  }
  if (b.maxSamplesPerRequest > b.maxQueueSize) {
    throw new UsageError(
      `--max-samples-per-request (${b.maxSamplesPerRequest}) must not exceed --max-queue-size (${b.maxQueueSize}): such a request could never be queued`,
    );
  }
  if (http.headersTimeoutMs > http.requestTimeoutMs) {
    throw new UsageError(
      `--headers-timeout-ms (${http.headersTimeoutMs}) must not exceed --request-timeout-ms (${http.requestTimeoutMs}): the headers are part of the request`,
    );
  }
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
