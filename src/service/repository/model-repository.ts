/**
 * The models a process serves and their lifecycle: each is `unloaded`, `loading`, `ready` or
 * `failed` (with the reason). A model loads on its first request (the request waits; its deadline
 * counts) or at start (preload). Loads stay within a memory budget by estimate: when loading one
 * would pass it, the least recently used idle model is unloaded first; a model with work in flight
 * is never unloaded (loading waits for one to go idle); a model that can never fit is refused.
 */
import { BigGanError } from '../../errors.js';
import type { ImageService, ModelState } from '../types.js';
import type { ModelSource } from './model-source.js';
import { formatBytes } from './memory.js';
import { FailureMemory, publicReason, unavailable, type BrokenFolder } from './model-failures.js';

/** What the repository and the catalog use of a loaded model's GenerationService. */
export interface ModelService extends ImageService {
  isReady(): boolean;
  accepting(): boolean;
  onReadinessChange(listener: (ready: boolean) => void): void;
  whenIdle(): Promise<void>;
  startDrain(): void;
  leaveRotation(): void;
}

/** A loaded model: its generation service and what frees it. */
export interface LoadedModel {
  /** The model's GenerationService (its own batcher and engine). */
  readonly service: ModelService;
  readonly engine: string;
  readonly backend: string;
  /** Drains nothing: closes the batcher and frees the engine (only called with nothing in flight). */
  dispose(): Promise<void>;
}

/** Builds a model's stack (weights, engine, batcher, service; warmed up). */
export type ModelLoader = (source: ModelSource) => Promise<LoadedModel>;

/** Settings of a repository. */
export interface RepositoryOptions {
  /** Most bytes the loaded models may take together, by estimate. */
  readonly budgetBytes: number;
  readonly defaultModel: string;
  readonly load: ModelLoader;
  /** Folders that could not be read as models: listed as failed, answered 503. */
  readonly broken?: readonly BrokenFolder[];
  /** Every state change (metrics, logs); a failure's `detail` is the full message (paths included) for the log. */
  readonly onState?: (
    source: ModelSource,
    state: ModelState,
    detail: { reason?: string; detail?: string; engine?: string; backend?: string; loadMs?: number },
  ) => void;
  /** Clock in ms (tests); default performance.now. */
  readonly now?: () => number;
}

/** The right to use a loaded model until `release` (the model is not unloaded meanwhile). */
export interface Lease {
  readonly model: LoadedModel;
  release(): void;
}

interface Entry {
  readonly source: ModelSource;
  state: ModelState;
  reason?: string | undefined;
  model?: LoadedModel | undefined;
  loading?: Promise<LoadedModel> | undefined;
  unloading?: Promise<void> | undefined;
  /** Counted against the budget (loading past the budget check, or loaded). */
  reserved: boolean;
  /** Requests holding or waiting for the model. */
  inFlight: number;
  lastUsed: number;
  loadMs?: number;
}

/** The model repository. */
export class ModelRepository {
  private readonly entries = new Map<string, Entry>();
  private waiters: (() => void)[] = [];
  private readonly watchers: ((name: string) => void)[] = [];
  private closed = false;
  private readonly now: () => number;
  private readonly failures: FailureMemory;
  private readonly broken: ReadonlyMap<string, BrokenFolder>;

  constructor(
    sources: readonly ModelSource[],
    private readonly options: RepositoryOptions,
  ) {
    this.now = options.now ?? (() => performance.now());
    this.failures = new FailureMemory(this.now);
    this.broken = new Map((options.broken ?? []).map((b) => [b.name, b]));
    const brokenDefault = this.broken.get(options.defaultModel);
    if (brokenDefault)
      throw new BigGanError(
        'INVALID_CONFIG',
        `the default model ${options.defaultModel} cannot be served: ${brokenDefault.detail}`,
      );
    for (const source of sources)
      this.entries.set(source.name, { source, state: 'unloaded', reserved: false, inFlight: 0, lastUsed: -Infinity });
    if (!this.entries.has(options.defaultModel)) {
      throw new BigGanError(
        'INVALID_CONFIG',
        `--default-model ${options.defaultModel} is not served; models: ${this.names().join(', ')}`,
      );
    }
    for (const e of this.entries.values()) options.onState?.(e.source, 'unloaded', {});
  }

  /** Names of the models served, sorted. */
  names(): string[] {
    return [...this.entries.keys()].sort();
  }

  get defaultModel(): string {
    return this.options.defaultModel;
  }

  get budgetBytes(): number {
    return this.options.budgetBytes;
  }

  /** The source of the model `name` picks (the default without one); NOT_FOUND listing the models otherwise. */
  source(name?: string): ModelSource {
    return this.entry(name).source;
  }

