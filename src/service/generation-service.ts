/**
 * The generation service: validates a request, turns it into samples, awaits them from the
 * batcher and encodes each image as soon as its batch is done (so encoding overlaps the next
 * inference). Both transports call this one object.
 */
import type { Engine } from '../engine/engine.js';
import { warmUpEngine } from '../engine/warm-up.js';
import type { Batcher } from '../batching/batcher.js';
import type { Metrics } from '../metrics/metrics.js';
import { toRgb8 } from '../image/convert.js';
import {
  encodeImage,
  encodeAnimation,
  makeGrid,
  MIME_TYPES,
  type ImageFormat,
  type Rgb8Image,
} from '../image/encode.js';
import { BigGanError } from '../errors.js';
import { eachInOrder } from './in-order.js';
import { planGenerate, planInterpolate, type PlannedSample, type PlannedCall } from './request-samples.js';
import { DEFAULT_TRUNCATION, minTimeout } from './contract/limits.js';
import { describeModel } from './model-info.js';
import type {
  CallContext,
  GenerateRequest,
  GenerateResult,
  GeneratedImage,
  ImageService,
  InterpolateRequest,
  InterpolateResult,
  InterpolationFrame,
  ModelInfo,
} from './types.js';

/** Settings of the service beyond the batcher's. */
export interface ServiceOptions {
  /** Name reported by /v1/models, e.g. `biggan-deep-128`. */
  readonly modelName: string;
  /** Most samples (count, frames) one request may ask for. */
  readonly maxSamplesPerRequest: number;
}

type State = 'starting' | 'ready' | 'leaving' | 'draining';

/** One loaded model's request path, with the readiness and drain state the server drives. */
export class GenerationService implements ImageService {
  readonly model: ModelInfo;
  private state: State = 'starting';
  /** False while the engine keeps failing (see SupervisedEngine); readiness follows it. */
  private engineHealthy = true;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly listeners: ((ready: boolean) => void)[] = [];

  constructor(
    private readonly engine: Engine,
    private readonly batcher: Batcher,
    private readonly metrics: Metrics,
    private readonly options: ServiceOptions,
  ) {
    this.model = describeModel(engine.config, {
      name: options.modelName,
      engine: engine.name,
      backend: engine.backend,
      maxSamplesPerRequest: options.maxSamplesPerRequest,
      maxBatchSize: batcher.settings.maxBatchSize,
    });
    metrics.ready.set({ model: options.modelName }, 0);
  }

  /**
   * Runs the warm-up batches (one full batch; every batch size on a GPU, see engine/warm-up.ts) so
   * the first requests do not pay for allocation, JIT and cuDNN's algorithm search. Resolves with
   * the full batch's time, ms.
   */
  async warmUp(): Promise<number> {
    return warmUpEngine(this.engine, this.batcher.settings.maxBatchSize, DEFAULT_TRUNCATION);
  }

  /** Marks the service ready (after loading and warm-up). */
  setReady(): void {
    if (this.state === 'starting') this.setState('ready');
  }

  /**
   * Engine health from the supervisor: unhealthy makes the service unready (503, gRPC health
   * NOT_SERVING) so load balancers stop sending traffic; healthy again restores readiness.
   */
  setEngineHealthy(healthy: boolean): void {
    const was = this.isReady();
    this.engineHealthy = healthy;
    this.readinessChanged(was);
  }

  /** Readiness goes false so load balancers stop sending, but requests that still arrive are served. */
  leaveRotation(): void {
    if (this.state === 'ready') this.setState('leaving');
  }

  /** Stops accepting new requests; readiness goes false at once. */
  startDrain(): void {
    this.setState('draining');
  }

  /** Resolves when every accepted request has been answered. */
  whenIdle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  isReady(): boolean {
    return this.state === 'ready' && this.engineHealthy;
  }

  /** True while new work is taken: ready, or leaving the rotation (unready but still serving). */
  accepting(): boolean {
    return (this.state === 'ready' || this.state === 'leaving') && this.engineHealthy;
  }

  get draining(): boolean {
    return this.state === 'draining';
  }

  onReadinessChange(listener: (ready: boolean) => void): void {
    this.listeners.push(listener);
  }

  async generate(req: GenerateRequest, ctx: CallContext): Promise<GenerateResult> {
    return this.track(async () => {
      const plan = planGenerate(req, this.engine.config, this.options.maxSamplesPerRequest);
      const res = this.engine.config.outputDim;
      // Grid requests encode once at the end; otherwise each sample is encoded as its batch finishes.
      const rgb = this.submit(plan.samples, plan, ctx);
      const size = { width: res, height: res };
      if (plan.grid) {
        const images = await eachInOrder(rgb);
        const grid = makeGrid(images);
        const data = await this.encode(grid, plan.format, ctx);
        this.metrics.images.inc({ transport: ctx.transport, model: this.model.name }, images.length);
        if (ctx.trace) ctx.trace.images += images.length;
        return {
          images: [],
          grid: { data, mimeType: MIME_TYPES[plan.format] },
          ...(plan.seed !== undefined ? { seed: plan.seed } : {}),
          ...size,
        };
      }
      const images = await eachInOrder(
        rgb.map(async (p, i): Promise<GeneratedImage> =>
          describe(plan.samples[i], i, await this.encode(await p, plan.format, ctx), MIME_TYPES[plan.format]),
        ),
      );
      this.metrics.images.inc({ transport: ctx.transport, model: this.model.name }, images.length);
      if (ctx.trace) ctx.trace.images += images.length;
      return { images, ...(plan.seed !== undefined ? { seed: plan.seed } : {}), ...size };
    });
  }

