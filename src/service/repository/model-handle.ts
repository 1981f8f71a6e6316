/**
 * One model of the repository as an ImageService: each call leases the loaded model (loading it
 * first when needed, within the call's queue budget); readiness and description follow its state.
 */
import { BigGanError } from '../../errors.js';
import { minTimeout } from '../contract/limits.js';
import { describeModel } from '../model-info.js';
import type {
  CallContext,
  GenerateRequest,
  GenerateResult,
  ImageService,
  InterpolateRequest,
  InterpolateResult,
  InterpolationFrame,
  ModelInfo,
} from '../types.js';
import type { ModelRepository, ModelService } from './model-repository.js';
import type { ModelSource } from './model-source.js';

/** Settings of every handle. */
export interface HandleOptions {
  readonly maxSamplesPerRequest: number;
  /** Engine reported before a model is loaded (e.g. `auto`). */
  readonly engine: string;
}

/** Per-model ImageService: a lease of the loaded model per call, the load waited for within the call's budget. */
export class ModelHandle implements ImageService {
  private readonly listeners: ((ready: boolean) => void)[] = [];
  private lastReady = false;
  private draining = false;
  /** The last description built by `model`. */
  private described: ModelInfo | undefined;

  constructor(
    readonly source: ModelSource,
    private readonly repository: ModelRepository,
    private readonly options: HandleOptions,
  ) {}

  /**
   * The model's description (engine and backend once loaded). Every request reads it (planning,
   * sizes), so it is built once per engine/backend the repository reports (they change only when
   * the model loads) and kept; `loaded()` gives them without building a whole status.
   */
  get model(): ModelInfo {
    const loaded = this.repository.loaded(this.source.name);
    const engine = loaded?.engine ?? this.options.engine;
    const backend = loaded?.backend ?? 'unknown';
    const known = this.described;
    if (known !== undefined && known.engine === engine && known.backend === backend) return known;
    this.described = describeModel(this.source.config, {
      name: this.source.name,
      engine,
      backend,
      maxSamplesPerRequest: this.options.maxSamplesPerRequest,
      maxBatchSize: this.source.serving.maxBatchSize,
    });
    return this.described;
  }

  /** Loaded, warm and not draining. */
  isReady(): boolean {
    return !this.draining && (this.repository.loaded(this.source.name)?.service.isReady() ?? false);
  }

  /** New work is taken unless draining: a model that is not loaded loads for it. */
  accepting(): boolean {
    if (this.draining) return false;
    return this.repository.loaded(this.source.name)?.service.accepting() ?? true;
  }

  /** Stops taking new work (server drain). */
  startDrain(): void {
    this.draining = true;
    this.readinessMaybeChanged();
  }

  onReadinessChange(listener: (ready: boolean) => void): void {
    this.listeners.push(listener);
  }

  /** Called on every state change of this model or its service. */
  readinessMaybeChanged(): void {
    const now = this.isReady();
    if (now === this.lastReady) return;
    this.lastReady = now;
    for (const l of this.listeners) l(now);
  }

  async generate(req: GenerateRequest, ctx: CallContext): Promise<GenerateResult> {
    return this.leased(req.timeoutMs, ctx, (service, c) => service.generate(req, c));
  }

  async interpolate(
    req: InterpolateRequest,
    ctx: CallContext,
    onFrame?: (frame: InterpolationFrame) => void,
  ): Promise<InterpolateResult> {
    return this.leased(req.timeoutMs, ctx, (service, c) => service.interpolate(req, c, onFrame));
  }

  /** Runs `fn` on the loaded model; the time spent loading comes off the call's queue budget. */
  private async leased<T>(
    requestTimeoutMs: number | undefined,
    ctx: CallContext,
    fn: (service: ModelService, ctx: CallContext) => Promise<T>,
  ): Promise<T> {
    if (this.draining)
      throw new BigGanError('UNAVAILABLE', 'server is draining (shutting down); retry on another replica');
    const timeoutMs = minTimeout(requestTimeoutMs, ctx.timeoutMs);
    const t0 = performance.now();
    const lease = await this.repository.acquire(this.source.name, {
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    });
    try {
      const left = timeoutMs === undefined ? undefined : Math.max(1, Math.floor(timeoutMs - (performance.now() - t0)));
      return await fn(lease.model.service, { ...ctx, ...(left !== undefined ? { timeoutMs: left } : {}) });
    } finally {
      lease.release();
    }
  }
}
