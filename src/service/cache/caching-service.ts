/**
 * The response cache in front of one model (a RequestService over the model's ImageService, so
 * every transport uses it). Seeded answers are deterministic, so:
 * - each encoded image is kept in a byte-bounded LRU under a key of its engine inputs
 *   (cache-keys.ts): a count-4 request reuses single images and vice versa;
 * - identical requests in flight are computed once (single flight); a waiter that goes away does
 *   not cancel the computation for the others;
 * - `cacheKeys` plans a request without computing it, so a transport can answer an ETag match
 *   (304) before any work.
 * Misses of a count-N request become N single-sample calls of the inner service, submitted in the
 * same tick, so the batcher still runs them as one batch.
 */
import { MIME_TYPES } from '../../image/encode.js';
import { BigGanError } from '../../errors.js';
import type { Metrics } from '../../metrics/metrics.js';
import { planGenerate, planInterpolate, type PlannedSample } from '../request-samples.js';
import type {
  CacheKeys,
  CallContext,
  GeneratedImage,
  GenerateRequest,
  GenerateResult,
  ImageService,
  InterpolateRequest,
  InterpolateResult,
  InterpolationFrame,
  ModelInfo,
  RequestService,
} from '../types.js';
import { ByteLru } from './lru-cache.js';
import { SingleFlight } from './single-flight.js';
import { compositeKey, imageKey, type KeyContext } from './cache-keys.js';
import { AnswerFormCache } from './answer-forms.js';

/** How a request was answered by the cache. */
export type CacheResult = 'hit' | 'miss' | 'coalesced';

/**
 * Hooks for metrics: one call per lookup (with the images it answers and the caller's transport,
 * so images served from the cache or from another request's computation count as returned; the
 * inner service counts the ones it computes), bytes held, entries evicted.
 */
export interface CacheObserver {
  lookup?(result: CacheResult, images: number, transport: CallContext['transport']): void;
  bytes?(bytes: number): void;
  evicted?(count: number): void;
}

/** Settings of the cache. */
export interface CacheOptions {
  /** Most bytes of encoded images held; 0 turns the cache off (single flight stays). */
  readonly maxBytes: number;
  readonly keyContext: KeyContext;
  readonly observer?: CacheObserver;
}

/** The model a cache serves: its request path, its description (for planning) and whether it takes work. */
export interface CachedModel extends ImageService {
  readonly model: ModelInfo;
  accepting(): boolean;
}

/** A cached interpolation, with its size for the byte bound. */
interface CachedInterpolation {
  readonly byteLength: number;
  readonly result: InterpolateResult;
}

type Entry = Buffer | CachedInterpolation;

/** A generate request's plan and the cache key of each of its images. */
interface PlannedGenerate {
  readonly plan: ReturnType<typeof planGenerate>;
  readonly keys: readonly string[];
}

function isInterpolation(e: Entry): e is CachedInterpolation {
  return !(e instanceof Buffer);
}

function interpolationSize(r: InterpolateResult): number {
  return (
    r.frames.reduce((n, f) => n + f.data.byteLength, 0) +
    (r.animation?.data.byteLength ?? 0) +
    (r.grid?.data.byteLength ?? 0)
  );
}

/** The metrics hooks of a cache over `metrics`. */
export function cacheObserverOf(
  metrics: Pick<Metrics, 'cacheLookups' | 'cacheBytes' | 'cacheEvictions' | 'images'>,
  model?: string,
): CacheObserver {
  const l = model === undefined ? {} : { model };
  return {
    lookup: (result, images, transport) => {
      metrics.cacheLookups.inc({ ...l, result });
      // Images answered from the cache or another request's computation are returned too (the
      // inner service counts the ones it computes).
      if (result !== 'miss') metrics.images.inc({ ...l, transport }, images);
    },
    bytes: (bytes) => metrics.cacheBytes.set(l, bytes),
    evicted: (count) => metrics.cacheEvictions.inc(l, count),
  };
}

/** A RequestService with an image cache and single flight in front of `inner`. */
export class CachingService implements RequestService {
  private readonly lru: ByteLru<Entry>;
  private readonly flights = new SingleFlight<Entry>();
  /** Serialised forms of seeded answers (a quarter of the cache's bytes), shared by every reply. */
  private readonly forms: AnswerFormCache;
  /** Plans made by generateKeys for the generate call that follows (see plannedGenerate). */
  private readonly plans = new WeakMap<GenerateRequest, PlannedGenerate>();

  constructor(
    private readonly inner: CachedModel,
    private readonly options: CacheOptions,
  ) {
    this.lru = new ByteLru<Entry>(options.maxBytes, {
      onEvict: (n) => options.observer?.evicted?.(n),
      onBytes: (b) => options.observer?.bytes?.(b),
    });
    this.forms = new AnswerFormCache(Math.floor(options.maxBytes / 4));
  }

