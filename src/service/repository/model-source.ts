/**
 * Finding the models a process serves: every subfolder of a repository holding a `config.json`
 * (named after its folder), or named model folders. Each model's batching settings come from an
 * optional `serving.json` beside its config, defaulting by resolution.
 */
import { readFileSync, readdirSync, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseConfig, type BigGanConfig } from '../../model/config.js';
import { findWeightFile } from '../../weights/read.js';
import { filesDigest } from '../../weights/file-digest.js';
import { BigGanError } from '../../errors.js';
import { estimateModelMemory, type ComputeDevice, type MemoryEstimate } from './memory.js';

/** One model's batcher settings (Triton's names). */
export interface ServingSettings {
  readonly maxBatchSize: number;
  readonly maxQueueDelayMs: number;
  readonly maxQueueSize: number;
}

/** A model found on disk, before it is loaded. */
export interface ModelSource {
  /** The folder's name, e.g. `biggan-deep-256`. */
  readonly name: string;
  readonly dir: string;
  readonly config: BigGanConfig;
  readonly weightFile: string;
  /** SHA-256 of config and weights: the response cache's keys include it. */
  readonly digest: string;
  readonly serving: ServingSettings;
  /** Where `serving` came from: `serving.json` or `default`. */
  readonly servingFrom: 'serving.json' | 'default';
  readonly memory: MemoryEstimate;
}

/**
 * Settings for a model without serving.json: the server's flags (which describe a 128 model)
 * with the batch scaled down by resolution on the CPU, since a 256 sample holds 4x and a 512 one
 * 16x the activations of a 128 one and a 512 batch of 2 already keeps every core busy. On a GPU
 * the flags are taken as they are: big batches are what keep a GPU busy, and its memory is
 * budgeted separately (docs/gpu.md).
 */
export function defaultServing(resolution: number, base: ServingSettings, device: ComputeDevice = 'cpu'): ServingSettings {
  if (device === 'gpu') return { ...base };
  const scale = Math.max(1, resolution / 128);
  return { maxBatchSize: Math.max(1, Math.floor(base.maxBatchSize / scale)), maxQueueDelayMs: base.maxQueueDelayMs, maxQueueSize: base.maxQueueSize };
}

const SERVING_KEYS: readonly (keyof ServingSettings)[] = ['maxBatchSize', 'maxQueueDelayMs', 'maxQueueSize'];

/** Reads `<dir>/serving.json` over the defaults; any unknown key or bad value is refused with the file named. */
export function readServing(dir: string, defaults: ServingSettings): { serving: ServingSettings; from: 'serving.json' | 'default' } {
  const file = path.join(dir, 'serving.json');
  if (!existsSync(file)) return { serving: defaults, from: 'default' };
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new BigGanError('INVALID_CONFIG', `${file}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new BigGanError('INVALID_CONFIG', `${file}: must be a JSON object with ${SERVING_KEYS.join(', ')}`);
  const out: Record<string, number> = { ...defaults };
  for (const [key, value] of Object.entries(raw)) {
    if (!SERVING_KEYS.includes(key as keyof ServingSettings)) throw new BigGanError('INVALID_CONFIG', `${file}: unknown key ${JSON.stringify(key)}; allowed: ${SERVING_KEYS.join(', ')}`);
    const integer = key !== 'maxQueueDelayMs';
    if (typeof value !== 'number' || !Number.isFinite(value) || value < (integer ? 1 : 0) || (integer && !Number.isInteger(value))) {
      throw new BigGanError('INVALID_CONFIG', `${file}: ${key} must be a${integer ? ' positive integer' : ' number >= 0'}, got ${JSON.stringify(value)}`);
    }
    out[key] = value;
  }
  return { serving: { maxBatchSize: out.maxBatchSize, maxQueueDelayMs: out.maxQueueDelayMs, maxQueueSize: out.maxQueueSize }, from: 'serving.json' };
}

/** Reads one model folder (config, weight file, digest, settings, estimate); the weights are not loaded. */
export async function readModelSource(name: string, dir: string, base: ServingSettings, device: ComputeDevice = 'cpu'): Promise<ModelSource> {
  const configPath = path.join(dir, 'config.json');
  let config: BigGanConfig;
  try {
    config = parseConfig(JSON.parse(readFileSync(configPath, 'utf8')));
  } catch (err) {
    throw new BigGanError('INVALID_CONFIG', `model ${name}: ${configPath}: ${(err as Error).message}`, { cause: err });
  }
  const weightFile = await findWeightFile(dir);
  const { serving, from } = readServing(dir, defaultServing(config.outputDim, base, device));
  const digest = await filesDigest([configPath, weightFile]);
  return { name, dir, config, weightFile, digest, serving, servingFrom: from, memory: estimateModelMemory(config, serving.maxBatchSize, device) };
}

/** The model folders of a repository: subfolders holding config.json, by name, sorted. */
export function repositoryFolders(root: string): { name: string; dir: string }[] {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch (err) {
    throw new BigGanError('INVALID_CONFIG', `--model-repository ${root}: ${(err as Error).message}`, { cause: err });
  }
  const found = names
    .filter((n) => !n.startsWith('.'))
    .map((n) => ({ name: n, dir: path.join(root, n) }))
    .filter((m) => statSync(m.dir).isDirectory() && existsSync(path.join(m.dir, 'config.json')))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (found.length === 0) throw new BigGanError('INVALID_CONFIG', `--model-repository ${root}: no model folders (a model is a subfolder holding config.json and its weights)`);
  return found;
}
