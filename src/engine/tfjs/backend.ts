/**
 * Choosing and initialising the TensorFlow.js backend.
 *
 * Preference (fastest first): `tensorflow` from @tensorflow/tfjs-node-gpu when installed and a GPU
 * is visible, else `tensorflow` from @tensorflow/tfjs-node, else `wasm` (SIMD; tfjs 4.22 runs it
 * single-threaded in Node), else the pure-JS `cpu` backend. The two native packages are optional
 * dependencies: they cannot install on machines without internet, so every import is guarded.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { BigGanError } from '../../errors.js';
import { TFJS_BACKENDS, isOneOf, type TfjsBackendName } from '../choices.js';
import { gpuVisible } from '../gpu.js';
import { importTfjsNative } from './node-compat.js';

/** What was chosen, for logs, /v1/models and the model_info metric. */
export interface TfjsBackendChoice {
  readonly backend: TfjsBackendName;
  /** The package that provides it, e.g. `@tensorflow/tfjs-node-gpu`. */
  readonly provider: string;
  /** Why the preferred backends were skipped (empty when the first choice worked). */
  readonly skipped: readonly string[];
}

const require = createRequire(import.meta.url);

async function tryNative(pkg: string): Promise<string | undefined> {
  try {
    await importTfjsNative(pkg); // with util.isNullOrUndefined restored first (Node 23+)
    if (!tf.findBackend('tensorflow')) return `${pkg} loaded but registered no 'tensorflow' backend`;
    await tf.setBackend('tensorflow');
    await tf.ready();
    return undefined;
  } catch (err) {
    return `${pkg}: ${(err as Error).message.split('\n')[0]}`;
  }
}

async function tryWasm(): Promise<string | undefined> {
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // In Node the .wasm binaries are read from the package's dist folder.
    const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
    wasm.setWasmPaths(dist + path.sep);
    // The Emscripten module installs process-wide 'uncaughtException'/'unhandledRejection'
    // listeners that rethrow from inside its minified source (printing all of it). Node's own
    // defaults already crash on both, so drop the listeners it adds.
    const before = { ue: process.listeners('uncaughtException'), ur: process.listeners('unhandledRejection') };
    await tf.setBackend('wasm');
    await tf.ready();
    for (const l of process.listeners('uncaughtException'))
      if (!before.ue.includes(l)) process.removeListener('uncaughtException', l);
    for (const l of process.listeners('unhandledRejection'))
      if (!before.ur.includes(l)) process.removeListener('unhandledRejection', l);
    return undefined;
  } catch (err) {
    return `@tensorflow/tfjs-backend-wasm: ${(err as Error).message.split('\n')[0]}`;
  }
}

async function tryCpu(): Promise<string | undefined> {
  try {
    await import('@tensorflow/tfjs-backend-cpu');
    await tf.setBackend('cpu');
    await tf.ready();
    return undefined;
  } catch (err) {
    return `@tensorflow/tfjs-backend-cpu: ${(err as Error).message.split('\n')[0]}`;
  }
}

let chosen: Promise<TfjsBackendChoice> | undefined;
let chosenFor: string | undefined;

/**
 * Initialises the best available backend, or `requested` when given (an unavailable requested
 * backend is an error, not a silent fallback). tfjs has one global backend per process, so the
 * choice is made once; asking again for a different backend is an error.
 */
export function initTfjsBackend(requested?: string): Promise<TfjsBackendChoice> {
  const key = requested ?? 'auto';
  if (chosen) {
    if (requested === undefined || key === chosenFor) return chosen;
    return chosen.then((c) => {
      if (c.backend === requested) return c;
      throw new BigGanError(
        'INVALID_CONFIG',
        `tfjs backend is already '${c.backend}' in this process; cannot switch to '${requested}'`,
      );
    });
  }
  chosenFor = key;
  chosen = chooseBackend(requested);
  chosen.catch(() => {
    chosen = undefined; // allow a retry with another backend after a failed explicit request
  });
  return chosen;
}

async function chooseBackend(requested?: string): Promise<TfjsBackendChoice> {
  // Production mode: skips per-op debug checks and the cpu backend's "install tfjs-node" banner.
  tf.enableProdMode();
  if (requested !== undefined && !isOneOf(TFJS_BACKENDS, requested)) {
    throw new BigGanError(
      'INVALID_CONFIG',
      `backend: unknown tfjs backend '${requested}'; allowed: ${TFJS_BACKENDS.join(', ')}`,
    );
  }
  const skipped: string[] = [];
  const attempts: { backend: TfjsBackendName; provider: string; run: () => Promise<string | undefined> }[] = [];
  if (requested === undefined || requested === 'tensorflow') {
    if (gpuVisible())
      attempts.push({
        backend: 'tensorflow',
        provider: '@tensorflow/tfjs-node-gpu',
        run: () => tryNative('@tensorflow/tfjs-node-gpu'),
      });
    else skipped.push('@tensorflow/tfjs-node-gpu: no GPU visible');
    attempts.push({
      backend: 'tensorflow',
      provider: '@tensorflow/tfjs-node',
      run: () => tryNative('@tensorflow/tfjs-node'),
    });
  }
  if (requested === undefined || requested === 'wasm')
    attempts.push({ backend: 'wasm', provider: '@tensorflow/tfjs-backend-wasm', run: tryWasm });
  if (requested === undefined || requested === 'cpu')
    attempts.push({ backend: 'cpu', provider: '@tensorflow/tfjs-backend-cpu', run: tryCpu });
  for (const a of attempts) {
    const why = await a.run();
    if (why === undefined) return { backend: a.backend, provider: a.provider, skipped };
    skipped.push(why);
  }
  throw new BigGanError(
    'INVALID_CONFIG',
    `no usable tfjs backend${requested ? ` '${requested}'` : ''}: ${skipped.join('; ')}`,
  );
}
