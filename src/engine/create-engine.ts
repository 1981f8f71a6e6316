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
  readonly backend?: string | undefined;
  /** Intra-op threads (ort); default all cores. */
  readonly threads?: number | undefined;
  /** Where a fallback (ort cannot load, so tfjs serves) is explained; default `console.warn`. */
  readonly warn?: ((message: string) => void) | undefined;
  /** Why onnxruntime-node cannot be used here, or undefined when it can (tests inject a failure). */
  readonly ortUnusable?: () => Promise<string | undefined>;
}

/** The default ort check: imports onnxruntime-node and creates a trivial CPU session. */
async function ortUnusableHere(): Promise<string | undefined> {
  try {
    const ort = await import('./ort/ort-engine.js');
    return (await ort.ortAvailable()) ? undefined : 'creating a CPU session failed';
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** Which engine `auto` means for a given backend request. */
function resolveEngineName(choice: EngineChoice, backend: string | undefined): EngineChoice {
  if (choice !== 'auto' || backend === undefined) return choice;
  if (backend === 'tensorflow' || backend === 'wasm') return 'tfjs';
  if (backend === 'cuda' || backend === 'tensorrt') return 'ort';
  return 'auto';
}

/**
 * Creates the requested engine over folded weights. With `auto`, an ort that cannot load falls
 * back to tfjs with a warning naming the reason (and keeps a `--backend` tfjs understands); an
 * explicit `ort` fails instead.
 */
export async function createEngine(folded: FoldedGenerator, opts: EngineOptions = {}): Promise<Engine> {
  const choice = opts.engine ?? 'auto';
  if (!isOneOf(ENGINE_CHOICES, choice)) {
    throw new BigGanError(
      'INVALID_CONFIG',
      `engine: unknown engine '${choice}'; allowed: ${ENGINE_CHOICES.join(', ')}`,
    );
  }
  const name = resolveEngineName(choice, opts.backend);
  if (name === 'tfjs') {
    if (opts.backend !== undefined && !isOneOf(TFJS_BACKENDS, opts.backend)) {
      throw new BigGanError(
        'INVALID_CONFIG',
        `backend: '${opts.backend}' is not a tfjs backend; allowed: ${TFJS_BACKENDS.join(', ')}`,
      );
    }
    const { createTfjsEngine } = await import('./tfjs/tfjs-engine.js');
    return createTfjsEngine(folded, { backend: opts.backend });
  }
  const provider = opts.backend;
  if (provider !== undefined && !isOneOf(EXECUTION_PROVIDERS, provider)) {
    throw new BigGanError(
      'INVALID_CONFIG',
      `backend: '${provider}' is not an ONNX Runtime execution provider; allowed: ${EXECUTION_PROVIDERS.join(', ')}`,
    );
  }
  const unusable = await (opts.ortUnusable ?? ortUnusableHere)();
  if (unusable !== undefined) {
    if (name === 'ort')
      throw new BigGanError(
        'INVALID_CONFIG',
        `engine: --engine ort was asked for, but onnxruntime-node is not usable here (${unusable})`,
      );
    const keep =
      opts.backend !== undefined && (TFJS_BACKENDS as readonly string[]).includes(opts.backend)
        ? opts.backend
        : undefined;
    const dropped =
      opts.backend !== undefined && keep === undefined
        ? `; --backend ${opts.backend} is not a tfjs backend and is ignored`
        : '';
    (opts.warn ?? console.warn)(
      `onnxruntime-node is not usable here (${unusable}); falling back to the tfjs engine, which is about 10x slower${dropped}`,
    );
    const { createTfjsEngine } = await import('./tfjs/tfjs-engine.js');
    return createTfjsEngine(folded, keep !== undefined ? { backend: keep } : {});
  }
  const ort = await import('./ort/ort-engine.js');
  return ort.createOrtEngine(folded, {
    warn: opts.warn,
    threads: opts.threads,
    executionProvider: provider ?? 'auto',
  });
}
