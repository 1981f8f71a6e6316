/**
 * The seam between the transports and the service: two objects, and the transport-neutral
 * request and response types. Request types come from the contract schemas (contract/schemas.ts),
 * so the validator, the handlers and the docs agree.
 *
 * The request path (server/service-chain.ts builds it):
 *   transport -> check(schema, value) (contract/validate.ts: the one validation of every transport)
 *     -> RequestService: QuotaService (per-key quotas, priced by the cache through ctx.admit)
 *     -> RoutingService (picks the model the request names)
 *     -> CachingService (per-model image cache and single flight; generateKeys/interpolateKeys)
 *     -> ModelHandle (leases the loaded model, loading it within the call's budget)
 *     -> GenerationService (plan samples, batcher, engine, encode)
 *   and a Catalog (ModelCatalog over the model repository) for models, classes and readiness.
 * Refusals are counted by the transports at their exits (HTTP onError hook and client-error
 * handler, gRPC call finish) from the final error: nothing below counts biggan_rejections_total.
 *
 * A new transport is one folder under src/transport/ that takes `(requests: RequestService,
 * catalog: Catalog, metrics)`: it maps its wire format to GenerateRequest / InterpolateRequest,
 * validates with `check`, builds a CallContext (minTimeout of its own deadline and the request's),
 * and maps BigGanError through ERROR_TABLE. An HTTP transport registers its routes as a fastify
 * plugin in buildHttpApp (src/transport/http/app.ts), whose hooks count its requests and refusals;
 * a gRPC service wraps its handlers with unaryCall / finishCall (src/transport/grpc/call.ts) and is
 * added in createGrpcServer. The server wires it in src/server/start.ts (openListeners).
 */
import type { RequestTrace } from '../tracing/request-trace.js';
import type { Caller } from '../auth/key-store.js';
import type { RateLimitState } from '../errors.js';
import type { Priority } from './contract/limits.js';

import type { GenerateRequest, InterpolateRequest, Endpoint, ClassSpec } from './contract/schemas.js';

export type { GenerateRequest, InterpolateRequest, Endpoint, ClassSpec, Priority };

/** Per-call context from the transport: cancellation and the time budget in the queue. */
export interface CallContext {
  /** Aborts when the client disconnects or cancels; queued samples are then dropped. */
  readonly signal?: AbortSignal;
  /** Bound on time in the queue, ms (REST `timeoutMs`, gRPC deadline); the smaller one wins. */
  readonly timeoutMs?: number;
  /** Transport label for metrics: `http` or `grpc`. */
  readonly transport: 'http' | 'grpc';
  /** Request id, span and image count of the call (logs and tracing); absent in direct calls. */
  readonly trace?: RequestTrace;
  /** The API key that made the call (absent when the server runs without a key file). */
  readonly caller?: Caller;
  /** Told the key's quota state after a request was charged (the transport sends RateLimit-* headers). */
  readonly onRateLimit?: (state: RateLimitState) => void;
  /**
   * Called by the cache once it knows how many of the request's images it must compute (hits
   * excluded), before computing any; rejects to refuse the request (the quota layer sets it).
   */
  readonly admit?: (toCompute: number) => Promise<void>;
}

/** One encoded image and how to reproduce it. */
export interface GeneratedImage {
  readonly data: Buffer;
  readonly mimeType: string;
  /** The sample's own seed (request seed + index); absent when z was given explicitly. */
  readonly seed?: bigint;
  readonly truncation: number;
  /** Non-zero class weights keyed by class index. */
  readonly class: Record<string, number>;
  readonly index: number;
}

/** The answer to a GenerateRequest: per-sample images, or one grid image. */
export interface GenerateResult {
  readonly images: readonly GeneratedImage[];
  /** Present when the request asked for `grid`: all samples in one image. */
  readonly grid?: { readonly data: Buffer; readonly mimeType: string };
  /** The request's base seed (absent when z was given). */
  readonly seed?: bigint;
  readonly width: number;
  readonly height: number;
}

/** Model description for `/v1/models` and gRPC GetModel. */
export interface ModelInfo {
  readonly name: string;
  readonly resolution: number;
  readonly zDim: number;
  readonly numClasses: number;
  readonly parameters: number;
  readonly engine: string;
  readonly backend: string;
  readonly maxSamplesPerRequest: number;
  readonly maxBatchSize: number;
  readonly truncation: { readonly min: number; readonly max: number; readonly default: number };
  readonly formats: readonly string[];
}

