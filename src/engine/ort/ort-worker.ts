/**
 * Worker-thread side of the ort engine. onnxruntime-node's `session.run` executes synchronously on
 * the calling thread, so a batch would block the service's event loop (HTTP, gRPC, metrics, health
 * probes) for its whole duration (about 1 s at batch 16 on 2 cores); here it blocks this worker.
 */
import * as ort from 'onnxruntime-node';
import { serveWorker, wholeBuffer } from '../worker-host.js';
import { collectGarbage } from '../collect-garbage.js';
import { runSession, type OrtWorkerOpen, type RunnerInput } from './session-runner.js';

let session: ort.InferenceSession | undefined;

serveWorker<OrtWorkerOpen, true, readonly RunnerInput[], Float32Array>({
  async open({ model, options }) {
    session = await ort.InferenceSession.create(model, options);
    // ORT copied the initializers: the ~200 MB of model bytes are dead once this message is
    // done with. This thread then only runs batches (too few allocations for V8 to collect on
    // its own), so collect once, after the open returns.
    setImmediate(collectGarbage);
    return true;
  },
  async run(inputs) {
    if (!session) throw new Error('no session');
    const data = await runSession(session, inputs);
    // Hand the output buffer over without a copy when it owns its whole ArrayBuffer.
    const buffer = wholeBuffer(data);
    return { result: data, transfer: buffer ? [buffer] : [] };
  },
  async close() {
    await session?.release();
    session = undefined;
  },
});
