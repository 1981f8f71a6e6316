/**
 * Where the ONNX Runtime session lives: in this thread, or in a worker thread (ort-worker.ts) so
 * that a run does not block this thread's event loop. Both take the model bytes and give back
 * the image buffer; the engine above does not care which one it has.
 */
import * as ort from 'onnxruntime-node';
import { ONNX_IO } from './graph-builder.js';
import { startWorker, wholeBuffer } from '../worker-host.js';

/** One named float32 input with its dims. */
export interface RunnerInput {
  readonly name: string;
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

/** A session that runs one batch at a time (callers serialise). */
export interface SessionRunner {
  /** Runs the graph; resolves with the `image` output's data. */
  run(inputs: readonly RunnerInput[]): Promise<Float32Array>;
  release(): Promise<void>;
}

/**
 * Creates a session from `model`. With `worker`, the bytes are transferred (not copied) to the
 * worker, so `model` is left empty (detached) afterwards.
 */
export async function openSessionRunner(
  model: Uint8Array,
  options: ort.InferenceSession.SessionOptions,
  worker: boolean,
): Promise<SessionRunner> {
  return worker ? openInWorker(model, options) : openInThread(model, options);
}

/** Runs `session` once on `inputs`; returns the `image` output's data and disposes the feeds. */
export async function runSession(session: ort.InferenceSession, inputs: readonly RunnerInput[]): Promise<Float32Array> {
  const feeds = Object.fromEntries(inputs.map((t) => [t.name, new ort.Tensor('float32', t.data, t.dims)]));
  try {
    return (await session.run(feeds))[ONNX_IO.image].data as Float32Array;
  } finally {
    for (const t of Object.values(feeds)) t.dispose();
  }
}

async function openInThread(model: Uint8Array, options: ort.InferenceSession.SessionOptions): Promise<SessionRunner> {
  const session = await ort.InferenceSession.create(model, options);
  return {
    run: (inputs) => runSession(session, inputs),
    release: () => session.release(),
  };
}

/** What the host sends the ort worker to open a session. */
export interface OrtWorkerOpen {
  readonly model: Uint8Array;
  readonly options: ort.InferenceSession.SessionOptions;
}

async function openInWorker(model: Uint8Array, options: ort.InferenceSession.SessionOptions): Promise<SessionRunner> {
  // The ~200 MB of model bytes move to the worker without a copy.
  const modelBuffer = wholeBuffer(model);
  const handle = await startWorker<OrtWorkerOpen, true, readonly RunnerInput[], Float32Array>(
    new URL('./ort-worker.js', import.meta.url),
    { model, options },
    modelBuffer ? [modelBuffer] : [],
  );
  return {
    run(inputs) {
      // Compact copies (a few KB): the caller keeps its arrays, and a view into a larger buffer
      // would otherwise clone that whole buffer.
      const owned = inputs.map((t) => ({ ...t, data: t.data.slice() }));
      return handle.run(
        owned,
        owned.map((t) => t.data.buffer as ArrayBuffer),
      );
    },
    release: () => handle.close(),
  };
}
