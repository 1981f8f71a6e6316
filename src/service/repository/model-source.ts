/**
 * Finding the models a process serves: every subfolder of a repository holding a `config.json`
 * (named after its folder), or named model folders. Each model's batching settings come from an
 * optional `serving.json` beside its config, defaulting by resolution.
 */
import { readFileSync, readdirSync, existsSync, statSync, lstatSync } from 'node:fs';
import path from 'node:path';
import { parseConfig, type BigGanConfig } from '../../model/config.js';
import { findWeightFile } from '../../weights/read.js';
import { filesDigest } from '../../weights/file-digest.js';
import { BigGanError } from '../../errors.js';
import { estimateModelMemory, type ComputeDevice, type MemoryEstimate } from './memory.js';
import { publicReason, type BrokenFolder } from './model-failures.js';

/** One model's batcher settings (Triton's names). */
export interface ServingSettings {
  readonly maxBatchSize: number;
  readonly maxQueueDelayMs: number;
  readonly maxQueueSize: number;
  /** Most predicted queue wait, ms (serving.json only; default from the measured batch time). */
  readonly maxQueueWaitMs?: number;
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
export function defaultServing(
  resolution: number,
  base: ServingSettings,
  device: ComputeDevice = 'cpu',
): ServingSettings {
  if (device === 'gpu') return { ...base };
  const scale = Math.max(1, resolution / 128);
  return {
    maxBatchSize: Math.max(1, Math.floor(base.maxBatchSize / scale)),
    maxQueueDelayMs: base.maxQueueDelayMs,
    maxQueueSize: base.maxQueueSize,
  };
}

const SERVING_KEYS: readonly (keyof ServingSettings)[] = [
  'maxBatchSize',
  'maxQueueDelayMs',
  'maxQueueSize',
  'maxQueueWaitMs',
];

/** Reads `<dir>/serving.json` over the defaults; any unknown key or bad value is refused with the file named. */
export function readServing(
  dir: string,
  defaults: ServingSettings,
): { serving: ServingSettings; from: 'serving.json' | 'default' } {
  const file = path.join(dir, 'serving.json');
  if (!existsSync(file)) return { serving: defaults, from: 'default' };
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new BigGanError('INVALID_CONFIG', `${file}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new BigGanError('INVALID_CONFIG', `${file}: must be a JSON object with ${SERVING_KEYS.join(', ')}`);
  const out: Record<string, number> = { ...defaults };
  for (const [key, value] of Object.entries(raw)) {
    if (!SERVING_KEYS.includes(key as keyof ServingSettings))
      throw new BigGanError(
        'INVALID_CONFIG',
        `${file}: unknown key ${JSON.stringify(key)}; allowed: ${SERVING_KEYS.join(', ')}`,
      );
    const integer = key !== 'maxQueueDelayMs' && key !== 'maxQueueWaitMs';
    if (
      typeof value !== 'number' ||
      !Number.isFinite(value) ||
      value < (integer ? 1 : 0) ||
      (integer && !Number.isInteger(value))
    ) {
      throw new BigGanError(
        'INVALID_CONFIG',
        `${file}: ${key} must be a${integer ? ' positive integer' : ' number >= 0'}, got ${JSON.stringify(value)}`,
      );
    }
    out[key] = value;
  }
  if (out.maxQueueWaitMs !== undefined && !(out.maxQueueWaitMs > 0))
    throw new BigGanError('INVALID_CONFIG', `${file}: maxQueueWaitMs must be a number > 0, got ${out.maxQueueWaitMs}`);
  const wait = out.maxQueueWaitMs !== undefined ? { maxQueueWaitMs: out.maxQueueWaitMs } : {};
  return {
    serving: {
      maxBatchSize: out.maxBatchSize,
      maxQueueDelayMs: out.maxQueueDelayMs,
      maxQueueSize: out.maxQueueSize,
      ...wait,
    },
    from: 'serving.json',
  };
}

/** Reads one model folder (config, weight file, digest, settings, estimate); the weights are not loaded. */
export async function readModelSource(
  name: string,
  dir: string,
  base: ServingSettings,
  device: ComputeDevice = 'cpu',
): Promise<ModelSource> {
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
  return {
    name,
    dir,
    config,
    weightFile,
    digest,
    serving,
    servingFrom: from,
    memory: estimateModelMemory(config, serving.maxBatchSize, device),
  };
}

/** A model folder of a repository; `broken` says why it cannot be one (e.g. a dangling symlink). */
export interface ModelFolder {
  readonly name: string;
  readonly dir: string;
  readonly broken?: string;
}

/**
 * The model folders of a repository: subfolders holding config.json, by name, sorted. A link
 * whose target is missing is listed as broken (a half-copied model must not stop the others).
 */
export function repositoryFolders(root: string): ModelFolder[] {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch (err) {
    throw new BigGanError('INVALID_CONFIG', `--model-repository ${root}: ${(err as Error).message}`, { cause: err });
  }
  const found = names
    .filter((n) => !n.startsWith('.'))
    .map((n) => folderAt(n, path.join(root, n)))
    .filter((m): m is ModelFolder => m !== undefined)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (found.length === 0)
    throw new BigGanError(
      'INVALID_CONFIG',
      `--model-repository ${root}: no model folders (a model is a subfolder holding config.json and its weights)`,
    );
  return found;
}

/** `dir` as a model folder, a broken one, or undefined when it is no model (a file, a folder without config.json). */
function folderAt(name: string, dir: string): ModelFolder | undefined {
  try {
    return statSync(dir).isDirectory() && existsSync(path.join(dir, 'config.json')) ? { name, dir } : undefined;
  } catch (err) {
    const link = (() => {
      try {
        return lstatSync(dir).isSymbolicLink();
      } catch {
        return false;
      }
    })();
    return { name, dir, broken: link ? `${dir} is a symbolic link whose target is missing` : (err as Error).message };
  }
}

/** Reads every folder; one that cannot be read is returned as broken (with its reason) instead of failing the rest. */
export async function readModelSources(
  folders: readonly ModelFolder[],
  base: ServingSettings,
  device: ComputeDevice = 'cpu',
): Promise<{ sources: ModelSource[]; broken: BrokenFolder[] }> {
  const sources: ModelSource[] = [];
  const broken: BrokenFolder[] = [];
  for (const f of folders) {
    try {
      if (f.broken !== undefined) throw new BigGanError('INVALID_CONFIG', f.broken);
      sources.push(await readModelSource(f.name, f.dir, base, device));
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      broken.push({ name: f.name, reason: publicReason(detail, f.dir, f.name), detail });
    }
  }
  return { sources, broken };
}
