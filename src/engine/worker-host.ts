/**
 * Running an engine in a worker thread. tfjs (wasm, cpu) and onnxruntime-node compute
 * synchronously on the calling thread; in a worker, a batch no longer blocks the service's event
 * loop (HTTP, gRPC, metrics, health probes). One small protocol for every engine:
 *
 *   host -> worker: open(payload) | run(id, payload) | close
 *   worker -> host: opened(info) | open-failed(message) | result(id, payload) | error(id, message) | closed
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker, parentPort } from 'node:worker_threads';
import { BigGanError } from '../errors.js';

type ToWorker<O, R> = { kind: 'open'; payload: O } | { kind: 'run'; id: number; payload: R } | { kind: 'close' };
type FromWorker<I, T> =
  | { kind: 'opened'; info: I }
  | { kind: 'open-failed'; message: string }
  | { kind: 'result'; id: number; payload: T }
  | { kind: 'error'; id: number; message: string }
  | { kind: 'closed' };

/** The host's handle on a started worker. */
export interface WorkerHandle<I, R, T> {
  /** What the worker answered to `open`. */
  readonly info: I;
  /** Runs one request; `transfer` lists buffers handed over without a copy. */
  run(payload: R, transfer?: ArrayBuffer[]): Promise<T>;
  /** Asks the worker to free its resources, then ends it. */
  close(): Promise<void>;
}

/** The worker script: the compiled .js beside `moduleUrl`, or the .ts source under tsx. */
function workerScript(moduleUrl: URL): { source: string | URL; evalCode: boolean } {
  if (existsSync(fileURLToPath(moduleUrl))) return { source: moduleUrl, evalCode: false };
  // From TypeScript sources (tsx): a worker does not inherit tsx's loader hooks, so a small
  // bootstrap registers them before importing the worker module.
  const ts = moduleUrl.href.replace(/\.js$/, '.ts');
  const api = import.meta.resolve('tsx/esm/api');
  return {
    source: `import(${JSON.stringify(api)}).then(({ register }) => { register(); return import(${JSON.stringify(ts)}); });`,
    evalCode: true,
  };
}

/**
 * Starts the worker module at `moduleUrl` (a `.js` URL) and opens it with `payload`. The worker
 * never keeps the process alive while idle.
 */
export async function startWorker<O, I, R, T>(
  moduleUrl: URL,
  payload: O,
  transfer: ArrayBuffer[] = [],
): Promise<WorkerHandle<I, R, T>> {
  const script = workerScript(moduleUrl);
  const worker = new Worker(script.source, { eval: script.evalCode });
  const pending = new Map<number, { resolve: (v: T) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let failure: Error | undefined;
  let onOpen: ((reply: FromWorker<I, T>) => void) | undefined;
  let onClosed: (() => void) | undefined;

  const fail = (err: Error) => {
    failure ??= err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
    onOpen?.({ kind: 'open-failed', message: err.message });
    onClosed?.();
  };
  worker.on('message', (reply: FromWorker<I, T>) => {
    if (reply.kind === 'opened' || reply.kind === 'open-failed') onOpen?.(reply);
    else if (reply.kind === 'closed') onClosed?.();
    else {
      const p = pending.get(reply.id);
      pending.delete(reply.id);
      if (pending.size === 0) worker.unref(); // an idle engine must not keep the process alive
      if (reply.kind === 'result') p?.resolve(reply.payload);
      else p?.reject(new Error(reply.message));
    }
  });
  // A dead worker (crash, out of memory) is UNAVAILABLE, not a bug in the request: its runs get
  // 503 / UNAVAILABLE and the supervisor (supervised-engine.ts) starts a new engine.
  worker.on('error', (err) =>
    fail(new BigGanError('UNAVAILABLE', `engine worker crashed: ${err.message}`, { cause: err })),
  );
  worker.on('exit', (code) => fail(new BigGanError('UNAVAILABLE', `engine worker exited (code ${code})`)));

  const opened = await new Promise<FromWorker<I, T>>((resolve) => {
    onOpen = resolve;
    worker.postMessage({ kind: 'open', payload } satisfies ToWorker<O, R>, transfer);
  });
  onOpen = undefined;
  if (opened.kind !== 'opened') {
    await worker.terminate();
    throw new Error(opened.kind === 'open-failed' ? opened.message : 'engine worker did not open');
  }
  worker.unref();

  return {
    info: opened.info,
    run(req: R, runTransfer: ArrayBuffer[] = []): Promise<T> {
      if (failure) return Promise.reject(failure);
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.ref(); // keep the process alive while a run is in flight
        worker.postMessage({ kind: 'run', id, payload: req } satisfies ToWorker<O, R>, runTransfer);
      });
    },
    async close(): Promise<void> {
      if (!failure) {
        worker.ref(); // keep the process alive until the worker has freed its resources
        await new Promise<void>((resolve) => {
          onClosed = resolve;
          worker.postMessage({ kind: 'close' } satisfies ToWorker<O, R>);
        });
      }
      await worker.terminate();
    },
  };
}

/** What a worker module implements; `serveWorker` wires it to the protocol. */
export interface WorkerImpl<O, I, R, T> {
  open(payload: O): Promise<I>;
  /** Returns the result and the buffers to transfer back. */
  run(payload: R): Promise<{ result: T; transfer?: ArrayBuffer[] }>;
  close(): Promise<void>;
}

/** Worker side: answers the host's requests one at a time, in order. */
export function serveWorker<O, I, R, T>(impl: WorkerImpl<O, I, R, T>): void {
  const port = parentPort;
  if (!port) return;
  const message = (err: unknown) => (err instanceof Error ? err.message : String(err));
  const handle = async (req: ToWorker<O, R>): Promise<void> => {
    switch (req.kind) {
      case 'open':
        try {
          port.postMessage({ kind: 'opened', info: await impl.open(req.payload) } satisfies FromWorker<I, T>);
        } catch (err) {
          port.postMessage({ kind: 'open-failed', message: message(err) } satisfies FromWorker<I, T>);
        }
        return;
      case 'run':
        try {
          const { result, transfer } = await impl.run(req.payload);
          port.postMessage({ kind: 'result', id: req.id, payload: result } satisfies FromWorker<I, T>, transfer ?? []);
        } catch (err) {
          port.postMessage({ kind: 'error', id: req.id, message: message(err) } satisfies FromWorker<I, T>);
        }
        return;
      case 'close':
        await impl.close();
        port.postMessage({ kind: 'closed' } satisfies FromWorker<I, T>);
        port.close();
        return;
    }
  };
  let chain: Promise<void> = Promise.resolve();
  port.on('message', (req: ToWorker<O, R>) => {
    chain = chain.then(() => handle(req));
  });
}

/** A buffer that can be transferred whole (the view covers all of it), else undefined. */
export function wholeBuffer(a: ArrayBufferView): ArrayBuffer | undefined {
  return a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && a.buffer instanceof ArrayBuffer
    ? a.buffer
    : undefined;
}
