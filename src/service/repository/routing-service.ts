/**
 * One service over a model repository: each model has its own response cache in front of a
 * handle that leases the loaded model per call (loading it on first use), and the router picks
 * the handle by the request's `model` (the default model when it names none). Both transports
 * talk to the router only.
 */
import type { Static, TSchema } from 'typebox';
import { BigGanError, ERROR_TABLE } from '../../errors.js';
import { listClasses } from '../../latents/imagenet-classes.js';
import { IMAGE_FORMATS } from '../../image/encode.js';
import { DEFAULT_TRUNCATION, TRUNCATION_MAX, TRUNCATION_MIN } from '../contract/limits.js';
import { ContractChecks } from '../contract/validate.js';
import { parameterCount } from '../../model/config.js';
import type {
  CacheKeys, CallContext, ClassInfo, GenerateRequest, GenerateResult, GeneratorService, InterpolateRequest, InterpolateResult,
  InterpolationFrame, KeyedGeneratorService, ModelInfo, ModelStatus,
} from '../types.js';
import type { ModelRepository } from './model-repository.js';
import type { ModelSource } from './model-source.js';

/** Settings of the router. */
export interface RoutingOptions {
  readonly maxSamplesPerRequest: number;
  /** Engine choice before a model is loaded (e.g. `auto`). */
  readonly engine: string;
  /** Counts a refusal here (invalid request, unknown model), by reason and model label. */
  readonly onRejected?: (reason: string, model: string) => void;
  /** The keyed (cached) service of a model over its handle; default: the handle itself cannot key, so this is required. */
  readonly front: (source: ModelSource, handle: GeneratorService) => KeyedGeneratorService;
}

/** Per-model GeneratorService: a lease of the loaded model per call, the load waited for within the call's budget. */
export class ModelHandle implements GeneratorService {
  private readonly listeners: ((ready: boolean) => void)[] = [];
  private lastReady = false;
  private draining = false;
  /** The last description built by `model`. */
  private described: ModelInfo | undefined;

  constructor(
    private readonly source: ModelSource,
    private readonly repository: ModelRepository,
    private readonly checker: Pick<GeneratorService, 'check'>,
    private readonly options: Pick<RoutingOptions, 'maxSamplesPerRequest' | 'engine'>,
  ) {}

  /**
   * The model's description. Every request reads it (planning, sizes), so it is built once per
   * engine/backend the repository reports (they change only when the model loads) and frozen.
   */
  get model(): ModelInfo {
    const loaded = this.repository.loaded(this.source.name); // what status() reports, without building it
    const engine = loaded?.engine ?? this.options.engine;
    const backend = loaded?.backend ?? 'unknown';
    const known = this.described;
    if (known !== undefined && known.engine === engine && known.backend === backend) return known;
    const c = this.source.config;
    this.described = Object.freeze({
      name: this.source.name,
      resolution: c.outputDim,
      zDim: c.zDim,
      numClasses: c.numClasses,
      parameters: parameterCount(c),
      engine,
      backend,
      maxSamplesPerRequest: this.options.maxSamplesPerRequest,
      maxBatchSize: this.source.serving.maxBatchSize,
      truncation: Object.freeze({ min: TRUNCATION_MIN, max: TRUNCATION_MAX, default: DEFAULT_TRUNCATION }),
      formats: Object.freeze([...IMAGE_FORMATS]),
    });
    return this.described;
  }

  check<T extends TSchema>(schema: T, value: unknown): Static<T> {
    return this.checker.check(schema, value);
  }

  /** Loaded, warm and not draining. */
  isReady(): boolean {
    return !this.draining && (this.repository.loaded(this.source.name)?.service.isReady() ?? false);
  }

  /** New work is taken unless draining: a model that is not loaded loads for it. */
  accepting(): boolean {
    if (this.draining) return false;
    const loaded = this.repository.loaded(this.source.name);
    return loaded ? (loaded.service.accepting?.() ?? loaded.service.isReady()) : true;
  }

  /** Stops taking new work (server drain). */
  startDrain(): void {
    this.draining = true;
    this.readinessMaybeChanged();
  }

  listClasses(): readonly ClassInfo[] {
    const n = this.source.config.numClasses;
    return n === 1000 ? listClasses() : Array.from({ length: n }, (_, index) => ({ index, wnid: '', names: [] }));
  }

  onReadinessChange(listener: (ready: boolean) => void): void {
    this.listeners.push(listener);
  }

  /** Called by the composition on every state change of this model or its service. */
  readinessMaybeChanged(): void {
    const now = this.isReady();
    if (now === this.lastReady) return;
    this.lastReady = now;
    for (const l of this.listeners) l(now);
  }

  async generate(req: GenerateRequest, ctx: CallContext): Promise<GenerateResult> {
    return this.leased(req.timeoutMs, ctx, (service, c) => service.generate(req, c));
  }

  async interpolate(req: InterpolateRequest, ctx: CallContext, onFrame?: (frame: InterpolationFrame) => void): Promise<InterpolateResult> {
    return this.leased(req.timeoutMs, ctx, (service, c) => service.interpolate(req, c, onFrame));
  }

