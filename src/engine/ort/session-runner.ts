/**
 * Where the ONNX Runtime session lives: in this thread, or in a worker thread (ort-worker.ts) so
 * that a run does not block this thread's event loop. Both take the model bytes and give back
 * the image buffer; the engine above does not care which one it has.
 */
import * as ort from 'onnxruntime-node';
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ONNX_IO } from './graph-builder.js';
import type { WorkerReply, WorkerRequest } from './ort-worker.js';

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
export async function openSessionRunner(model: Uint8Array, options: ort.InferenceSession.SessionOptions, worker: boolean): Promise<SessionRunner> {
  return worker ? openInWorker(model, options) : openInThread(model, options);
}

async function openInThread(model: Uint8Array, options: ort.InferenceSession.SessionOptions): Promise<SessionRunner> {
  const session = await ort.InferenceSession.create(model, options);
  return {
    async run(inputs) {
      const feeds = Object.fromEntries(inputs.map((t) => [t.name, new ort.Tensor('float32', t.data, t.dims)]));
      try {
        return (await session.run(feeds))[ONNX_IO.image].data as Float32Array;
      } finally {
        for (const t of Object.values(feeds)) t.dispose();
      }
    },
    release: () => session.release(),
  };
}

/** The worker's script: the compiled .js next to this file, or the .ts source under tsx. */
function workerScript(): { readonly source: string | URL; readonly evalCode: boolean } {
  const js = new URL('./ort-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(js))) return { source: js, evalCode: false };
  // Running from TypeScript sources (tsx): a worker does not inherit tsx's loader hooks, so a
  // small bootstrap registers them before importing the worker module.
  const ts = new URL('./ort-worker.ts', import.meta.url).href;
  const api = import.meta.resolve('tsx/esm/api');
  return { source: `import(${JSON.stringify(api)}).then(({ register }) => { register(); return import(${JSON.stringify(ts)}); });`, evalCode: true };
}

async function openInWorker(model: Uint8Array, options: ort.InferenceSession.SessionOptions): Promise<SessionRunner> {
  const script = workerScript();
  const worker = new Worker(script.source, { eval: script.evalCode });
  const pending = new Map<number, { resolve: (data: Float32Array) => void; reject: (err: Error) => void }>();
  let nextId = 0;
  let failure: Error | undefined;
  let onOpen: ((reply: WorkerReply) => void) | undefined;
  let onClosed: (() => void) | undefined;

  const fail = (err: Error) => {
    failure ??= err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
    onOpen?.({ kind: 'open-failed', message: err.message });
    onClosed?.();
  };
  worker.on('message', (reply: WorkerReply) => {
    if (reply.kind === 'opened' || reply.kind === 'open-failed') onOpen?.(reply);
    else if (reply.kind === 'closed') onClosed?.();
    else {
      const p = pending.get(reply.id);
      pending.delete(reply.id);
      if (pending.size === 0) worker.unref(); // an idle engine must not keep the process alive
      if (reply.kind === 'result') p?.resolve(reply.data);
      else p?.reject(new Error(reply.message));
    }
  });
  worker.on('error', (err) => fail(err));
  worker.on('exit', (code) => fail(new Error(`onnxruntime worker exited (code ${code})`)));

  const opened = await new Promise<WorkerReply>((resolve) => {
    onOpen = resolve;
    // The ~200 MB of model bytes move to the worker without a copy.
    const req: WorkerRequest = { kind: 'open', model, options };
    worker.postMessage(req, model.byteOffset === 0 && model.byteLength === model.buffer.byteLength ? [model.buffer as ArrayBuffer] : []);
  });
  onOpen = undefined;
  if (opened.kind === 'open-failed') {
    await worker.terminate();
    throw new Error(opened.message);
  }
  worker.unref();

  return {
    run(inputs) {
      if (failure) return Promise.reject(failure);
      const id = nextId++;
      return new Promise<Float32Array>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.ref(); // keep the process alive while a run is in flight
        // Compact copies (a few KB): the caller keeps its arrays, and a view into a larger buffer
        // would otherwise clone that whole buffer.
        const owned = inputs.map((t) => ({ ...t, data: t.data.slice() }));
        const req: WorkerRequest = { kind: 'run', id, inputs: owned };
        worker.postMessage(req, owned.map((t) => t.data.buffer as ArrayBuffer));
      });
    },
    async release() {
      if (!failure) {
        worker.ref(); // keep the process alive until the worker has released the session
        await new Promise<void>((resolve) => {
          onClosed = resolve;
          worker.postMessage({ kind: 'close' } satisfies WorkerRequest);
        });
      }
      await worker.terminate();
    },
  };
}
