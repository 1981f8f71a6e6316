/**
 * The engine interface the batcher uses: one forward pass of the generator over a batch whose
 * samples may each have their own latent, class vector and truncation.
 */
import type { BigGanConfig } from '../model/config.js';

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
