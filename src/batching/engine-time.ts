/**
 * Engine time per batch, learned from the batches run so far: the batcher's basis for predicting
 * how long a new request will wait (time-bounded admission) and an honest Retry-After.
 * Pure state, no clock: callers pass measured durations in ms.
 */

// Weight of the newest batch in each running mean: recent enough to follow a change of load on
// the machine within a few batches, smooth enough that one slow batch does not swing admission.
const EWMA_ALPHA = 0.2;

/** Running mean of engine ms per batch, per batch size. */
export class EngineTimeModel {
  /** Batch size -> mean engine ms of batches of that size (sizes are bounded by maxBatchSize). */
  private readonly meanMs = new Map<number, number>();
  /** A start-up guess (e.g. the warm-up batch), used only until the first real measurement. */
  private primed: { size: number; ms: number } | undefined;

  /** Whether any time is known (measured or primed); without it no prediction is made. */
  get known(): boolean {
    return this.meanMs.size > 0 || this.primed !== undefined;
  }

  /** Seeds the model before any batch ran (a first batch is slower: a conservative guess). */
  prime(size: number, ms: number): void {
    if (this.meanMs.size === 0 && size > 0 && Number.isFinite(ms) && ms >= 0) this.primed = { size, ms };
  }

  /** Records one batch's engine time (ms); the first real measurement replaces the primed guess. */
  record(size: number, ms: number): void {
    if (!(size > 0) || !Number.isFinite(ms) || ms < 0) return;
    this.primed = undefined;
    const mean = this.meanMs.get(size);
    this.meanMs.set(size, mean === undefined ? ms : mean + EWMA_ALPHA * (ms - mean));
  }

  /**
   * Predicted engine ms for a batch of `size`, or undefined when nothing is known. An unseen size
   * is scaled linearly from the nearest known one: right for CPU engines (time grows with the
   * samples); on an accelerator it over-estimates larger batches (admission errs on refusing) and
   * under-estimates smaller ones, which only ever run when the queue is short.
   */
  batchMs(size: number): number | undefined {
    const exact = this.meanMs.get(size);
    if (exact !== undefined) return exact;
    let nearest: [number, number] | undefined = this.primed ? [this.primed.size, this.primed.ms] : undefined;
    for (const entry of this.meanMs) {
      if (nearest === undefined || Math.abs(entry[0] - size) < Math.abs(nearest[0] - size)) nearest = entry;
    }
    if (nearest === undefined) return undefined;
    return (nearest[1] * size) / nearest[0];
  }
}
