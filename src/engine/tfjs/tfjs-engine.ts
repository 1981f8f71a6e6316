/**
 * The tfjs engine: BigGAN-deep on TensorFlow.js (tfjs-node-gpu, tfjs-node, wasm or cpu backend).
 *
 * By default the generator lives in a worker thread (tfjs-worker.ts): the wasm and cpu backends
 * compute synchronously, so in the main thread a batch would block HTTP, gRPC and health probes
 * for its whole duration (seconds at full width). `worker: false` keeps it in this thread (tests
 * use that to watch `tf.memory()`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkBatch, SerialCalls, type Engine, type EngineBatch, type EngineOutput } from '../engine.js';
import type { FoldedGenerator } from '../../model/folded-weights.js';
import type { BigGanConfig } from '../../model/config.js';
import { TfjsGenerator } from './generator.js';
import { runForward, type TfjsRunRequest } from './forward.js';
import { initTfjsBackend, type TfjsBackendChoice } from './backend.js';
import { startWorker, wholeBuffer } from '../worker-host.js';
import { BigGanError } from '../../errors.js';

/** Options of the tfjs engine. */
export interface TfjsEngineOptions {
  /** Force a backend (`tensorflow`, `wasm`, `cpu`); default: the fastest available. */
  readonly backend?: string | undefined;
  /** Run the generator in a worker thread (default true). */
  readonly worker?: boolean;
}

/** A tfjs engine, with the backend choice and where it runs. */
export interface TfjsEngine extends Engine {
  readonly choice: TfjsBackendChoice;
  readonly inWorker: boolean;
  /** tfjs tensors alive where the generator runs, after the last batch (leak checks). */
  readonly tensorsAfterLastBatch: number | undefined;
}

/** Every distinct ArrayBuffer under the folded weights (to transfer them, not copy). */
function buffersOf(value: unknown, into = new Set<ArrayBuffer>()): Set<ArrayBuffer> {
  if (ArrayBuffer.isView(value)) {
    if (value.buffer instanceof ArrayBuffer) into.add(value.buffer);
  } else if (Array.isArray(value)) {
    for (const v of value) buffersOf(v, into);
  } else if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) buffersOf(v, into);
  }
  return into;
}

/** Creates the tfjs engine: initialises the backend and uploads the folded weights once. */
export async function createTfjsEngine(folded: FoldedGenerator, opts: TfjsEngineOptions = {}): Promise<TfjsEngine> {
  return opts.worker === false ? inThread(folded, opts) : inWorker(folded, opts);
}

async function inThread(folded: FoldedGenerator, opts: TfjsEngineOptions): Promise<TfjsEngine> {
  const choice = await initTfjsBackend(opts.backend);
  const generator = new TfjsGenerator(folded);
  const config = folded.config;
  let tensors: number | undefined;
  return engineOver(
    config,
    choice,
    false,
    () => tensors,
    async (batch) => {
      const { data } = await runForward(generator, config, batch);
      tensors = tf.memory().numTensors;
      return data;
    },
    async () => generator.dispose(),
  );
}

async function inWorker(folded: FoldedGenerator, opts: TfjsEngineOptions): Promise<TfjsEngine> {
  const config = folded.config;
  let handle;
  try {
    // The folded weights move to the worker without a copy (their buffers are transferred).
    handle = await startWorker<
      { folded: FoldedGenerator; backend?: string },
      TfjsBackendChoice,
      TfjsRunRequest,
      { data: Float32Array; numTensors: number }
    >(
      new URL('./tfjs-worker.js', import.meta.url),
      { folded, ...(opts.backend !== undefined ? { backend: opts.backend } : {}) },
      [...buffersOf(folded)],
    );
  } catch (err) {
    throw new BigGanError('INVALID_CONFIG', (err as Error).message, { cause: err });
  }
  const h = handle;
  let tensors: number | undefined;
  return engineOver(
    config,
    h.info,
    true,
    () => tensors,
    async (batch) => {
      checkBatch(batch, config);
      // Compact copies (a few KB): the caller keeps its arrays.
      const req: TfjsRunRequest = {
        size: batch.size,
        z: batch.z.slice(),
        classVector: batch.classVector.slice(),
        truncation: Float64Array.from(batch.truncation),
      };
      const { data, numTensors } = await h.run(
        req,
        [req.z, req.classVector, req.truncation].map((a) => wholeBuffer(a)!),
      );
      tensors = numTensors;
      return data;
    },
    () => h.close(),
  );
}

/** The Engine object around a forward function, in a thread or a worker; calls are serialised. */
function engineOver(
  config: BigGanConfig,
  choice: TfjsBackendChoice,
  inWorker: boolean,
  tensors: () => number | undefined,
  forward: (batch: EngineBatch) => Promise<Float32Array>,
  release: () => Promise<void>,
): TfjsEngine {
  const calls = new SerialCalls();
  const R = config.outputDim;
  return {
    name: 'tfjs',
    backend: choice.backend,
    choice,
    inWorker,
    config,
    get tensorsAfterLastBatch() {
      return tensors();
    },
    generate: (batch: EngineBatch) =>
      calls.run(async (): Promise<EngineOutput> => ({
        size: batch.size,
        height: R,
        width: R,
        data: await forward(batch),
      })),
    async dispose(): Promise<void> {
      if (await calls.close()) await release();
    },
  };
}