  async interpolate(
    req: InterpolateRequest,
    ctx: CallContext,
    onFrame?: (frame: InterpolationFrame) => void,
  ): Promise<InterpolateResult> {
    return this.track(async () => {
      const plan = planInterpolate(req, this.engine.config, this.options.maxSamplesPerRequest);
      const res = this.engine.config.outputDim;
      const rgb = this.submit(plan.samples, plan, ctx);
      const frameFormat: ImageFormat = plan.format === 'gif' ? 'png' : plan.format;
      const animated = plan.format === 'gif' || (plan.format === 'webp' && !plan.grid);
      // Frames are encoded one by one only where someone receives them: a stream (onFrame) or a
      // JSON answer. An animation or grid alone needs just the pixels.
      const frames: InterpolationFrame[] = [];
      if (onFrame || !(animated || plan.grid)) {
        const encoded = rgb.map(async (p, i): Promise<InterpolationFrame> => ({
          ...describe(plan.samples[i], i, await this.encode(await p, frameFormat, ctx), MIME_TYPES[frameFormat]),
          t: plan.t[i],
        }));
        // Deliver frames strictly in order, each as soon as it and its predecessors are ready.
        await eachInOrder(encoded, (frame) => {
          // A client that went away gets no more frames (the batcher has already failed the rest).
          if (ctx.signal?.aborted) throw new BigGanError('CANCELLED', 'the client went away');
          frames.push(frame);
          onFrame?.(frame);
        });
      }
      const images = await eachInOrder(rgb);
      this.metrics.images.inc({ transport: ctx.transport, model: this.model.name }, images.length);
      if (ctx.trace) ctx.trace.images += images.length;
      const size = { width: res, height: res };
      if (animated) {
        const t0 = performance.now();
        const data = await encodeAnimation(images, plan.format);
        this.metrics.encodeDuration.observe(
          { format: plan.format, model: this.model.name },
          (performance.now() - t0) / 1000,
        );
        return { frames, animation: { data, mimeType: MIME_TYPES[plan.format] }, ...size };
      }
      if (plan.grid) {
        const data = await this.encode(makeGrid(images), frameFormat, ctx);
        return { frames, grid: { data, mimeType: MIME_TYPES[frameFormat] }, ...size };
      }
      return { frames, ...size };
    });
  }

  /** Submits samples to the batcher; returns per-sample RGB8 promises (in request order). */
  private submit(samples: PlannedSample[], call: PlannedCall, ctx: CallContext): Promise<Rgb8Image>[] {
    if (!this.accepting()) throw new BigGanError('UNAVAILABLE', this.unavailableReason());
    const timeoutMs = minTimeout(call.timeoutMs, ctx.timeoutMs);
    const submitted = this.batcher.submit(
      samples.map((s) => ({ z: s.z, classVector: s.classVector, truncation: s.truncation })),
      {
        priority: call.priority,
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
        ...(ctx.signal ? { signal: ctx.signal } : {}),
        traceContext: ctx.trace?.spanContext,
      },
    );
    const res = this.engine.config.outputDim;
    const rgb = submitted.results.map(async (p, i) => ({
      width: res,
      height: res,
      data: toRgb8(this.checkFinite(await unwrapEngineError(p), i)),
    }));
    for (const p of rgb) p.catch(() => undefined); // the caller awaits them; never an unhandled rejection
    return rgb;
  }

  /** A sample with NaN or infinite values fails its request: never a silent flat image. */
  private checkFinite(sample: Float32Array, index: number): Float32Array {
    for (let i = 0; i < sample.length; i++) {
      if (!Number.isFinite(sample[i])) {
        this.metrics.nonFiniteOutputs.inc({ model: this.model.name });
        throw new BigGanError('INTERNAL', `the engine returned non-finite values for sample ${index}`);
      }
    }
    return sample;
  }

  private unavailableReason(): string {
    if (this.draining) return 'server is draining (shutting down); retry on another replica';
    if (this.state === 'starting') return 'server is not ready yet (loading or warming up)';
    return 'the engine is failing; not ready until a probe batch succeeds; retry on another replica';
  }

  private async encode(img: Rgb8Image, format: ImageFormat, ctx?: CallContext): Promise<Buffer> {
    const run = async (): Promise<Buffer> => {
      const t0 = performance.now();
      const data = await encodeImage(img, format);
      this.metrics.encodeDuration.observe({ format, model: this.model.name }, (performance.now() - t0) / 1000);
      return data;
    };
    return ctx?.trace ? ctx.trace.child('encode', { 'biggan.format': format }, run) : run();
  }

  /** Counts a call as in flight (for graceful drain). */
  private async track<T>(fn: () => Promise<T>): Promise<T> {
    this.inFlight++;
    try {
      return await fn();
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  private setState(state: State): void {
    const was = this.isReady();
    this.state = state;
    this.readinessChanged(was);
  }

  private readinessChanged(was: boolean): void {
    const now = this.isReady();
    this.metrics.ready.set({ model: this.model.name }, now ? 1 : 0);
    if (was !== now) for (const l of this.listeners) l(now);
  }
}

/**
 * The batcher reports every engine failure as INTERNAL; an engine that is gone (its worker died,
 * see SupervisedEngine) is UNAVAILABLE (503), so that error, the cause, is what the client gets.
 */
async function unwrapEngineError<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (
      err instanceof BigGanError &&
      err.code === 'INTERNAL' &&
      err.cause instanceof BigGanError &&
      err.cause.code === 'UNAVAILABLE'
    )
      throw err.cause;
    throw err;
  }
}

function describe(s: PlannedSample, index: number, data: Buffer, mimeType: string): GeneratedImage {
  return {
    data,
    mimeType,
    ...(s.seed !== undefined ? { seed: s.seed } : {}),
    truncation: s.truncation,
    class: s.classWeights,
    index,
  };
}
