/**
 * An Engine decorator that keeps the engine honest about its health: it serialises calls (so the
 * time it measures is the engine's compute time, not time spent waiting behind another batch),
 * counts consecutive failures and reports the engine unhealthy past a threshold, probes it with a
 * one-sample batch while unhealthy, and replaces an engine whose worker thread died (crash, out of
 * memory) with a fresh one from a factory.
 */
import { BigGanError } from '../errors.js';
import { SerialCalls, type Engine, type EngineBatch, type EngineOutput } from './engine.js';

/** Hooks for metrics and readiness; every one is optional and must not throw. */
export interface SupervisorObserver {
  /** After every engine call (failed ones too): samples in it and the engine's own time, ms. */
  onCompute?(call: { size: number; durationMs: number; ok: boolean }): void;
  /** Per call: time it waited for the engine to be free, ms. */
  onWait?(ms: number): void;
  /** Each time a dead engine was replaced by a new one. */
  onRestart?(): void;
  /** When health flips: false after `failureThreshold` consecutive failures, true after a success. */
  onHealthChange?(healthy: boolean): void;
}

/** When the engine counts as unhealthy and how it is probed. */
export interface SupervisorSettings {
  /** Consecutive failed calls (>= 1) after which the engine is reported unhealthy. */
  readonly failureThreshold: number;
  /** While unhealthy: ms between probe batches. */
  readonly probeIntervalMs: number;
  /** Clock in ms (tests inject a fake one); default `performance.now`. */
  readonly now?: () => number;
}

/** Whether `err` (or anything in its cause chain) says the engine itself is gone. */
export function isEngineGone(err: unknown): boolean {
  for (let e = err, depth = 0; e !== undefined && depth < 8; depth++) {
    if (e instanceof BigGanError && e.code === 'UNAVAILABLE') return true;
    e = e instanceof Error ? e.cause : undefined;
  }
  return false;
}

/** The supervising engine; `healthy` is what readiness follows. */
export class SupervisedEngine implements Engine {
  readonly name: Engine['name'];
  readonly backend: string;
  readonly config: Engine['config'];
  private current: Engine | undefined;
  private replacing: Promise<Engine> | undefined;
  private readonly calls = new SerialCalls();
  private failures = 0;
  private healthyNow = true;
  private probeTimer: ReturnType<typeof setInterval> | undefined;
  private probing = false;
  private disposed = false;
  private readonly now: () => number;

  constructor(
    first: Engine,
    private readonly factory: () => Promise<Engine>,
    private readonly settings: SupervisorSettings,
    private readonly observer: SupervisorObserver = {},
  ) {
    if (!(Number.isInteger(settings.failureThreshold) && settings.failureThreshold >= 1)) {
      throw new BigGanError(
        'INVALID_CONFIG',
        `failureThreshold must be a positive integer, got ${settings.failureThreshold}`,
      );
    }
    this.current = first;
    this.name = first.name;
    this.backend = first.backend;
    this.config = first.config;
    this.now = settings.now ?? (() => performance.now());
  }

  /** False after `failureThreshold` consecutive failures, until a call or probe succeeds. */
  get healthy(): boolean {
    return this.healthyNow;
  }

  generate(batch: EngineBatch): Promise<EngineOutput> {
    const queuedAt = this.now();
    return this.calls.run(() => {
      this.observer.onWait?.(this.now() - queuedAt);
      return this.attempt(batch);
    });
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.stopProbing();
    await this.calls.close();
    const engine = this.current ?? (await this.replacing?.catch(() => undefined));
    this.current = undefined;
    await engine?.dispose();
  }

  /** One call on the current engine (a replacement first when the last one died). */
  private async attempt(batch: EngineBatch): Promise<EngineOutput> {
    let engine: Engine;
    try {
      engine = this.current ?? (await this.replace());
    } catch (err) {
      this.failed();
      throw new BigGanError('UNAVAILABLE', `the engine is down and could not be restarted: ${messageOf(err)}`, {
        cause: err,
      });
    }
    const t0 = this.now();
    try {
      const output = await engine.generate(batch);
      this.observer.onCompute?.({ size: batch.size, durationMs: this.now() - t0, ok: true });
      this.succeeded();
      return output;
    } catch (err) {
      this.observer.onCompute?.({ size: batch.size, durationMs: this.now() - t0, ok: false });
      this.failed();
      if (!isEngineGone(err)) throw err;
      // The worker is gone: drop it and answer 503 (the next call gets a fresh engine).
      if (this.current === engine) this.current = undefined;
      engine.dispose().catch(() => undefined);
      throw new BigGanError('UNAVAILABLE', `the engine stopped (${messageOf(err)}); it is being restarted`, {
        cause: err,
      });
    }
  }

  /** Creates a replacement engine once, however many calls ask for it. */
  private replace(): Promise<Engine> {
    this.replacing ??= this.factory().then(
      (engine) => {
        this.replacing = undefined;
        if (this.disposed) {
          engine.dispose().catch(() => undefined);
          throw new BigGanError('UNAVAILABLE', 'engine is disposed');
        }
        this.current = engine;
        this.observer.onRestart?.();
        return engine;
      },
      (err: unknown) => {
        this.replacing = undefined;
        throw err;
      },
    );
    return this.replacing;
  }

  private succeeded(): void {
    this.failures = 0;
    if (this.healthyNow) return;
    this.healthyNow = true;
    this.stopProbing();
    this.observer.onHealthChange?.(true);
  }

  private failed(): void {
    this.failures += 1;
    if (!this.healthyNow || this.failures < this.settings.failureThreshold) return;
    this.healthyNow = false;
    this.observer.onHealthChange?.(false);
    this.startProbing();
  }

  /** While unhealthy no traffic reaches the engine, so a small batch now and then tells when it is back. */
  private startProbing(): void {
    if (this.probeTimer !== undefined || this.disposed) return;
    this.probeTimer = setInterval(() => {
      if (this.probing) return;
      this.probing = true;
      this.generate(probeBatch(this.config))
        .then((out) => {
          if (!out.data.every(Number.isFinite)) this.failed();
        })
        .catch(() => undefined)
        .finally(() => {
          this.probing = false;
        });
    }, this.settings.probeIntervalMs);
    this.probeTimer.unref();
  }

  private stopProbing(): void {
    if (this.probeTimer !== undefined) clearInterval(this.probeTimer);
    this.probeTimer = undefined;
  }
}

/** One sample: z = 0, class 0, truncation 0.4 (cheap and always valid). */
function probeBatch(config: Engine['config']): EngineBatch {
  const classVector = new Float32Array(config.numClasses);
  classVector[0] = 1;
  return { size: 1, z: new Float32Array(config.zDim), classVector, truncation: [0.4] };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
