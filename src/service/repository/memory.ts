/**
 * Memory of a model and of the process: a footprint estimate from the config (weights plus
 * activations at the model's largest batch) and the default budget (80% of the container's cgroup
 * memory limit, else of the machine's memory). The estimate's constants were calibrated against
 * measured RSS of full-width random 128/256/512 models (docs/deployment.md, `npm run measure:models`).
 *
 * On a GPU the activations live in GPU memory, not in the process's host memory: the host
 * estimate (what --memory-budget counts) then holds weights and overhead only, and `gpuBytes`
 * estimates the device side (docs/gpu.md says how GPU memory is budgeted). The GPU constants are
 * not calibrated yet: no GPU has been measured.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { modulePlan, parameterCount, type BigGanConfig } from '../../model/config.js';

/**
 * Copies of the weights a loaded model holds: the folded float32 weights and the engine's copy
 * (ONNX Runtime keeps the graph's initializers and its own prepacked copy), minus what is freed
 * after session creation.
 */
export const WEIGHT_COPIES = 2.5;
/** Live float32 tensors of a block at its peak, relative to the block's output (input, residual, temporaries, arena slack). */
export const ACTIVATION_FACTOR = 3;
/** Fixed cost of a loaded model beyond weights and activations (worker thread, runtime, graph), bytes. */
export const MODEL_OVERHEAD_BYTES = 64 * 2 ** 20;

/** Largest float32 activation footprint of one sample in any generator block, bytes. */
export function activationBytesPerSample(c: BigGanConfig): number {
  let peak = 0;
  for (const m of modulePlan(c)) {
    // Output resolution of the module; every tensor of the block is counted at it (upper bound).
    const res = m.kind === 'block' ? (m.upsample ? m.inRes * 2 : m.inRes) : m.res;
    const elements =
      m.kind === 'block'
        ? m.inC * m.inRes * m.inRes + 2 * m.midC * res * res + m.outC * res * res
        : 3 * m.channels * res * res;
    peak = Math.max(peak, elements);
  }
  // The RGB output and the last feature map at full resolution.
  const last = c.layers[c.layers.length - 1][2] * c.channelWidth;
  peak = Math.max(peak, (last + 3) * c.outputDim * c.outputDim);
  return peak * 4;
}

/** Where a model computes: its activations live in host memory (cpu) or in GPU memory (gpu). */
export type ComputeDevice = 'cpu' | 'gpu';

/**
 * GPU memory a CUDA session holds beyond weights and activations: the CUDA context, cuDNN and
 * cuBLAS handles and workspaces, ORT's arena rounding. An allowance, not a measurement.
 */
export const GPU_OVERHEAD_BYTES = 1024 * 2 ** 20;

/** What loading a model is expected to cost, bytes, and its parts. */
export interface MemoryEstimate {
  /** Host memory held by copies of the weights. */
  readonly weightsBytes: number;
  /** Activations at the largest batch (in host memory on cpu, in GPU memory on gpu). */
  readonly activationBytes: number;
  /** Host memory of the loaded model: what --memory-budget counts. */
  readonly totalBytes: number;
  /** GPU memory of the loaded model (one device copy of the weights, activations, CUDA overhead); only on gpu. */
  readonly gpuBytes?: number;
}

/** Estimated memory of a loaded model serving batches of up to `maxBatchSize` samples on `device`. */
export function estimateModelMemory(
  c: BigGanConfig,
  maxBatchSize: number,
  device: ComputeDevice = 'cpu',
): MemoryEstimate {
  const weightsBytes = Math.round(parameterCount(c) * 4 * WEIGHT_COPIES);
  const activationBytes = Math.round(activationBytesPerSample(c) * maxBatchSize * ACTIVATION_FACTOR);
  if (device === 'cpu')
    return { weightsBytes, activationBytes, totalBytes: weightsBytes + activationBytes + MODEL_OVERHEAD_BYTES };
  const gpuBytes = parameterCount(c) * 4 + activationBytes + GPU_OVERHEAD_BYTES;
  return { weightsBytes, activationBytes, totalBytes: weightsBytes + MODEL_OVERHEAD_BYTES, gpuBytes };
}

/** Memory limit of this container's cgroup (v2, then v1), bytes; undefined when unlimited or unknown. */
export function cgroupMemoryLimit(read: (file: string) => string = (f) => readFileSync(f, 'utf8')): number | undefined {
  for (const file of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    let text: string;
    try {
      text = read(file).trim();
    } catch {
      continue;
    }
    if (!/^\d+$/.test(text)) return undefined; // "max": no limit
    const bytes = Number(text);
    // cgroup v1 reports "no limit" as a huge page-aligned number.
    return bytes > 0 && bytes < 2 ** 60 ? bytes : undefined;
  }
  return undefined;
}

/** Default --memory-budget: 80% of the cgroup limit when there is one below the machine's memory, else of the machine's memory. */
export function defaultMemoryBudget(limit = cgroupMemoryLimit(), total = os.totalmem()): number {
  const base = limit !== undefined && limit < total ? limit : total;
  return Math.floor(base * 0.8);
}

/** Bytes as MiB/GiB text for messages. */
export function formatBytes(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(2)} GiB` : `${Math.round(bytes / 2 ** 20)} MiB`;
}

/**
 * GPU memory is not a --memory-budget: one process owns GPU 0 and every model it loads makes its
 * own CUDA session there. These are the warnings when the models' GPU estimates exceed the
 * device's memory (they are uncalibrated, so a warning with the fix, not a refusal).
 */
export function gpuMemoryWarnings(
  models: readonly { name: string; memory: MemoryEstimate }[],
  deviceBytes: number | undefined,
): string[] {
  const onGpu = models.filter((m) => m.memory.gpuBytes !== undefined);
  if (deviceBytes === undefined || onGpu.length === 0) return [];
  const out: string[] = [];
  let sum = 0;
  for (const m of onGpu) {
    const need = m.memory.gpuBytes ?? 0;
    sum += need;
    if (need <= deviceBytes) continue;
    out.push(
      `model ${m.name} needs an estimated ${formatBytes(need)} of GPU memory, more than GPU 0 has ` +
        `(${formatBytes(deviceBytes)}); lower its maxBatchSize in serving.json`,
    );
  }
  if (onGpu.length > 1 && sum > deviceBytes) {
    out.push(
      `the ${onGpu.length} models need an estimated ${formatBytes(sum)} of GPU memory together, more than GPU 0 ` +
        `has (${formatBytes(deviceBytes)}); load fewer at once or lower their maxBatchSize`,
    );
  }
  return out;
}
