/**
 * The transport-neutral request and response types of the generation service. REST and gRPC are
 * thin adapters that map their wire formats to these and back.
 */
import type { RequestTrace } from '../tracing/request-trace.js';
import type { ClassSpec } from '../latents/class-vector.js';
import type { ImageFormat, AnimationFormat } from '../image/encode.js';

/** Queue priority: `high` runs before `normal`; FIFO within a level. */
export type Priority = 'normal' | 'high';

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
}

/** A generation request as both transports express it (already JSON-decoded). */
export interface GenerateRequest {
  /** One class spec for all samples, or a list with one per sample. */
  readonly class?: ClassSpec | readonly ClassSpec[];
  /** Explicit class-vector rows, one per sample (each numClasses long). */
  readonly classVector?: unknown;
  /** 0 < t <= 1, default 0.4. */
  readonly truncation?: number;
  /** Unsigned 64-bit seed; sample i uses seed + i. Default: random (reported back). */
  readonly seed?: number | bigint | string;
  /** Explicit latent rows, one per sample (each zDim long), used as given. */
  readonly z?: unknown;
  /** Number of samples (default: the number of rows given, else 1). */
  readonly count?: number;
  readonly format?: ImageFormat;
  /** One grid image of all samples instead of one image per sample. */
  readonly grid?: boolean;
  readonly timeoutMs?: number;
  readonly priority?: Priority;
}

/** One interpolation endpoint: a seed or explicit z, and a class or explicit class vector. */
export interface Endpoint {
  readonly seed?: number | bigint | string;
  readonly z?: unknown; // one row of zDim numbers
  readonly class?: ClassSpec;
  readonly classVector?: unknown; // one row of numClasses numbers
}

/** An interpolation request. */
export interface InterpolateRequest {
  readonly from: Endpoint;
  readonly to: Endpoint;
  /** Frames including both endpoints, >= 2. */
  readonly frames?: number;
  readonly method?: 'lerp' | 'slerp';
  readonly truncation?: number;
  /** `gif` / `webp`: one animation; `png` / `jpeg`: frames (or a grid with `grid`). */
  readonly format?: ImageFormat | AnimationFormat;
  readonly grid?: boolean;
  readonly timeoutMs?: number;
  readonly priority?: Priority;
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

/** What both transports call. Implemented by GenerationService. */
export interface GeneratorService {
  readonly model: ModelInfo;
  /** Weights loaded, warm-up done, not draining. */
  isReady(): boolean;
  generate(req: GenerateRequest, ctx: CallContext): Promise<GenerateResult>;
  /** `onFrame` is called for each frame in order as soon as it is encoded. */
  interpolate(req: InterpolateRequest, ctx: CallContext, onFrame?: (frame: InterpolationFrame) => void): Promise<InterpolateResult>;
  listClasses(): readonly ClassInfo[];
  /** Calls `listener` whenever readiness changes (gRPC health follows it). */
  onReadinessChange(listener: (ready: boolean) => void): void;
}
