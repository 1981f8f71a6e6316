/**
 * Which model folders to serve: --model-repository, --models (published models from the cache,
 * downloaded when allowed) or one model (--weights, else --model).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { RepositorySettings } from '../config/server-config.js';
import type { PresetName } from '../model/config.js';
import { defaultCacheDir, modelDir, isModelCached } from '../download/cache.js';
import { downloadModel } from '../download/download.js';
import { createProgressReporter } from '../download/progress.js';
import { BigGanError } from '../errors.js';
import { repositoryFolders, type ModelFolder } from '../service/repository/model-source.js';

/** The model folder of one published model from the cache, downloading it when allowed. */
async function cachedModel(config: RepositorySettings, name: PresetName, log: (msg: string) => void): Promise<string> {
  const cache = config.cacheDir ?? defaultCacheDir();
  const dir = modelDir(cache, name);
  if (isModelCached(dir)) return dir;
  const howTo =
    `To get weights: 'biggan-serve download ${name}' (needs internet), or serve a folder you copied with '--weights DIR' or '--model-repository DIR', ` +
    `or make a random-weight model for testing with 'biggan-serve init-random --out DIR' and pass '--weights DIR'.`;
  if (!config.download) throw new BigGanError('INVALID_CONFIG', `${name} is not in the cache (${dir}). ${howTo}`);
  log(`${name} is not cached; downloading into ${cache}`);
  try {
    const progress = createProgressReporter();
    await downloadModel(name, { cacheDir: cache, onProgress: progress });
    progress.end();
  } catch (err) {
    throw new BigGanError('IO_ERROR', `could not download ${name}: ${(err as Error).message}. ${howTo}`, {
      cause: err,
    });
  }
  return dir;
}

/** The model folder to serve when one model is served: --weights, else the cache (downloading when allowed). */
export async function resolveWeights(config: RepositorySettings, log: (msg: string) => void): Promise<string> {
  if (config.weights) {
    if (!existsSync(path.join(config.weights, 'config.json'))) {
      throw new BigGanError(
        'INVALID_CONFIG',
        `--weights ${config.weights}: no config.json there; a model folder holds config.json and model.safetensors or pytorch_model.bin`,
      );
    }
    return config.weights;
  }
  return cachedModel(config, config.model, log);
}

/**
 * The models to serve, by name: --model-repository (every subfolder with a config.json),
 * --models (published models from the cache), or one model (--weights, else --model).
 */
export async function resolveModelFolders(
  config: RepositorySettings,
  log: (msg: string) => void,
): Promise<ModelFolder[]> {
  if (config.modelRepository) return repositoryFolders(config.modelRepository);
  if (config.models) {
    const out: { name: string; dir: string }[] = [];
    for (const name of config.models) out.push({ name, dir: await cachedModel(config, name, log) });
    return out;
  }
  const dir = await resolveWeights(config, log);
  return [{ name: path.basename(path.resolve(dir)), dir }];
}
