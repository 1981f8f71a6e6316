/**
 * Liveness after a lost GPU. A sticky CUDA error (device lost, illegal address, ECC error) breaks
 * the process's CUDA context for good: every later run fails, the supervisor marks the engine
 * unhealthy (readiness drops), and a new session in the same process reuses the broken context.
 * Only a new process helps. So once a GPU engine has stayed unhealthy longer than a bound,
 * liveness fails (/healthz answers 503) and Kubernetes restarts the container. CPU engines never
 * fail liveness this way: nothing process-wide is broken there, and their probes recover them.
 */
import { isGpuBackend } from './warm-up.js';

/** When liveness gives up on an unhealthy GPU engine. */
export interface LivenessSettings {
  /** Ms a GPU engine may stay unhealthy before liveness fails; 0 never fails it. */
  readonly unhealthyLimitMs: number;
  /** Clock in ms (tests inject one); default `performance.now`. */
  readonly now?: () => number;
}

/** Unhealthy GPU engines by model, and since when. */
export class EngineLiveness {
  private readonly unhealthySince = new Map<string, { since: number; backend: string }>();
  private readonly now: () => number;

  constructor(private readonly settings: LivenessSettings) {
    if (!(Number.isFinite(settings.unhealthyLimitMs) && settings.unhealthyLimitMs >= 0)) {
      throw new RangeError(`unhealthyLimitMs must be a number >= 0, got ${settings.unhealthyLimitMs}`);
    }
    this.now = settings.now ?? (() => performance.now());
  }

  /** A model's engine health changed (the supervisor's onHealthChange). */
  report(model: string, backend: string, healthy: boolean): void {
    if (healthy || !isGpuBackend(backend)) this.unhealthySince.delete(model);
    else if (!this.unhealthySince.has(model)) this.unhealthySince.set(model, { since: this.now(), backend });
  }

  /** The model was unloaded: its engine no longer counts. */
  forget(model: string): void {
    this.unhealthySince.delete(model);
  }

  /** Why the process should be restarted, or undefined while it is alive. */
  failure(): string | undefined {
    const limit = this.settings.unhealthyLimitMs;
    if (limit === 0) return undefined;
    const now = this.now();
    for (const [model, { since, backend }] of this.unhealthySince) {
      const ms = now - since;
      if (ms < limit) continue;
      const seconds = `${Math.round(ms / 1000)} s (limit ${Math.round(limit / 1000)} s)`;
      return `the ${backend} engine of ${model} has failed for ${seconds}: its GPU context is presumed lost; restart the process`;
    }
    return undefined;
  }
}