/** A model's lifecycle in a repository. */
export type ModelState = 'loading' | 'ready' | 'unloaded' | 'failed';

/** A model of the repository as /v1/models lists it: its description, state, batching and memory. */
export interface ModelStatus extends ModelInfo {
  readonly state: ModelState;
  /** Why loading failed (state `failed`). */
  readonly reason?: string;
  /** True for the model that answers requests naming none. */
  readonly default: boolean;
  readonly maxQueueDelayMs: number;
  readonly maxQueueSize: number;
  /** Where the batching settings came from: `serving.json` or `default` (by resolution). */
  readonly servingFrom: string;
  /** Estimated resident memory when loaded (weights + activations at maxBatchSize), bytes. */
  readonly memoryEstimateBytes: number;
  /** Seconds the last load took (read, fold, engine, warm-up); absent before the first load. */
  readonly loadSeconds?: number;
}

/** One interpolation frame as it is delivered (in order, as soon as its batch is done). */
export interface InterpolationFrame extends GeneratedImage {
  /** Position between the endpoints, 0..1. */
  readonly t: number;
}

/** The answer to an InterpolateRequest. */
export interface InterpolateResult {
  /** Encoded frames; empty when only an animation or grid was asked for and nothing streams them. */
  readonly frames: readonly InterpolationFrame[];
  /** For `gif` / `webp`: the animation of all frames. */
  readonly animation?: { readonly data: Buffer; readonly mimeType: string };
  /** For `grid`: all frames in one image. */
  readonly grid?: { readonly data: Buffer; readonly mimeType: string };
  readonly width: number;
  readonly height: number;
}

/** One ImageNet class. */
export interface ClassInfo {
  readonly index: number;
  readonly wnid: string;
  readonly names: readonly string[];
}

/** The cache identity of a request, known before computing it (for ETags and 304s). */
export interface CacheKeys {
  /** False for unseeded (random) requests: their answers must not be stored by HTTP caches. */
  readonly cacheable: boolean;
  /** Hash of the answer's images' keys (model weights, inputs, encoder) and options. */
  readonly response: string;
  /** Samples (images or frames) the answer holds. */
  readonly count: number;
  /** MIME type of the answer's image form (the grid, the single image, or the animation). */
  readonly mimeType: string;
  /** True when the answer is one combined image (a grid or an animation), never JSON. */
  readonly combined: boolean;
}

/**
 * The request path: one image request in, its answer out. GenerationService implements it for one
 * loaded model, ModelHandle for one model of the repository (loading it for the call).
 */
export interface ImageService {
  generate(req: GenerateRequest, ctx: CallContext): Promise<GenerateResult>;
  /** `onFrame` is called for each frame in order as soon as it is encoded. */
  interpolate(
    req: InterpolateRequest,
    ctx: CallContext,
    onFrame?: (frame: InterpolationFrame) => void,
  ): Promise<InterpolateResult>;
}

/**
 * What the transports call for images: an ImageService that also tells a request's cache identity
 * without computing it (ETags and 304s). CachingService, RoutingService and QuotaService implement
 * it; a decorator extends RequestDecorator and overrides only what it changes.
 */
export interface RequestService extends ImageService {
  generateKeys(req: GenerateRequest): CacheKeys;
  interpolateKeys(req: InterpolateRequest): CacheKeys;
}

/** What the transports read besides images: the models, their classes, readiness. ModelCatalog implements it. */
export interface Catalog {
  /** Every model served, with its state. */
  listModels(): readonly ModelStatus[];
  /** The model a request naming `name` uses (the default without one); NOT_FOUND listing the models when unknown. */
  modelInfo(name?: string): ModelInfo;
  /** The default model's classes. */
  listClasses(): readonly ClassInfo[];
  /** The `model` metric label of a request naming `name`: its model, or the default one (bounded cardinality). */
  modelLabel(name: unknown): string;
  /** The default model is loaded and warm, and the server is not draining (readiness probes, gRPC health). */
  isReady(): boolean;
  /** New work is taken (ready, or unready but still serving while leaving the rotation). */
  accepting(): boolean;
  /** Calls `listener` whenever `isReady()` changes. */
  onReadinessChange(listener: (ready: boolean) => void): void;
}
