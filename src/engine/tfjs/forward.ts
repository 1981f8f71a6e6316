/**
 * One forward pass of the tfjs generator over an engine batch, shared by the in-thread engine
 * (tfjs-engine.ts) and the worker (tfjs-worker.ts), so the worker never loads the host side.
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkBatch, type EngineBatch } from '../engine.js';
import type { BigGanConfig } from '../../model/config.js';
import { statWeights } from '../../model/batch-norm-stats.js';
import type { TfjsGenerator } from './generator.js';

/** A batch as sent to the worker: plain arrays only. */
export interface TfjsRunRequest {
  readonly size: number;
  readonly z: Float32Array;
  readonly classVector: Float32Array;
  readonly truncation: Float64Array;
}

/** One forward pass on `generator`: NHWC [B, H, W, 3] tanh values. Disposes every tensor it made. */
export async function runForward(
  generator: TfjsGenerator,
  config: BigGanConfig,
  batch: EngineBatch,
): Promise<{ data: Float32Array }> {
  const B = batch.size;
  checkBatch(batch, config);
  const z = tf.tensor2d(batch.z, [B, config.zDim]);
  const cv = tf.tensor2d(batch.classVector, [B, config.numClasses]);
  const sw = tf.tensor2d(statWeights(batch.truncation, config.nStats), [B, config.nStats]); // [B, nStats]
  let out: tf.Tensor4D | undefined;
  try {
    out = generator.forward(z, cv, sw);
    const data = (await out.data()) as Float32Array;
    return { data };
  } finally {
    tf.dispose([z, cv, sw]);
    out?.dispose();
  }
}
