/**
 * Worker-thread side of the ort engine. onnxruntime-node's `session.run` executes synchronously on
 * the calling thread, so a batch would block the service's event loop (HTTP, gRPC, metrics, health
 * probes) for its whole duration (about 1 s at batch 16 on 2 cores); here it blocks this worker.
 */
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { ONNX_IO } from './graph-builder.js';

/** Messages from the engine to the worker. */
export type WorkerRequest =
  | { readonly kind: 'open'; readonly model: Uint8Array; readonly options: ort.InferenceSession.SessionOptions }
  | {
      readonly kind: 'run';
      readonly id: number;
      /** [B, zDim], [B, numClasses], [B, nStats] with their dims. */
      readonly inputs: readonly { readonly name: string; readonly data: Float32Array; readonly dims: readonly number[] }[];
    }
  | { readonly kind: 'close' };

/** Messages from the worker to the engine. */
export type WorkerReply =
  | { readonly kind: 'opened' }
  | { readonly kind: 'open-failed'; readonly message: string }
  | { readonly kind: 'result'; readonly id: number; readonly data: Float32Array }
  | { readonly kind: 'error'; readonly id: number; readonly message: string }
  | { readonly kind: 'closed' };

const port = parentPort;
let session: ort.InferenceSession | undefined;

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

async function handle(req: WorkerRequest): Promise<void> {
  if (!port) return;
  switch (req.kind) {
    case 'open':
      try {
        session = await ort.InferenceSession.create(req.model, req.options);
        port.postMessage({ kind: 'opened' } satisfies WorkerReply);
      } catch (err) {
        port.postMessage({ kind: 'open-failed', message: message(err) } satisfies WorkerReply);
      }
      return;
    case 'run': {
      const feeds = Object.fromEntries(req.inputs.map((t) => [t.name, new ort.Tensor('float32', t.data, t.dims)]));
      try {
        if (!session) throw new Error('no session');
        const out = (await session.run(feeds))[ONNX_IO.image];
        const data = out.data as Float32Array;
        // Hand the output buffer over without a copy when it owns its whole ArrayBuffer.
        const transferable = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer;
        port.postMessage({ kind: 'result', id: req.id, data } satisfies WorkerReply, transferable ? [data.buffer as ArrayBuffer] : []);
      } catch (err) {
        port.postMessage({ kind: 'error', id: req.id, message: message(err) } satisfies WorkerReply);
      } finally {
        for (const t of Object.values(feeds)) t.dispose();
      }
      return;
    }
    case 'close':
      await session?.release();
      session = undefined;
      port.postMessage({ kind: 'closed' } satisfies WorkerReply);
      port.close();
      return;
  }
}

// Requests arrive one at a time (the engine serialises runs), so handling them in order suffices.
let chain: Promise<void> = Promise.resolve();
port?.on('message', (req: WorkerRequest) => {
  chain = chain.then(() => handle(req));
});
