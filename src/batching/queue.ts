/**
 * The batching queue as pure state (after TGI's `queue.rs`): no timers, no promises, no engine.
 * It holds samples, not requests, so one request of N samples may be spread over several batches.
 * Two priority levels, 'high' taken before 'normal', FIFO within a level (Triton's
 * `priority_levels`). Time is whatever the caller passes in (ms), so tests need no clock.
 */

/** Priority levels, lowest first: 'high' samples are always taken before 'normal' ones. */
export const PRIORITIES = ['normal', 'high'] as const;
/** Priority level of a request. */
export type Priority = (typeof PRIORITIES)[number];

/** What the queue needs to know about one sample; the batcher extends it with the payload. */
export interface QueuedSample {
  /** The request this sample belongs to; all of a request's samples share its priority and deadline. */
  readonly requestId: number;
  readonly priority: Priority;
  /** When the sample entered the queue (ms, caller's clock). */
  readonly enqueuedAt: number;
  /** Time (ms, caller's clock) at which the sample stops being worth running; Infinity for none. */
  readonly deadline: number;
}

/** What `nextBatch` hands back: samples to run now, and samples dropped because their request expired. */
export interface NextBatch<T extends QueuedSample> {
  /** At most `maxBatchSize` samples, high priority first, FIFO within a level. */
  readonly batch: T[];
  /** Every queued sample of each request that had a sample at or past its deadline. */
  readonly expired: T[];
}

/** A two-level priority queue of samples. Items must be appended in non-decreasing `enqueuedAt`. */
export class SampleQueue<T extends QueuedSample = QueuedSample> {
  // One FIFO per level; index 0 is the oldest. Arrays (not a ring buffer) because the queue is
  // bounded by maxQueueSize (hundreds of samples), so splice/filter cost is negligible.
  private high: T[] = [];
  private normal: T[] = [];

  /** Number of samples queued. */
  get size(): number {
    return this.high.length + this.normal.length;
  }

  /** Samples that would run before a sample of `priority` appended now: 'high' ones pass 'normal' ones. */
  aheadOf(priority: Priority): number {
    return priority === 'high' ? this.high.length : this.size;
  }

  /** Queues samples (typically all the samples of one request, in order) at the tail of their level. */
  append(items: readonly T[]): void {
    for (const item of items) (item.priority === 'high' ? this.high : this.normal).push(item);
  }

  /**
   * Drops expired requests, then takes up to `maxBatchSize` samples to run now. Whether a batch is
   * due (full, or its oldest sample waited long enough) is the caller's decision.
   */
  nextBatch(maxBatchSize: number, now: number): NextBatch<T> {
    const expired = this.removeExpired(now);
    const batch = this.high.splice(0, maxBatchSize);
    if (batch.length < maxBatchSize) batch.push(...this.normal.splice(0, maxBatchSize - batch.length));
    return { batch, expired };
  }

  /**
   * Removes every sample of each request that has a sample with `deadline <= now`, and returns
   * them (the caller fails those requests). A request is dropped whole: its other samples are
   * useless once it has failed.
   */
  removeExpired(now: number): T[] {
    const dead = new Set<number>();
    for (const level of [this.high, this.normal]) {
      for (const item of level) if (item.deadline <= now) dead.add(item.requestId);
    }
    return dead.size === 0 ? [] : this.removeWhere((item) => dead.has(item.requestId));
  }

  /** Removes a request's queued samples (cancellation or failure) and returns them. */
  removeRequest(requestId: number): T[] {
    return this.removeWhere((item) => item.requestId === requestId);
  }

  /** Empties the queue (shutdown) and returns what was in it. */
  removeAll(): T[] {
    const all = [...this.high, ...this.normal];
    this.high = [];
    this.normal = [];
    return all;
  }

  /** `enqueuedAt` of the sample that has waited longest (ms), or undefined when empty. */
  oldestEnqueuedAt(): number | undefined {
    // Each level is FIFO in time order, so its head is its oldest sample.
    const h = this.high[0]?.enqueuedAt ?? Infinity;
    const n = this.normal[0]?.enqueuedAt ?? Infinity;
    const oldest = Math.min(h, n);
    return oldest === Infinity ? undefined : oldest;
  }

  /** The earliest finite deadline among queued samples (ms), or undefined when there is none. */
  earliestDeadline(): number | undefined {
    // Deadlines differ per request and are not in queue order, so scan (bounded by maxQueueSize).
    let earliest = Infinity;
    for (const level of [this.high, this.normal]) {
      for (const item of level) if (item.deadline < earliest) earliest = item.deadline;
    }
    return earliest === Infinity ? undefined : earliest;
  }

  private removeWhere(predicate: (item: T) => boolean): T[] {
    const removed: T[] = [];
    const keep = (item: T): boolean => {
      if (!predicate(item)) return true;
      removed.push(item);
      return false;
    };
    this.high = this.high.filter(keep);
    this.normal = this.normal.filter(keep);
    return removed;
  }
}
