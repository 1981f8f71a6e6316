/**
 * The engine interface the batcher uses: one forward pass of the generator over a batch whose
 * samples may each have their own latent, class vector and truncation.
 */
import type { BigGanConfig } from '../model/config.js';
import { BigGanError } from '../errors.js';

/** Engines biggan-serve ships. */
export type EngineName = 'tfjs' | 'ort';

/** One batch of samples, all row-major float32. */
export interface EngineBatch {
  /** Number of samples B (>= 1). */
  readonly size: number;
  /** Latents [B, zDim], already scaled by the truncation (the model never rescales z). */
  readonly z: Float32Array;
  /** Class vectors [B, numClasses] (one-hot or any mixture). */
  readonly classVector: Float32Array;
  /** Per-sample truncation in (0, 1]; selects each sample's batch-norm statistics. */
  readonly truncation: ArrayLike<number>;
}

/** The generator's output: tanh values in [-1, 1], NHWC [B, H, W, 3], H = W = config.outputDim. */
export interface EngineOutput {
  readonly size: number;
  readonly height: number;
  readonly width: number;
  readonly data: Float32Array; // [B, H, W, 3]
}

/** A loaded generator. Implementations must not leak memory across calls. */
export interface Engine {
  readonly name: EngineName;
  /** The backend or execution provider actually in use (e.g. `wasm`, `cpu`, `tensorflow`, `cuda`). */
  readonly backend: string;
  readonly config: BigGanConfig;
  /** Runs one batch. Safe to call again before the previous call's promise settles (calls are serialised). */
  generate(batch: EngineBatch): Promise<EngineOutput>;
  /** Frees the weights and any native resources. */
  dispose(): Promise<void>;
}

/** Array lengths must match the batch size: a mismatch is a bug upstream, not a client error. */
export function checkBatch(batch: EngineBatch, config: Pick<BigGanConfig, 'zDim' | 'numClasses'>): void {
  const B = batch.size;
  const { zDim, numClasses } = config;
  if (!(Number.isInteger(B) && B >= 1))
    throw new BigGanError('INTERNAL', `batch size must be a positive integer, got ${B}`);
  if (batch.z.length !== B * zDim)
    throw new BigGanError('INTERNAL', `z has ${batch.z.length} values, expected ${B} x ${zDim}`);
  if (batch.classVector.length !== B * numClasses)
    throw new BigGanError(
      'INTERNAL',
      `classVector has ${batch.classVector.length} values, expected ${B} x ${numClasses}`,
    );
  if (batch.truncation.length !== B)
    throw new BigGanError('INTERNAL', `truncation has ${batch.truncation.length} values, expected ${B}`);
}

/**
 * Runs an engine's calls one at a time, in order, and refuses calls after `close`. Engines use
 * every core for one batch (and tfjs runs one program at a time), so overlapping calls would only
 * compete; serialising also bounds memory to one batch's activations.
 */
export class SerialCalls {
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;

  /** Queues `fn` behind every earlier call. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(() => {
      if (this.closed) throw new BigGanError('UNAVAILABLE', 'engine is disposed');
      return fn();
    });
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Refuses later calls; resolves once the calls already queued have settled. Idempotent. */
  async close(): Promise<boolean> {
    const first = !this.closed;
    this.closed = true;
    await this.tail;
    return first;
  }
}
