/**
 * Where a model will compute, decided before any engine loads, so that batch defaults and the
 * memory estimate can follow it (see service/repository/memory.ts): `gpu` when an explicit GPU
 * backend is asked for, or when `auto` would pick one (the same plan the ort engine makes).
 * A GPU attempt that then fails and falls back to the CPU keeps the GPU defaults: docs/gpu.md.
 */
import { createRequire } from 'node:module';
import { planExecutionProvider, systemProbes, type ExecutionProviderProbes } from './ort/execution-provider.js';
import type { EngineChoice } from './choices.js';

export type ComputeDevice = 'cpu' | 'gpu';

/** Whether @tensorflow/tfjs-node-gpu is installed (resolvable; not loaded). */
function tfjsNodeGpuInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('@tensorflow/tfjs-node-gpu');
    return true;
  } catch {
    return false;
  }
}

/** The device `--engine` / `--backend` will compute on here. */
export function expectedDevice(
  engine: EngineChoice,
  backend: string | undefined,
  probes: ExecutionProviderProbes = systemProbes,
): ComputeDevice {
  if (backend === 'cuda' || backend === 'tensorrt') return 'gpu';
  if (engine === 'tfjs' || backend === 'tensorflow') {
    return (backend === undefined || backend === 'tensorflow') && probes.gpuVisible() && tfjsNodeGpuInstalled()
      ? 'gpu'
      : 'cpu';
  }
  if (backend !== undefined) return 'cpu';
  // ort or auto without a backend: what the ort engine's own plan starts with.
  return planExecutionProvider('auto', probes).attempts[0].provider === 'cpu' ? 'cpu' : 'gpu';
}
