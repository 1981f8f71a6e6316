/**
 * The tfjs engine: BigGAN-deep on TensorFlow.js (tfjs-node-gpu, tfjs-node, wasm or cpu backend).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Engine, EngineBatch, EngineOutput } from '../engine.js';
import type { FoldedGenerator } from '../../model/folded-weights.js';
import { statWeights } from '../../model/batch-norm-stats.js';
import { TfjsGenerator } from './generator.js';
import { initTfjsBackend, type TfjsBackendChoice } from './backend.js';
import { BigGanError } from '../../errors.js';

/** Options of the tfjs engine. */
export interface TfjsEngineOptions {
  /** Force a backend (`tensorflow`, `wasm`, `cpu`); default: the fastest available. */
  readonly backend?: string;
}

/** Creates the tfjs engine: initialises the backend, uploads the folded weights once. */
export async function createTfjsEngine(folded: FoldedGenerator, opts: TfjsEngineOptions = {}): Promise<Engine & { readonly choice: TfjsBackendChoice }> {
  const choice = await initTfjsBackend(opts.backend);
  const generator = new TfjsGenerator(folded);
  const config = folded.config;
  let queue: Promise<unknown> = Promise.resolve();
  let disposed = false;

  const run = async (batch: EngineBatch): Promise<EngineOutput> => {
    if (disposed) throw new BigGanError('UNAVAILABLE', 'engine is disposed');
    const B = batch.size;
    checkBatch(batch, config.zDim, config.numClasses);
    const weights = statWeights(batch.truncation, config.nStats); // [B, nStats]
    const z = tf.tensor2d(batch.z, [B, config.zDim]);
    const cv = tf.tensor2d(batch.classVector, [B, config.numClasses]);
    const sw = tf.tensor2d(weights, [B, config.nStats]);
    let out: tf.Tensor4D | undefined;
    try {
      out = generator.forward(z, cv, sw);
      const data = (await out.data()) as Float32Array;
      return { size: B, height: config.outputDim, width: config.outputDim, data };
    } finally {
      tf.dispose([z, cv, sw]);
      out?.dispose();
    }
  };

  return {
    name: 'tfjs',
    backend: choice.backend,
    choice,
    config,
    generate(batch: EngineBatch): Promise<EngineOutput> {
      // tfjs runs one program at a time; chaining keeps calls in order and memory bounded.
      const result = queue.then(() => run(batch));
      queue = result.catch(() => undefined);
      return result;
    },
    async dispose(): Promise<void> {
      disposed = true;
      await queue;
      generator.dispose();
    },
  };
}

/** Validates array lengths against the batch size (a mismatch is a programming error upstream). */
export function checkBatch(batch: EngineBatch, zDim: number, numClasses: number): void {
  const B = batch.size;
  if (!(Number.isInteger(B) && B >= 1)) throw new BigGanError('INTERNAL', `batch size must be a positive integer, got ${B}`);
  if (batch.z.length !== B * zDim) throw new BigGanError('INTERNAL', `z has ${batch.z.length} values, expected ${B} x ${zDim}`);
  if (batch.classVector.length !== B * numClasses) throw new BigGanError('INTERNAL', `classVector has ${batch.classVector.length} values, expected ${B} x ${numClasses}`);
  if (batch.truncation.length !== B) throw new BigGanError('INTERNAL', `truncation has ${batch.truncation.length} values, expected ${B}`);
}
