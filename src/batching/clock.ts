/**
 * The time source of the batcher, behind an interface so tests drive time by hand instead of
 * sleeping.
 */
import { performance } from 'node:perf_hooks';

/** A monotonic clock in ms plus one-shot timers on the same time base. */
export interface Clock {
  /** Current time in ms (monotonic; only differences are meaningful). */
  now(): number;
  /** Calls `fn` once, `ms` ms from now; returns a handle for `clearTimeout`. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a timer from `setTimeout`; a handle that already fired is ignored. */
  clearTimeout(handle: unknown): void;
}

/** The process clock: `performance.now()` (monotonic, unlike `Date.now()`) and Node timers. */
export const realClock: Clock = Object.freeze({
  now: () => performance.now(),
  // Node timers have 1 ms granularity and may fire up to ~1 ms early against performance.now();
  // callers re-check the time when woken, so rounding up only avoids a needless extra wake-up.
  setTimeout: (fn: () => void, ms: number): unknown => setTimeout(fn, Math.max(0, Math.ceil(ms))),
  clearTimeout: (handle: unknown): void => clearTimeout(handle as NodeJS.Timeout),
});
