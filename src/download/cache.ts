/**
 * Where downloaded models live: the cache folder (from the environment), one folder per model,
 * and whether a model in it is complete and intact.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BigGanError } from '../errors.js';
import { PRESET_NAMES, PUBLISHED_FILES, type PresetName, type PublishedFileName } from '../model/config.js';
import { checkCachedFileSync, checksumError, quarantineSync } from './verify.js';

/** File name of a model's config inside its folder. */
export const CONFIG_FILE = 'config.json';
/** File name of a model's weights (legacy torch state_dict) inside its folder. */
export const WEIGHTS_FILE = 'pytorch_model.bin';
/** Suffix of a file still being downloaded; it is renamed away only once complete. */
export const PARTIAL_SUFFIX = '.partial';
/** Lock file inside a model folder, held by the one `download` writing that folder. */
export const LOCK_FILE = '.download.lock';

/** The pinned SHA-256 of each file of a preset (absent where none is pinned). */
export function presetPins(name: PresetName): Partial<Record<PublishedFileName, string>> {
  const pins: Partial<Record<PublishedFileName, string>> = {};
  for (const [file, info] of Object.entries(PUBLISHED_FILES[name]) as [PublishedFileName, { sha256?: string }][]) {
    if (info.sha256 !== undefined) pins[file] = info.sha256;
  }
  return pins;
}

function isPresetName(name: string): name is PresetName {
  return (PRESET_NAMES as readonly string[]).includes(name);
}

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

/**
 * Whether a model folder holds a finished download: config.json and pytorch_model.bin, no
 * .partial left, each file matching its pinned SHA-256 (else the one recorded when it was
 * downloaded). A file whose marker still fits is not rehashed (see verify.ts). A file that
 * fails is moved to `<file>.corrupt` and this throws INVALID_WEIGHTS / INVALID_CONFIG naming it,
 * so a corrupt file is never loaded. `pins` default to the preset named by the folder.
 */
export function isModelCached(dir: string, pins?: Partial<Record<PublishedFileName, string>>): boolean {
  const files: PublishedFileName[] = [CONFIG_FILE, WEIGHTS_FILE];
  if (
    !files.every((f) => isNonEmptyFile(path.join(dir, f))) ||
    files.some((f) => exists(path.join(dir, f + PARTIAL_SUFFIX)))
  )
    return false;
  const name = path.basename(path.resolve(dir));
  const expected = pins ?? (isPresetName(name) ? presetPins(name) : {});
  for (const f of files) {
    const file = path.join(dir, f);
    let check: ReturnType<typeof checkCachedFileSync>;
    try {
      check = checkCachedFileSync(file, expected[f]);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new BigGanError('IO_ERROR', `cannot check ${file}: ${err.code ?? 'error'} (${err.message})`, { cause: e });
    }
    if (!check.ok) {
      // Refused either way; moving it aside also keeps the next `download` from trusting it.
      let where: string;
      try {
        where = `moved it to ${quarantineSync(file)}`;
      } catch (e) {
        where = `could not move it aside (${(e as NodeJS.ErrnoException).code ?? 'error'}), delete it`;
      }
      throw checksumError(
        file,
        check.expected,
        check.actual,
        `${where}; run 'biggan-serve download ${name}' to fetch it again`,
      );
    }
  }
  return true;
}
