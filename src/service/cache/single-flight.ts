/**
 * Single flight: concurrent callers asking for the same key share one computation, and one
 * computation may produce several keys at once (a request's missing images go to the engine as
 * one batch). Each computation gets its own AbortSignal that aborts only when every caller waiting
 * on any of its keys has gone (each caller's signal aborted): one client hanging up never cancels
 * the work others wait for.
 */
import { setMaxListeners } from 'node:events';
import { BigGanError } from '../../errors.js';

/** One computation and the keys it produces. */
interface Group {
  readonly controller: AbortController;
  readonly flights: Flight<unknown>[];
}

interface Flight<T> {
  readonly key: string;
  readonly promise: Promise<T>;
  readonly group: Group;
  waiters: number;
}

/** What `run` answers for each key asked for. */
export interface Joined<T> {
  readonly result: Promise<T>;
  /** True when this caller joined a computation started by an earlier caller. */
  readonly joined: boolean;
}

/** Computations in flight, by key. */
export class SingleFlight<T> {
  private readonly flights = new Map<string, Flight<T>>();

  /** Keys being computed now. */
  get inFlight(): number {
    return this.flights.size;
  }

  /**
   * The values of `keys`. Keys already in flight are joined; the others are computed together by
   * one call of `compute(missing, signal)`, which gets the positions (in `keys`) of the keys it
   * must produce and answers their values in that order. The caller's `signal` ends its own wait
   * with CANCELLED; a computation stops only when nobody waits for any of its keys.
   */
  run(
    keys: readonly string[],
    compute: (missing: number[], signal: AbortSignal) => Promise<T[]>,
    signal?: AbortSignal,
  ): Joined<T>[] {
    const missing: number[] = [];
    const firstAt = new Map<string, number>();
    keys.forEach((key, i) => {
      if (this.flights.has(key) || firstAt.has(key)) return;
      firstAt.set(key, i);
      missing.push(i);
    });
    const started = new Set<string>();
    if (missing.length > 0) {
      const controller = new AbortController();
      const group: Group = { controller, flights: [] };
      const all = Promise.resolve().then(() => compute(missing, controller.signal));
      missing.forEach((i, position) => {
        const key = keys[i];
        const promise = all.then((values) => {
          if (position >= values.length)
            throw new BigGanError(
              'INTERNAL',
              `computation answered ${values.length} values for ${missing.length} keys`,
            );
          return values[position];
        });
        const flight: Flight<T> = { key, promise, group, waiters: 0 };
        group.flights.push(flight as Flight<unknown>);
        this.flights.set(key, flight);
        started.add(key);
        const forget = () => {
          if (this.flights.get(key) === flight) this.flights.delete(key);
        };
        promise.then(forget, forget);
      });
    }
    if (signal) setMaxListeners(Math.max(10, keys.length + 10), signal); // one listener per key waited for
    // Count this caller as a waiter of every key before any wait starts: a signal that is already
    // aborted ends each wait at once, and the group must not look unwanted (and be dropped) while
    // later keys of this same call are not yet counted.
    const joined = keys.map((key) => {
      const flight = this.flights.get(key);
      if (flight === undefined) throw new BigGanError('INTERNAL', `no flight for key ${key}`);
      flight.waiters++;
      return flight;
    });
    return joined.map((flight, i) => ({
      result: signal ? this.waitFor(flight, signal) : flight.promise,
      joined: !started.has(keys[i]),
    }));
  }

  private waitFor(flight: Flight<T>, signal: AbortSignal): Promise<T> {
    const wait = new Promise<T>((resolve, reject) => {
      let settled = false;
      const leave = () => {
        settled = true;
        signal.removeEventListener('abort', onAbort);
      };
      const onAbort = () => {
        if (settled) return;
        leave();
        reject(new BigGanError('CANCELLED', 'the client went away'));
        flight.waiters--;
        this.abandonIfUnwanted(flight.group);
      };
      if (signal.aborted) {
        onAbort();
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
      flight.promise.then(
        (value) => {
          if (settled) return;
          leave();
          resolve(value);
        },
        (error: unknown) => {
          if (settled) return;
          leave();
          reject(error);
        },
      );
    });
    // A caller may stop listening to some keys (e.g. after another failed): never an unhandled rejection.
    wait.catch(() => undefined);
    return wait;
  }

  /** Nobody waits for any key of the computation: forget its keys (new callers start afresh) and stop it. */
  private abandonIfUnwanted(group: Group): void {
    if (group.flights.some((f) => f.waiters > 0)) return;
    for (const f of group.flights) if (this.flights.get(f.key) === f) this.flights.delete(f.key);
    group.controller.abort();
  }
}