  /** Folders that could not be read as models, with their reasons. */
  brokenFolders(): BrokenFolder[] {
    return [...this.broken.values()];
  }

  /** True when `name` is served. */
  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** State of a model, with its failure reason, engine and last load time. */
  status(name: string): {
    state: ModelState;
    reason?: string;
    engine?: string;
    backend?: string;
    loadMs?: number;
    inFlight: number;
  } {
    const e = this.entry(name);
    return {
      state: e.state,
      ...(e.reason !== undefined ? { reason: e.reason } : {}),
      ...(e.model ? { engine: e.model.engine, backend: e.model.backend } : {}),
      ...(e.loadMs !== undefined ? { loadMs: e.loadMs } : {}),
      inFlight: e.inFlight,
    };
  }

  /** The loaded model `name`, or undefined (no load is started). */
  loaded(name: string): LoadedModel | undefined {
    return this.entries.get(name)?.model;
  }

  /** Estimated bytes of the models loaded or being loaded. */
  reservedBytes(): number {
    let sum = 0;
    for (const e of this.entries.values()) if (e.reserved) sum += e.source.memory.totalBytes;
    return sum;
  }

  /**
   * Leases model `name`, loading it first when needed (unloading idle ones to make room). The
   * wait for the load is bounded by `timeoutMs` (DEADLINE_EXCEEDED) and `signal` (CANCELLED);
   * the load itself goes on for later requests.
   */
  async acquire(name: string | undefined, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<Lease> {
    const e = this.entry(name);
    if (this.closed)
      throw new BigGanError('UNAVAILABLE', 'server is draining (shutting down); retry on another replica');
    e.inFlight++;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      e.inFlight--;
      e.lastUsed = this.now();
      this.changed();
    };
    try {
      const model = e.model && e.state === 'ready' ? e.model : await bounded(this.ensureLoaded(e), e.source.name, opts);
      e.lastUsed = this.now();
      return { model, release };
    } catch (err) {
      release();
      throw err;
    }
  }

  /** Loads models at start; `which` names them. Failures are recorded in their state and returned. */
  async preload(which: readonly string[]): Promise<{ name: string; error: unknown }[]> {
    const failures: { name: string; error: unknown }[] = [];
    for (const name of which) {
      try {
        await this.ensureLoaded(this.entry(name));
      } catch (error) {
        const full =
          error instanceof BigGanError && error.cause instanceof Error
            ? error.cause.message
            : error instanceof Error
              ? error.message
              : String(error);
        const isDefault = name === this.options.defaultModel;
        failures.push({
          name,
          error: isDefault
            ? new BigGanError('INVALID_CONFIG', `the default model ${name} cannot be served: ${full}`, { cause: error })
            : error,
        });
      }
    }
    return failures;
  }

  /** Models whose estimates fit the budget together, in order, starting with the default. */
  fitting(order: readonly string[]): string[] {
    let used = 0;
    const out: string[] = [];
    for (const name of order) {
      const bytes = this.entry(name).source.memory.totalBytes;
      if (used + bytes <= this.options.budgetBytes) {
        used += bytes;
        out.push(name);
      }
    }
    return out;
  }

  /** Resolves when no request holds or waits for a model (a request waiting on a load counts). */
  async whenIdle(): Promise<void> {
    while ([...this.entries.values()].some((e) => e.inFlight > 0)) await this.nextChange();
  }

  /**
   * Refuses new leases, waits until no lease is held, and frees every model. With `withinMs`, a
   * load still running after that long is left behind (the process is exiting) instead of waited for.
   */
  async close(withinMs?: number): Promise<void> {
    this.closed = true;
    const all = this.closeAll();
    if (withinMs === undefined) return all;
    await Promise.race([all, sleep(withinMs)]);
  }

  private async closeAll(): Promise<void> {
    await Promise.all([...this.entries.values()].map((e) => e.loading?.catch(() => undefined)));
    for (const e of this.entries.values()) {
      while (e.inFlight > 0) await this.nextChange();
      await e.unloading;
      if (e.model) await this.unload(e);
    }
  }

  private entry(name?: string): Entry {
    const key = name === undefined || name === '' ? this.options.defaultModel : name;
    const e = this.entries.get(key);
    const broken = e ? undefined : this.broken.get(key);
    if (broken) throw unavailable(key, broken.reason);
    if (!e)
      throw new BigGanError(
        'NOT_FOUND',
        `model ${JSON.stringify(key.slice(0, 64))} is not served; models: ${this.names().join(', ')}`,
      );
    return e;
  }