  private get model(): ModelInfo {
    return this.inner.model;
  }

  /** Bytes held by the cache now. */
  get cachedBytes(): number {
    return this.lru.bytes;
  }

  /** Plans `req` (validating it) and returns its cache identity without computing anything. */
  generateKeys(req: GenerateRequest): CacheKeys {
    const { plan, keys } = this.plannedGenerate(req, true);
    return {
      cacheable: req.seed !== undefined || req.z !== undefined,
      response: compositeKey(`generate\0${plan.grid}`, keys),
      count: plan.samples.length,
      mimeType: MIME_TYPES[plan.format],
      combined: plan.grid,
    };
  }

  /** Plans an interpolation and returns its cache identity without computing anything. */
  interpolateKeys(req: InterpolateRequest): CacheKeys {
    const { key, plan } = this.interpolationKey(req, 'answer');
    const seeded = (e: InterpolateRequest['from']) => e.seed !== undefined || e.z !== undefined;
    const animated = plan.format === 'gif' || (plan.format === 'webp' && !plan.grid);
    const frameFormat = plan.format === 'gif' ? 'png' : plan.format;
    return {
      cacheable: seeded(req.from) && seeded(req.to),
      response: key,
      count: plan.samples.length,
      mimeType: MIME_TYPES[animated ? plan.format : frameFormat],
      combined: animated || plan.grid,
    };
  }

  async generate(req: GenerateRequest, ctx: CallContext): Promise<GenerateResult> {
    this.checkReady();
    const { plan, keys } = this.plannedGenerate(req, false);
    const seed = plan.seed;
    const resolution = this.model.resolution;
    const size = { width: resolution, height: resolution };
    const mimeType = MIME_TYPES[plan.format];
    const base = { ...(seed !== undefined ? { seed } : {}), ...size };
    if (plan.grid) {
      const gridKey = compositeKey('grid', keys);
      if (ctx.admit) await ctx.admit(this.lru.peek(gridKey) === undefined ? plan.samples.length : 0);
      // The drawn seed is passed on, so a random request's grid matches the seed it reports.
      const inner: GenerateRequest = { ...req, ...(seed !== undefined ? { seed: seed.toString() } : {}) };
      const data = await this.lookup(gridKey, ctx, plan.samples.length, async (signal) => {
        const result = await this.inner.generate(inner, { ...ctx, signal });
        if (!result.grid) throw new BigGanError('INTERNAL', 'grid request answered without a grid');
        return result.grid.data;
      });
      return { images: [], grid: { data: asBuffer(data), mimeType }, ...base };
    }
    // Hits from the LRU; the misses go to the inner service together (one batcher request), shared
    // with any identical images already being computed.
    const data: (Buffer | Promise<Entry>)[] = keys.map(
      (k) => this.cachedBuffer(k, ctx) ?? Promise.resolve(Buffer.alloc(0)),
    );
    const missing = keys.flatMap((k, i) => (data[i] instanceof Buffer ? [] : [i]));
    // Priced from the same plan and lookups: only the images not cached are charged.
    if (ctx.admit) await ctx.admit(missing.length);
    if (missing.length > 0) {
      const flights = this.flights.run(
        missing.map((i) => keys[i]),
        async (todo, signal) => {
          const samples = todo.map((j) => plan.samples[missing[j]]);
          const buffers = await this.computeMany(samples, req, plan.format, { ...ctx, signal });
          todo.forEach((j, n) => this.store(keys[missing[j]], buffers[n]));
          return buffers;
        },
        ctx.signal,
      );
      flights.forEach((f, n) => {
        data[missing[n]] = f.result;
        this.options.observer?.lookup?.(f.joined ? 'coalesced' : 'miss', 1, ctx.transport);
      });
    }
    const buffers = await Promise.all(data);
    const images = plan.samples.map((sample, index): GeneratedImage =>
      describe(sample, index, asBuffer(buffers[index]), mimeType),
    );
    const result: GenerateResult = { images, ...base };
    if (req.seed === undefined && req.z === undefined) return result;
    return this.forms.attach(result, compositeKey(`answer\0${seed ?? ''}`, keys));
  }

