/**
 * The engine calls of several models, one at a time overall (on CPU each call already uses every
 * core, so two at once would only compete for them and for memory), chosen round-robin among the
 * models that have a call waiting: a flood of 512 batches cannot starve a 128 client, whose batch
 * waits behind at most one batch of each other model. Within a model calls keep their order, and
 * a model's pipelining (its batcher handing the next batch over while one runs) still works: the
 * next batch waits here, ready to go, instead of in the batcher.
 */
import type { Engine, EngineBatch, EngineOutput } from '../engine/engine.js';

/** Hooks for metrics: how long a call waited for its turn, ms. */
export interface FairSchedulerObserver {
  onTurnWait?(model: string, ms: number): void;
}

/** Round-robin turns across models, `concurrency` calls at a time overall. */
export class FairScheduler {
  /** Waiting calls per model, in order. */
  private readonly queues = new Map<string, (() => void)[]>();
  /** Models in the order they first asked; the ring the turns go round. */
  private readonly ring: string[] = [];
  /** Ring position of the model that had the last turn. */
  private last = -1;
  private running = 0;
  private readonly observer: FairSchedulerObserver;

  constructor(
    readonly concurrency = 1,
    observer: FairSchedulerObserver = {},
  ) {
    this.observer = observer;
  }

  /** Calls waiting for a turn now, over all models. */
  get waiting(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  /** Resolves when `model` may run one call; the returned function ends the turn (call it exactly once). */
  turn(model: string): Promise<() => void> {
    const asked = performance.now();
    return new Promise((resolve) => {
      let queue = this.queues.get(model);
      if (!queue) {
        queue = [];
        this.queues.set(model, queue);
        this.ring.push(model);
      }
      queue.push(() => {
        this.observer.onTurnWait?.(model, performance.now() - asked);
        let ended = false;
        resolve(() => {
          if (ended) return;
          ended = true;
          this.running--;
          this.dispatch();
        });
      });
      this.dispatch();
    });
  }

  /** `inner` with every call taking a turn of `model` first. */
  wrap(model: string, inner: Engine): Engine {
    return new ScheduledEngine(this, model, inner);
  }

  private dispatch(): void {
    while (this.running < this.concurrency) {
      const next = this.nextModel();
      if (next === undefined) return;
      const start = this.queues.get(next)!.shift()!;
      this.running++;
      start();
    }
  }

  /** The first model after the last one served (ring order) with a call waiting. */
  private nextModel(): string | undefined {
    for (let i = 1; i <= this.ring.length; i++) {
      const at = (this.last + i) % this.ring.length;
      if (this.queues.get(this.ring[at])!.length > 0) {
        this.last = at;
        return this.ring[at];
      }
    }
    return undefined;
  }
}

/** An Engine whose calls take turns in a FairScheduler. */
class ScheduledEngine implements Engine {
  constructor(
    private readonly scheduler: FairScheduler,
    private readonly model: string,
    private readonly inner: Engine,
  ) {}

  get name() {
    return this.inner.name;
  }

  get backend(): string {
    return this.inner.backend;
  }

  get config() {
    return this.inner.config;
  }

  async generate(batch: EngineBatch): Promise<EngineOutput> {
    const done = await this.scheduler.turn(this.model);
    try {
      return await this.inner.generate(batch);
    } finally {
      done();
    }
  }

  dispose(): Promise<void> {
    return this.inner.dispose();
  }
}
