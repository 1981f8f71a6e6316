/**
 * Worker-thread side of the tfjs engine: initialises the backend, holds the generator's tensors
 * and runs batches, so synchronous backends (wasm, cpu) never block the service's event loop.
 */
import * as tf from '@tensorflow/tfjs-core';
import { serveWorker, wholeBuffer } from '../worker-host.js';
import { initTfjsBackend, type TfjsBackendChoice } from './backend.js';
import { TfjsGenerator } from './generator.js';
import { runForward, type TfjsRunRequest } from './forward.js';
import type { FoldedGenerator } from '../../model/folded-weights.js';

let generator: TfjsGenerator | undefined;

serveWorker<
  { folded: FoldedGenerator; backend?: string },
  TfjsBackendChoice,
  TfjsRunRequest,
  { data: Float32Array; numTensors: number }
>({
  async open({ folded, backend }) {
    const choice = await initTfjsBackend(backend);
    generator = new TfjsGenerator(folded);
    return choice;
  },
  async run(batch) {
    if (!generator) throw new Error('the tfjs worker has no model');
    const { data } = await runForward(generator, generator.config, batch);
    const result = { data, numTensors: tf.memory().numTensors };
    const buffer = wholeBuffer(data);
    return { result, transfer: buffer ? [buffer] : [] };
  },
  async close() {
    generator?.dispose();
    generator = undefined;
  },
});
