/**
 * Memory of a model and of the process: a footprint estimate from the config (weights plus
 * activations at the model's largest batch) and the default budget (80% of the container's cgroup
 * memory limit, else of the machine's memory). The estimate's constants were calibrated against
 * measured RSS of full-width random 128/256/512 models (docs/deployment.md, `npm run measure:models`).
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
    const elements = m.kind === 'block'
      ? m.inC * m.inRes * m.inRes + 2 * m.midC * res * res + m.outC * res * res
      : 3 * m.channels * res * res;
    peak = Math.max(peak, elements);
  }
  // The RGB output and the last feature map at full resolution.
  const last = c.layers[c.layers.length - 1][2] * c.channelWidth;
  peak = Math.max(peak, (last + 3) * c.outputDim * c.outputDim);
  return peak * 4;
}

/** What loading a model is expected to cost, bytes, and its parts. */
export interface MemoryEstimate {
  readonly weightsBytes: number;
  readonly activationBytes: number;
  readonly totalBytes: number;
}

/** Estimated resident memory of a loaded model serving batches of up to `maxBatchSize` samples. */
export function estimateModelMemory(c: BigGanConfig, maxBatchSize: number): MemoryEstimate {
  const weightsBytes = Math.round(parameterCount(c) * 4 * WEIGHT_COPIES);
  const activationBytes = Math.round(activationBytesPerSample(c) * maxBatchSize * ACTIVATION_FACTOR);
  return { weightsBytes, activationBytes, totalBytes: weightsBytes + activationBytes + MODEL_OVERHEAD_BYTES };
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
