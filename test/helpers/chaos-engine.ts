/**
 * A test engine behind the `Engine` interface that fails or stalls on command, wrapping a real
 * one. It reports each call it starts and finishes, so a test can wait on the engine's state
 * instead of sleeping.
 */
import type { Engine, EngineBatch, EngineOutput } from '../../src/engine/engine.js';
import { BigGanError } from '../../src/errors.js';

/** Commands a test sends (over IPC) to the chaos server. */
export type ChaosCommand =
  /** Calls after the next `after` ones wait until `release`. */
  | { readonly cmd: 'stall'; readonly after?: number }
  /** Lets stalled and later calls run; with `fail`, the stalled ones fail. */
  | { readonly cmd: 'release'; readonly fail?: boolean }
  /** Every later call fails (true) or runs normally (false). */
  | { readonly cmd: 'fail'; readonly on: boolean }
  /** The next call ends as if the worker thread died (crash, out of memory). */
  | { readonly cmd: 'die' };

/** What the engine reports. */
export type ChaosEvent = {
  readonly event: 'started' | 'finished';
  readonly size: number;
  readonly call: number;
  readonly ok?: boolean;
};

/** The engine wrapper: pass-through until told otherwise. */
export class ChaosEngine implements Engine {
  readonly name;
  readonly backend;
  readonly config;
  private calls = 0;
  private failing = false;
  private dying = false;
  /** Calls that still pass before stalling begins; undefined when not stalling. */
  private passBeforeStall: number | undefined;
  private stalled: ((fail: boolean) => void)[] = [];

  constructor(
    private readonly inner: Engine,
    private readonly report: (e: ChaosEvent) => void,
  ) {
    this.name = inner.name;
    this.backend = inner.backend;
    this.config = inner.config;
  }

  command(c: ChaosCommand): void {
    if (c.cmd === 'stall') this.passBeforeStall = c.after ?? 0;
    else if (c.cmd === 'fail') this.failing = c.on;
    else if (c.cmd === 'die') this.dying = true;
    else {
      this.passBeforeStall = undefined;
      for (const open of this.stalled.splice(0)) open(c.fail ?? false);
    }
  }

  async generate(batch: EngineBatch): Promise<EngineOutput> {
    const call = ++this.calls;
    this.report({ event: 'started', size: batch.size, call });
    let fail = this.failing;
    try {
      if (this.passBeforeStall !== undefined) {
        if (this.passBeforeStall > 0) this.passBeforeStall -= 1;
        else fail = await new Promise<boolean>((resolve) => this.stalled.push(resolve));
      }
      if (this.dying) {
        // What worker-host answers when the worker thread exits under a run.
        await this.inner.dispose();
        throw new BigGanError('UNAVAILABLE', 'chaos: engine worker exited (code 1)');
      }
      if (fail) throw new BigGanError('INTERNAL', `chaos: engine call ${call} failed on command`);
      const out = await this.inner.generate(batch);
      this.report({ event: 'finished', size: batch.size, call, ok: true });
      return out;
    } catch (err) {
      this.report({ event: 'finished', size: batch.size, call, ok: false });
      throw err;
    }
  }

  dispose(): Promise<void> {
    return this.inner.dispose();
  }
}
