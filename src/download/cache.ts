/**
 * Where downloaded models live: the cache folder (from the environment), one folder per model,
 * and whether a model in it is complete.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { PresetName } from '../model/config.js';

/** File name of a model's config inside its folder. */
export const CONFIG_FILE = 'config.json';
/** File name of a model's weights (legacy torch state_dict) inside its folder. */
export const WEIGHTS_FILE = 'pytorch_model.bin';
/** Suffix of a file still being downloaded; it is renamed away only once complete. */
export const PARTIAL_SUFFIX = '.partial';

/** The cache folder: $BIGGAN_CACHE, else $XDG_CACHE_HOME/biggan-serve, else ~/.cache/biggan-serve. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BIGGAN_CACHE) return path.resolve(env.BIGGAN_CACHE);
  // The XDG spec says a relative XDG_CACHE_HOME is invalid and must be ignored.
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'biggan-serve');
  const home = env.HOME || os.homedir();
  return path.join(home, '.cache', 'biggan-serve');
}

/** The folder of one model inside a cache folder. */
export function modelDir(cache: string, name: PresetName): string {
  return path.join(cache, name);
}

function isNonEmptyFile(p: string): boolean {
  try {
    const st = fs.statSync(p);
    return st.isFile() && st.size > 0;
  } catch {
    return false;
  }
}

function exists(p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/** Whether a model folder holds a finished download: config.json and pytorch_model.bin, no .partial left. */
export function isModelCached(dir: string): boolean {
  const files = [CONFIG_FILE, WEIGHTS_FILE];
  return files.every((f) => isNonEmptyFile(path.join(dir, f))) && !files.some((f) => exists(path.join(dir, f + PARTIAL_SUFFIX)));
}
