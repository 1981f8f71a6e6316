/**
 * Loading a model folder end to end: config.json + weights (format detected by content),
 * validated against the config, spectral norm folded in place. Measures time and memory.
 */
import { loadModelFolder } from '../weights/read.js';
import { foldGenerator, type FoldedGenerator } from './folded-weights.js';
import type { WeightFormat } from '../weights/state-dict.js';

/** A loaded, folded model and how loading went. */
export interface LoadedModel {
  readonly folded: FoldedGenerator;
  readonly format: WeightFormat;
  readonly weightFile: string;
  /** Wall time to read, validate and fold, in ms. */
  readonly loadMs: number;
}

/** Reads `dir` (config.json + model.safetensors or pytorch_model.bin) and folds the weights. */
export async function loadModel(dir: string): Promise<LoadedModel> {
  const t0 = performance.now();
  const { config, format, tensors, weightFile } = await loadModelFolder(dir);
  const folded = foldGenerator(config, tensors);
  return { folded, format, weightFile, loadMs: performance.now() - t0 };
}