  private ensureLoaded(e: Entry): Promise<LoadedModel> {
    if (e.model && e.state === 'ready') return Promise.resolve(e.model);
    // A remembered failure answers at once: no re-reading of the weights on every request.
    const refusal = e.loading ? undefined : this.failures.refusal(e.source.name, e.source.dir);
    if (refusal) return Promise.reject(refusal);
    e.loading ??= this.load(e).finally(() => {
      e.loading = undefined;
    });
    return e.loading;
  }

  private async load(e: Entry): Promise<LoadedModel> {
    await e.unloading;
    this.setState(e, 'loading');
    try {
      await this.makeRoom(e);
      const t0 = this.now();
      const model = await this.options.load(e.source);
      e.loadMs = this.now() - t0;
      e.model = model;
      e.reason = undefined;
      this.failures.clear(e.source.name);
      this.setState(e, 'ready');
      return model;
    } catch (err) {
      e.reserved = false;
      const detail = err instanceof Error ? err.message : String(err);
      e.reason = publicReason(detail, e.source.dir, e.source.name);
      this.setState(e, 'failed', detail);
      this.changed();
      // A model that cannot fit the memory budget is refused as such (nothing to remember: the check is cheap).
      if (err instanceof BigGanError && err.code === 'RESOURCE_EXHAUSTED') throw err;
      this.failures.record(e.source.name, e.source.dir, e.reason);
      // Every request waiting on this load (the one that triggered it too) gets 503 with the reason.
      throw new BigGanError('UNAVAILABLE', `model ${e.source.name} failed to load: ${e.reason}`, { cause: err });
    }
  }

  /** Reserves `e`'s estimate, unloading idle models (least recently used first) or waiting for one to go idle. */
  private async makeRoom(e: Entry): Promise<void> {
    const need = e.source.memory.totalBytes;
    const budget = this.options.budgetBytes;
    if (need > budget) {
      throw new BigGanError(
        'RESOURCE_EXHAUSTED',
        `model ${e.source.name} needs an estimated ${formatBytes(need)}, more than the whole memory budget (--memory-budget ${formatBytes(budget)}); give the container more memory or serve it elsewhere`,
      );
    }
    for (;;) {
      if (this.reservedBytes() + need <= budget) {
        e.reserved = true; // same tick as the check: two loads never both take the last room
        return;
      }
      const idle = [...this.entries.values()]
        .filter((o) => o !== e && o.state === 'ready' && o.inFlight === 0 && o.loading === undefined)
        .sort((a, b) => a.lastUsed - b.lastUsed);
      if (idle.length > 0) await this.unload(idle[0]);
      else await this.nextChange(); // every loaded model is busy: wait for one to go idle
    }
  }

  private async unload(e: Entry): Promise<void> {
    const model = e.model;
    if (!model) return;
    e.model = undefined;
    this.setState(e, 'unloaded');
    e.unloading = (async () => {
      try {
        model.service.startDrain();
        await model.service.whenIdle();
        await model.dispose();
      } finally {
        e.reserved = false;
        e.unloading = undefined;
        this.changed();
      }
    })();
    await e.unloading;
  }

  /** Calls `listener` with a model's name after every change of its state (the catalog's readiness follows). */
  watch(listener: (name: string) => void): void {
    this.watchers.push(listener);
  }

  private setState(e: Entry, state: ModelState, detail?: string): void {
    e.state = state;
    this.options.onState?.(e.source, state, {
      ...(e.reason !== undefined ? { reason: e.reason } : {}),
      ...(detail !== undefined ? { detail } : {}),
      ...(e.model ? { engine: e.model.engine, backend: e.model.backend } : {}),
      ...(e.loadMs !== undefined ? { loadMs: e.loadMs } : {}),
    });
    for (const w of this.watchers) w(e.source.name);
  }

  private nextChange(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private changed(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)).unref());
}

/** `p`, or DEADLINE_EXCEEDED / CANCELLED when the caller's budget or signal ends first. */
function bounded<T>(p: Promise<T>, name: string, opts: { signal?: AbortSignal; timeoutMs?: number }): Promise<T> {
  const { signal, timeoutMs } = opts;
  if (signal === undefined && timeoutMs === undefined) return p;
  return new Promise<T>((resolve, reject) => {
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(
            () =>
              done(() =>
                reject(
                  new BigGanError(
                    'DEADLINE_EXCEEDED',
                    `model ${name} was still loading when the request's ${timeoutMs} ms timeout passed`,
                  ),
                ),
              ),
            timeoutMs,
          );
    const onAbort = (): void =>
      done(() => reject(new BigGanError('CANCELLED', 'the client went away while the model was loading')));
    const done = (fn: () => void): void => {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      fn();
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => done(() => resolve(v)),
      (err: unknown) => done(() => reject(err)),
    );
  });
}
