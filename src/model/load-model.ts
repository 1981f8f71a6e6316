/**
 * Loading a model folder end to end: config.json + weights (format detected by content),
 * validated against the config, spectral norm folded in place. Measures time and memory.
 * The weight readers (`weights/`) know files and tensors; which keys and shapes a BigGAN-deep
 * needs comes from the config, here.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BigGanError } from '../errors.js';
import { findWeightFile, readStateDict } from '../weights/read.js';
import type { StateDict, WeightFormat } from '../weights/state-dict.js';
import { validateStateDict } from '../weights/validate.js';
import { type BigGanConfig, expectedStateDict, parseConfig } from './config.js';
import { foldGenerator, type FoldedGenerator } from './folded-weights.js';

/**
 * Throws one INVALID_WEIGHTS error listing every key and shape of `sd` that does not fit `config`
 * and every tensor holding NaN or Inf. `source` (the weight file) prefixes the message.
 */
export function validateWeights(config: BigGanConfig, sd: StateDict, source = 'weights'): void {
  const model = `channel_width ${config.channelWidth}, ${config.layers.length} layers, ${config.outputDim} px`;
  validateStateDict(expectedStateDict(config), sd, source, `config.json (${model})`);
}

/** A model folder, loaded and checked. */
export interface ModelFolder {
  readonly config: BigGanConfig;
  readonly format: WeightFormat;
  readonly tensors: StateDict;
  readonly weightFile: string;
}

/** Reads `<dir>/config.json`, finds and reads the weight file, and validates the weights against the config. */
export async function loadModelFolder(dir: string): Promise<ModelFolder> {
  const configPath = join(dir, 'config.json');
  let text: string;
  try {
    text = await readFile(configPath, 'utf8');
  } catch (e) {
    throw new BigGanError('INVALID_CONFIG', `cannot read ${configPath}: ${(e as Error).message}`, { cause: e });
  }
  let config: BigGanConfig;
  try {
    config = parseConfig(JSON.parse(text));
  } catch (e) {
    const msg = (e as Error).message.replace(/^config\.json: /, '');
    throw new BigGanError(
      'INVALID_CONFIG',
      `${configPath}: ${e instanceof SyntaxError ? `not valid JSON (${msg})` : msg}`,
      { cause: e },
    );
  }
  const weightFile = await findWeightFile(dir);
  const { format, tensors } = await readStateDict(weightFile);
  validateWeights(config, tensors, weightFile);
  return { config, format, tensors, weightFile };
}

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
