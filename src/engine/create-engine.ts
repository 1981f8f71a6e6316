/**
 * Picks and creates an engine: `ort` (ONNX Runtime, fastest on CPU and with CUDA) or `tfjs`
 * (TensorFlow.js: tfjs-node-gpu, tfjs-node, wasm or cpu). `auto` takes ort when it loads.
 */
import type { Engine } from './engine.js';
import type { FoldedGenerator } from '../model/folded-weights.js';
import { BigGanError } from '../errors.js';
import { ENGINE_CHOICES, EXECUTION_PROVIDERS, TFJS_BACKENDS, isOneOf, type EngineChoice } from './choices.js';

/** Options shared by every engine. */
export interface EngineOptions {
  readonly engine?: EngineChoice;
  /** tfjs backend (tensorflow|wasm|cpu) or ort execution provider (cpu|cuda|tensorrt). */
  readonly backend?: string;
  /** Intra-op threads (ort); default all cores. */
  readonly threads?: number;
}

/** Which engine `auto` means for a given backend request. */
function resolveEngineName(choice: EngineChoice, backend: string | undefined): EngineChoice {
  if (choice !== 'auto' || backend === undefined) return choice;
  if (backend === 'tensorflow' || backend === 'wasm') return 'tfjs';
  if (backend === 'cuda' || backend === 'tensorrt') return 'ort';
  return 'auto';
}

/** Creates the requested engine over folded weights; logs nothing (the caller reports the choice). */
export async function createEngine(folded: FoldedGenerator, opts: EngineOptions = {}): Promise<Engine> {
  const choice = opts.engine ?? 'auto';
  if (!isOneOf(ENGINE_CHOICES, choice)) {
    throw new BigGanError('INVALID_CONFIG', `engine: unknown engine '${choice}'; allowed: ${ENGINE_CHOICES.join(', ')}`);
  }
  const name = resolveEngineName(choice, opts.backend);
  if (name === 'tfjs') {
    if (opts.backend !== undefined && !isOneOf(TFJS_BACKENDS, opts.backend)) {
      throw new BigGanError('INVALID_CONFIG', `backend: '${opts.backend}' is not a tfjs backend; allowed: ${TFJS_BACKENDS.join(', ')}`);
    }
    const { createTfjsEngine } = await import('./tfjs/tfjs-engine.js');
    return createTfjsEngine(folded, { backend: opts.backend });
  }
  const provider = opts.backend;
  if (provider !== undefined && !isOneOf(EXECUTION_PROVIDERS, provider)) {
    throw new BigGanError('INVALID_CONFIG', `backend: '${provider}' is not an ONNX Runtime execution provider; allowed: ${EXECUTION_PROVIDERS.join(', ')}`);
  }
  const ort = await import('./ort/ort-engine.js').catch((err: Error) => err);
  if (ort instanceof Error || !(await ort.ortAvailable())) {
    if (name === 'ort') throw new BigGanError('INVALID_CONFIG', `engine: onnxruntime-node is not usable here (${ort instanceof Error ? ort.message : 'session creation failed'})`);
    const { createTfjsEngine } = await import('./tfjs/tfjs-engine.js');
    return createTfjsEngine(folded, {});
  }
  return ort.createOrtEngine(folded, {
    ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
    executionProvider: provider ?? 'auto',
  });
}