  async interpolate(
    req: InterpolateRequest,
    ctx: CallContext,
    onFrame?: (frame: InterpolationFrame) => void,
  ): Promise<InterpolateResult> {
    this.checkReady();
    // Streams need every frame encoded; other answers may hold only the animation or grid.
    const { key, plan } = this.interpolationKey(req, onFrame ? 'frames' : 'answer');
    const frames = plan.samples.length;
    const cached = this.lru.get(key);
    if (ctx.admit) await ctx.admit(cached !== undefined && isInterpolation(cached) ? 0 : plan.samples.length);
    if (cached !== undefined && isInterpolation(cached)) {
      this.options.observer?.lookup?.('hit', frames, ctx.transport);
      for (const frame of cached.result.frames) onFrame?.(frame);
      return cached.result;
    }
    if (onFrame) {
      // A stream delivers frames as they are made, so it runs on its own (no joining midway).
      this.options.observer?.lookup?.('miss', frames, ctx.transport);
      const result = await this.inner.interpolate(req, ctx, onFrame);
      this.store(key, { byteLength: interpolationSize(result), result });
      return result;
    }
    const entry = await this.lookup(key, ctx, frames, async (signal) => {
      const result = await this.inner.interpolate(req, { ...ctx, signal });
      return { byteLength: interpolationSize(result), result };
    });
    if (!isInterpolation(entry)) throw new BigGanError('INTERNAL', 'cache entry of the wrong kind');
    return entry.result;
  }

  /** A cached encoded image (counted as a hit), or undefined. */
  private cachedBuffer(key: string, ctx: CallContext): Buffer | undefined {
    const hit = this.lru.get(key);
    if (hit === undefined || isInterpolation(hit)) return undefined;
    this.options.observer?.lookup?.('hit', 1, ctx.transport);
    return hit;
  }

  /** The cached value of `key`, or the shared computation of it (stored when done). */
  private async lookup(
    key: string,
    ctx: CallContext,
    images: number,
    compute: (signal: AbortSignal) => Promise<Entry>,
  ): Promise<Entry> {
    const hit = this.lru.get(key);
    if (hit !== undefined) {
      this.options.observer?.lookup?.('hit', images, ctx.transport);
      return hit;
    }
    const [flight] = this.flights.run(
      [key],
      async (_todo, signal) => {
        const value = await compute(signal);
        this.store(key, value);
        return [value];
      },
      ctx.signal,
    );
    this.options.observer?.lookup?.(flight.joined ? 'coalesced' : 'miss', images, ctx.transport);
    return flight.result;
  }

  private store(key: string, value: Entry): void {
    if (this.options.maxBytes > 0) this.lru.set(key, value);
  }

  /**
   * Samples through the inner service as one explicit-inputs request (exactly the engine's inputs:
   * z rows and class-vector rows; they share the request's truncation), so they batch together.
   */
  private async computeMany(
    samples: readonly PlannedSample[],
    req: GenerateRequest,
    format: GenerateRequest['format'],
    ctx: CallContext,
  ): Promise<Buffer[]> {
    const many: GenerateRequest = {
      z: samples.map((s) => Array.from(s.z)),
      classVector: samples.map((s) => Array.from(s.classVector)),
      truncation: samples[0].truncation,
      ...(format !== undefined ? { format } : {}),
      ...(req.priority !== undefined ? { priority: req.priority } : {}),
      ...(req.timeoutMs !== undefined ? { timeoutMs: req.timeoutMs } : {}),
    };
    const result = await this.inner.generate(many, ctx);
    return result.images.map((img) => img.data);
  }

  /**
   * The plan of `req` and its images' keys. A transport asks `generateKeys` (ETag, negotiation)
   * then `generate` with the same request object, so the first call keeps its plan for the second
   * (`keep`), which takes it: one plan and one round of hashing per request, not two. A request
   * whose plan is never taken (a 304, a refusal) is dropped with its object (weak map).
   */
  private plannedGenerate(req: GenerateRequest, keep: boolean): PlannedGenerate {
    const known = this.plans.get(req);
    if (known !== undefined) {
      if (!keep) this.plans.delete(req);
      return known;
    }
    const model = this.model;
    const plan = planGenerate(req, model, model.maxSamplesPerRequest);
    const planned = { plan, keys: plan.samples.map((s) => imageKey(this.options.keyContext, s, plan.format)) };
    if (keep) this.plans.set(req, planned);
    return planned;
  }

  private interpolationKey(
    req: InterpolateRequest,
    form: string,
  ): { key: string; plan: ReturnType<typeof planInterpolate> } {
    const plan = planInterpolate(req, this.model, this.model.maxSamplesPerRequest);
    const frameFormat = plan.format === 'gif' ? 'png' : plan.format;
    const keys = plan.samples.map((s) => imageKey(this.options.keyContext, s, frameFormat));
    return { key: compositeKey(`interpolate\0${form}\0${plan.format}\0${plan.grid}`, keys), plan };
  }

  /**
   * New work is refused while the service is not ready (starting, draining), cache hits and joins
   * included: a draining replica must send clients elsewhere, as the inner service does.
   */
  private checkReady(): void {
    if (this.inner.accepting()) return;
    throw new BigGanError(
      'UNAVAILABLE',
      'server is not ready (starting up or draining); retry, possibly on another replica',
    );
  }
}

function asBuffer(entry: Entry): Buffer {
  if (entry instanceof Buffer) return entry;
  throw new BigGanError('INTERNAL', 'cache entry of the wrong kind');
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