  /** Runs `fn` on the loaded model; the time spent loading comes off the call's queue budget. */
  private async leased<T>(requestTimeoutMs: number | undefined, ctx: CallContext, fn: (service: GeneratorService, ctx: CallContext) => Promise<T>): Promise<T> {
    if (this.draining) throw new BigGanError('UNAVAILABLE', 'server is draining (shutting down); retry on another replica');
    const budgets = [requestTimeoutMs, ctx.timeoutMs].filter((t): t is number => t !== undefined);
    const timeoutMs = budgets.length > 0 ? Math.min(...budgets) : undefined;
    const t0 = performance.now();
    const lease = await this.repository.acquire(this.source.name, { ...(ctx.signal ? { signal: ctx.signal } : {}), ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
    try {
      const left = timeoutMs === undefined ? undefined : Math.max(1, Math.floor(timeoutMs - (performance.now() - t0)));
      return await fn(lease.model.service, { ...ctx, ...(left !== undefined ? { timeoutMs: left } : {}) });
    } finally {
      lease.release();
    }
  }
}

/** The KeyedGeneratorService of a model repository: dispatches every call by `model`. */
export class RoutingService implements KeyedGeneratorService {
  private readonly handles = new Map<string, ModelHandle>();
  private readonly fronts = new Map<string, KeyedGeneratorService>();
  private readonly contracts = new ContractChecks();

  constructor(private readonly repository: ModelRepository, private readonly options: RoutingOptions) {
    const checker = { check: <T extends TSchema>(schema: T, value: unknown): Static<T> => this.check(schema, value) };
    for (const name of repository.names()) {
      const source = repository.source(name);
      const handle = new ModelHandle(source, repository, checker, options);
      this.handles.set(name, handle);
      this.fronts.set(name, options.front(source, handle));
    }
  }

  /** The default model's description. */
  get model(): ModelInfo {
    return this.handle(undefined).model;
  }

  /** The handle of model `name` (default without one); NOT_FOUND listing the models. */
  handle(name: string | undefined): ModelHandle {
    const key = this.repository.source(name).name; // throws NOT_FOUND with the list
    return this.handles.get(key)!;
  }

  modelInfo(name?: string): ModelInfo {
    return this.resolve(name).handle.model;
  }

  modelLabel(name: unknown): string {
    return typeof name === 'string' && this.repository.has(name) ? name : this.repository.defaultModel;
  }

  listModels(): readonly ModelStatus[] {
    return this.repository.names().map((name) => this.status(name));
  }

  /** One model's status (NOT_FOUND when unknown). */
  status(name: string): ModelStatus {
    const { handle } = this.resolve(name);
    const source = this.repository.source(name);
    const s = this.repository.status(source.name);
    return {
      ...handle.model,
      state: s.state,
      ...(s.reason !== undefined ? { reason: s.reason } : {}),
      default: source.name === this.repository.defaultModel,
      maxQueueDelayMs: source.serving.maxQueueDelayMs,
      maxQueueSize: source.serving.maxQueueSize,
      servingFrom: source.servingFrom,
      memoryEstimateBytes: source.memory.totalBytes,
      ...(s.loadMs !== undefined ? { loadSeconds: +(s.loadMs / 1000).toFixed(3) } : {}),
    };
  }

  /** True when model `name` is loaded and ready (NOT_FOUND when unknown). */
  isModelReady(name: string): boolean {
    return this.resolve(name).handle.isReady();
  }

  check<T extends TSchema>(schema: T, value: unknown): Static<T> {
    const outcome = this.contracts.run(schema, value);
    if (!outcome.ok) {
      const raw = typeof value === 'object' && value !== null && 'model' in value ? value.model : undefined;
      this.options.onRejected?.(ERROR_TABLE.INVALID_ARGUMENT.reason, this.modelLabel(raw));
      throw outcome.problem;
    }
    return outcome.value;
  }

  /** Ready when the default model is (readiness probes and gRPC health follow it). */
  isReady(): boolean {
    return this.handle(undefined).isReady();
  }

  accepting(): boolean {
    return this.handle(undefined).accepting();
  }

  listClasses(): readonly ClassInfo[] {
    return this.handle(undefined).listClasses();
  }

  onReadinessChange(listener: (ready: boolean) => void): void {
    this.handle(undefined).onReadinessChange(listener);
  }

  generateKeys(req: GenerateRequest): CacheKeys {
    return this.resolve(req.model).front.generateKeys(req);
  }

  interpolateKeys(req: InterpolateRequest): CacheKeys {
    return this.resolve(req.model).front.interpolateKeys(req);
  }

  generate(req: GenerateRequest, ctx: CallContext): Promise<GenerateResult> {
    return this.resolve(req.model).front.generate(req, ctx);
  }

  interpolate(req: InterpolateRequest, ctx: CallContext, onFrame?: (frame: InterpolationFrame) => void): Promise<InterpolateResult> {
    return this.resolve(req.model).front.interpolate(req, ctx, onFrame);
  }

  /** Every handle stops taking new work (server drain). */
  startDrain(): void {
    for (const h of this.handles.values()) h.startDrain();
  }

  /** Tells every handle to re-check its readiness (after a model's state changed). */
  readinessMaybeChanged(name: string): void {
    this.handles.get(name)?.readinessMaybeChanged();
  }

  private resolve(name: string | undefined): { handle: ModelHandle; front: KeyedGeneratorService } {
    try {
      const key = this.repository.source(name).name;
      return { handle: this.handles.get(key)!, front: this.fronts.get(key)! };
    } catch (err) {
      if (err instanceof BigGanError) this.options.onRejected?.(ERROR_TABLE[err.code].reason, this.repository.defaultModel);
      throw err;
    }
  }
}
