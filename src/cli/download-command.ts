/**
 * `biggan-serve download <model>`: fetches a published model into the cache, with progress on
 * stderr and the model folder on stdout (so `DIR=$(biggan-serve download biggan-deep-128)` works).
 */
import path from 'node:path';
import { BigGanError } from '../errors.js';
import { PRESET_NAMES, type PresetName } from '../model/config.js';
import { defaultCacheDir } from '../download/cache.js';
import { DEFAULT_BASE_URL, downloadModel, resolveBaseUrl } from '../download/download.js';
import { createProgressReporter, type ProgressSink } from '../download/progress.js';
import { defineOptions, formatHelp, parseOptions } from '../config/options.js';

const SPECS = defineOptions([
  {
    name: 'cache',
    type: 'string',
    placeholder: 'DIR',
    env: 'BIGGAN_CACHE',
    description: 'Cache folder (default $XDG_CACHE_HOME/biggan-serve, else ~/.cache/biggan-serve).',
  },
  {
    name: 'base-url',
    type: 'string',
    placeholder: 'URL',
    env: 'BIGGAN_DOWNLOAD_BASE_URL',
    default: DEFAULT_BASE_URL,
    description: 'Where <model>-config.json and <model>-pytorch_model.bin live (e.g. a mirror).',
  },
]);

/** Help text of the download command. */
export const DOWNLOAD_USAGE = formatHelp(
  'biggan-serve download <model> [<model> ...] [options]',
  `Downloads pretrained BigGAN-deep models (config.json and pytorch_model.bin), one after
the other, into <cache>/<model>/ and prints each folder. An interrupted download resumes where it
stopped; files already complete are not fetched again. Every file is checked by
SHA-256 (the pinned hash, else the one recorded when it was first downloaded); a
corrupt cached file is moved to <file>.corrupt and fetched again. A second run for
the same model waits until the first one has finished.`,
  SPECS,
  `Models: ${PRESET_NAMES.join(', ')}

Exit status: 0 done, 1 download failed, 2 usage error.`,
);

const isPresetName = (name: string): name is PresetName => PRESET_NAMES.some((n) => n === name);

/** Output streams of the command, replaceable in tests. */
export interface CommandIo {
  readonly stdout: ProgressSink;
  readonly stderr: ProgressSink;
}

function usageError(io: CommandIo, message: string): number {
  io.stderr.write(`biggan-serve download: ${message}\n\n${DOWNLOAD_USAGE}`);
  return 2;
}

/** Runs `biggan-serve download` with the arguments after `download`; resolves to the exit code. */
export async function downloadCommand(
  argv: string[],
  io: CommandIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  let parsed;
  try {
    parsed = parseOptions(argv, SPECS, process.env, true);
  } catch (e) {
    return usageError(io, (e as Error).message);
  }
  const { values, positionals, help } = parsed;
  if (help) {
    io.stdout.write(DOWNLOAD_USAGE);
    return 0;
  }
  if (positionals.length === 0)
    return usageError(io, `missing model name; choose one or more of ${PRESET_NAMES.join(', ')}`);
  const unknown = positionals.find((n) => !isPresetName(n));
  if (unknown !== undefined)
    return usageError(io, `unknown model ${JSON.stringify(unknown)}; choose from ${PRESET_NAMES.join(', ')}`);
  const names = [...new Set(positionals.filter(isPresetName))];
  if (values.cache === '') return usageError(io, '--cache needs a folder');
  try {
    resolveBaseUrl(values['base-url']);
  } catch (e) {
    return usageError(io, (e as Error).message);
  }

  const progress = createProgressReporter(io.stderr);
  // Ctrl-C aborts cleanly (file closed, .partial kept for a resume); a second one kills as usual.
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once('SIGINT', onSigint);
  let name: PresetName = names[0];
  try {
    for (name of names) {
      const { dir } = await downloadModel(name, {
        cacheDir: values.cache !== undefined ? path.resolve(values.cache) : defaultCacheDir(),
        baseUrl: values['base-url'],
        onProgress: progress,
        signal: abort.signal,
        onWait: (holder) =>
          io.stderr.write(
            `biggan-serve download: another download of ${name} is writing this cache entry (${holder}); waiting for it to finish\n`,
          ),
        onWarning: (message) => {
          progress.end();
          io.stderr.write(`biggan-serve download: warning: ${message}\n`);
        },
      });
      io.stdout.write(`${dir}\n`);
    }
    return 0;
  } catch (e) {
    progress.end();
    const message = e instanceof BigGanError ? e.message : `unexpected failure: ${(e as Error)?.stack ?? String(e)}`;
    io.stderr.write(`biggan-serve download: ${names.length > 1 ? `${name}: ` : ''}${message}\n`);
    return 1;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}
