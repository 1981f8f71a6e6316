/**
 * Choosing the ONNX Runtime execution provider. onnxruntime-node ships the CPU provider; the CUDA
 * and TensorRT providers are separate shared libraries that its postinstall downloads only when
 * asked (`ONNXRUNTIME_NODE_INSTALL=cuda12`). The decision itself is a pure function over injectable
 * probes, so it is testable on a machine without a GPU.
 */
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { BigGanError } from '../../errors.js';
import { EXECUTION_PROVIDERS, isOneOf, type ExecutionProvider } from '../choices.js';
import { gpuVisible } from '../gpu.js';

export type { ExecutionProvider } from '../choices.js';
/** What a user may ask for. */
export type ExecutionProviderChoice = 'auto' | ExecutionProvider;

/** Facts about this machine that the decision needs. */
export interface ExecutionProviderProbes {
  /** File names in onnxruntime-node's native bin folder (empty when it cannot be read). */
  providerLibraries(): readonly string[];
  /** Whether an NVIDIA GPU is visible to this process. */
  gpuVisible(): boolean;
  /** The folder holding the provider libraries (default: onnxruntime-node's; tests point it at stubs). */
  providerFolder?(): string | undefined;
}

/** The plan: session attempts in order, each with the ORT provider list to pass. */
export interface ExecutionProviderPlan {
  readonly attempts: readonly { readonly provider: ExecutionProvider; readonly ortProviders: readonly string[] }[];
  /** Why the first attempt was chosen (for logs). */
  readonly reason: string;
}

/**
 * The provider list an ORT session is created with for each choice. The CPU provider always
 * comes last: ORT places nodes a GPU provider cannot run there.
 */
const SESSION_PROVIDERS: Record<ExecutionProvider, readonly string[]> = {
  cpu: ['cpu'],
  cuda: ['cuda', 'cpu'],
  tensorrt: ['tensorrt', 'cuda', 'cpu'],
};

export const CUDA_LIBRARY = 'libonnxruntime_providers_cuda.so';
export const TENSORRT_LIBRARY = 'libonnxruntime_providers_tensorrt.so';

/** The provider library a GPU provider loads (CPU has none). */
export function providerLibraryOf(provider: ExecutionProvider): string | undefined {
  return provider === 'cuda' ? CUDA_LIBRARY : provider === 'tensorrt' ? TENSORRT_LIBRARY : undefined;
}

const INSTALL_HINT =
  'reinstall onnxruntime-node with its CUDA providers (`ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci`, needs internet) ' +
  'and provide the CUDA 12 and cuDNN 9 runtime libraries (TensorRT 10 too for tensorrt)';

/**
 * Decides which sessions to try. `auto` picks CUDA when the provider library is installed and a
 * GPU is visible, with CPU as the fallback; it never picks TensorRT by itself, because TensorRT
 * builds its engine at session creation (minutes) and needs its own libraries. An explicit GPU
 * choice that cannot work is a configuration error, not a silent fallback.
 */
export function planExecutionProvider(
  choice: ExecutionProviderChoice,
  probes: ExecutionProviderProbes,
): ExecutionProviderPlan {
  const attempt = (provider: ExecutionProvider) => ({ provider, ortProviders: SESSION_PROVIDERS[provider] });
  if (choice === 'cpu') return { attempts: [attempt('cpu')], reason: 'cpu requested' };
  if (choice !== 'auto' && !isOneOf(EXECUTION_PROVIDERS, choice)) {
    throw new BigGanError(
      'INVALID_CONFIG',
      `backend: unknown ONNX Runtime execution provider '${String(choice)}'; allowed: auto, ${EXECUTION_PROVIDERS.join(', ')}`,
    );
  }
  const libs = probes.providerLibraries();
  const library = choice === 'tensorrt' ? TENSORRT_LIBRARY : CUDA_LIBRARY;
  const hasLibrary = libs.includes(library) && libs.includes(CUDA_LIBRARY);
  const gpu = hasLibrary && probes.gpuVisible(); // probe the GPU only when it could matter
  if (choice === 'auto') {
    if (!hasLibrary) return { attempts: [attempt('cpu')], reason: `cpu: onnxruntime-node has no ${CUDA_LIBRARY}` };
    if (!gpu)
      return {
        attempts: [attempt('cpu')],
        reason: 'cpu: no NVIDIA GPU visible (/dev/nvidia0, /proc/driver/nvidia/gpus)',
      };
    return {
      attempts: [attempt('cuda'), attempt('cpu')],
      reason: 'cuda: provider library installed and a GPU is visible',
    };
  }
  if (!hasLibrary) {
    throw new BigGanError(
      'INVALID_CONFIG',
      `backend: ${choice} requested, but onnxruntime-node has no ${library}; ${INSTALL_HINT}`,
    );
  }
  if (!gpu) {
    throw new BigGanError(
      'INVALID_CONFIG',
      `backend: ${choice} requested, but no NVIDIA GPU is visible (no /dev/nvidia0, /proc/driver/nvidia/gpus empty)`,
    );
  }
  return { attempts: [attempt(choice)], reason: `${choice} requested` };
}

/** onnxruntime-node's native folder for this platform (where the postinstall puts provider libraries). */
export function ortBinFolder(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    const pkg = dirname(require.resolve('onnxruntime-node/package.json'));
    return join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return undefined;
  }
}

/** The real probes of this machine. */
export const systemProbes: ExecutionProviderProbes = {
  providerLibraries(): readonly string[] {
    const dir = ortBinFolder();
    try {
      return dir ? readdirSync(dir) : [];
    } catch {
      return [];
    }
  },
  gpuVisible,
  providerFolder: ortBinFolder,
};
