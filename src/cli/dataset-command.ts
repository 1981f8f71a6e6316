/**
 * `biggan-serve dataset`: writes a synthetic ImageNet-style dataset as WebDataset tar shards with a
 * manifest, reproducible sample by sample, resumable, and split into parts for a Kubernetes
 * Indexed Job (`--part I/N`, or `--parts N` with JOB_COMPLETION_INDEX). `--merge` only merges the
 * part manifests. The format and the design are in docs/dataset.md.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { defineOptions, parseOptions, formatHelp, UsageError, type OptionValues } from '../config/options.js';
import { ENGINE_CHOICES } from '../engine/choices.js';
import { PRESET_NAMES, type PresetName } from '../model/config.js';
import { DEFAULT_TRUNCATION, truncationError } from '../latents/truncation.js';
import { parseSeed } from '../latents/prng.js';
import { IMAGE_FORMATS } from '../image/encode.js';
import { BigGanError } from '../errors.js';

export const DATASET_OPTIONS = defineOptions([
  {
    name: 'out',
    type: 'string',
    placeholder: 'DIR',
    env: 'BIGGAN_DATASET_OUT',
    required: true,
    description: 'Folder of the shards and manifests (created if missing; parts share it).',
  },
  {
    name: 'weights',
    type: 'string',
    placeholder: 'DIR',
    env: 'BIGGAN_WEIGHTS',
    description: 'Model folder: config.json + model.safetensors or pytorch_model.bin.',
  },
  {
    name: 'model-repository',
    type: 'string',
    placeholder: 'DIR',
    env: 'BIGGAN_MODEL_REPOSITORY',
    description: 'A model repository (one subfolder per model); pick the model with --model.',
  },
  {
    name: 'model',
    type: 'string',
    placeholder: 'NAME',
    env: 'BIGGAN_MODEL',
    description: `The subfolder of --model-repository, or else a published model from the cache (${PRESET_NAMES.join(', ')}).`,
  },
  {
    name: 'cache',
    type: 'string',
    placeholder: 'DIR',
    env: 'BIGGAN_CACHE',
    description: 'Download cache (default $XDG_CACHE_HOME/biggan-serve or ~/.cache/biggan-serve).',
  },
  {
    name: 'download',
    type: 'boolean',
    env: 'BIGGAN_DOWNLOAD',
    default: false,
    description: 'Download --model into the cache when it is missing.',
  },
  {
    name: 'classes',
    type: 'string',
    placeholder: 'LIST',
    description:
      'Classes in order: indices, ranges, WordNet ids or names, comma-separated ("0-999", "207,208", "golden retriever"); default all.',
  },
  {
    name: 'per-class',
    type: 'integer',
    placeholder: 'N',
    min: 1,
    max: 100_000_000,
    description: 'Samples per class (required unless --merge).',
  },
  {
    name: 'truncation',
    type: 'number',
    default: DEFAULT_TRUNCATION,
    description: 'Truncation 0 < t <= 1 of every sample.',
  },
  {
    name: 'seed',
    type: 'string',
    placeholder: 'INT',
    default: '0',
    description: 'Base seed (unsigned 64-bit); sample i of the dataset uses seed + i.',
  },
  {
    name: 'format',
    type: 'string',
    choices: IMAGE_FORMATS,
    default: 'png',
    description: 'Image format inside the shards.',
  },
  {
    name: 'shard-size',
    type: 'integer',
    placeholder: 'K',
    default: 1000,
    min: 1,
    max: 10_000_000,
    description: 'Samples per shard (only the last shard may be shorter).',
  },
  {
    name: 'prefix',
    type: 'string',
    placeholder: 'NAME',
    default: 'biggan',
    description: 'Shard names: <prefix>-000000.tar, ...',
  },
  {
    name: 'part',
    type: 'string',
    placeholder: 'I/N',
    description: 'Write only part I of N (shard k belongs to part k mod N); I from 0.',
  },
  {
    name: 'parts',
    type: 'integer',
    placeholder: 'N',
    min: 1,
    max: 100_000,
    description: 'Number of parts; this part is $JOB_COMPLETION_INDEX (a Kubernetes Indexed Job).',
  },
  {
    name: 'merge',
    type: 'boolean',
    default: false,
    description: 'Only merge the part manifests in --out into manifest.json (no model needed).',
  },
  {
    name: 'batch-size',
    type: 'integer',
    env: 'BIGGAN_MAX_BATCH_SIZE',
    default: 8,
    min: 1,
    max: 256,
    description: 'Samples per engine call.',
  },
  {
    name: 'pipeline-depth',
    type: 'integer',
    default: 3,
    min: 1,
    max: 16,
    description: 'Batches in flight (engine, encoding, tar writing overlap).',
  },
  {
    name: 'log-interval',
    type: 'number',
    placeholder: 'SECONDS',
    default: 10,
    min: 0.1,
    description: 'Off a terminal: seconds between progress lines.',
  },
  {
    name: 'engine',
    type: 'string',
    choices: ENGINE_CHOICES,
    env: 'BIGGAN_ENGINE',
    default: 'auto',
    description: 'Inference engine.',
  },
  {
    name: 'backend',
    type: 'string',
    env: 'BIGGAN_BACKEND',
    description: 'tfjs backend (tensorflow|wasm|cpu) or ort execution provider (cpu|cuda|tensorrt).',
  },
  {
    name: 'threads',
    type: 'integer',
    env: 'BIGGAN_THREADS',
    min: 1,
    max: 1024,
    description: 'Intra-op threads for ort (default: all cores).',
  },
]);

export const DATASET_USAGE = formatHelp(
  'biggan-serve dataset (--weights DIR | --model-repository DIR --model NAME | --model NAME [--download]) --per-class N --out DIR [options]\n' +
    '       biggan-serve dataset ... --part I/N        (or --parts N with JOB_COMPLETION_INDEX=I)\n' +
    '       biggan-serve dataset --merge --out DIR',
  'Writes a dataset as WebDataset tar shards (<key>.png, <key>.cls, <key>.json per sample) and manifest.json.\n' +
    'Deterministic, resumable (rerun the same command) and split into parts that share --out. See docs/dataset.md.',
  DATASET_OPTIONS,
);

type Values = OptionValues<typeof DATASET_OPTIONS>;

/** This process's part: `--part I/N`, or `--parts N` with JOB_COMPLETION_INDEX, else 0 of 1. */
export function resolvePart(
  part: string | undefined,
  parts: number | undefined,
  env: NodeJS.ProcessEnv,
): { part: number; parts: number } {
  if (part !== undefined && parts !== undefined)
    throw new UsageError('give --part I/N or --parts N (with JOB_COMPLETION_INDEX), not both');
  if (part !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(part.trim());
    if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2]))
      throw new UsageError(`--part: expected I/N with 0 <= I < N (e.g. 0/4), got '${part}'`);
    return { part: Number(m[1]), parts: Number(m[2]) };
  }
  if (parts !== undefined) {
    const raw = env.JOB_COMPLETION_INDEX;
    if (raw === undefined || !/^\d+$/.test(raw))
      throw new UsageError(
        `--parts ${parts} needs JOB_COMPLETION_INDEX (0..${parts - 1}; set by a Kubernetes Indexed Job), got ${raw === undefined ? 'none' : `'${raw}'`}`,
      );
    if (Number(raw) >= parts) throw new UsageError(`JOB_COMPLETION_INDEX ${raw} is not below --parts ${parts}`);
    return { part: Number(raw), parts };
  }
  return { part: 0, parts: 1 };
}

/** The model folder and the name the server would give it (the folder's name). */
async function resolveModel(v: Values): Promise<{ dir: string; name: string }> {
  const given = [v.weights, v['model-repository']].filter((x) => x !== undefined).length;
  if (given > 1) throw new UsageError('give --weights or --model-repository, not both');
  if (v.weights !== undefined) {
    if (!existsSync(path.join(v.weights, 'config.json')))
      throw new UsageError(`--weights ${v.weights}: no config.json there`);
    return { dir: v.weights, name: path.basename(path.resolve(v.weights)) };
  }
  if (v['model-repository'] !== undefined) {
    const { repositoryFolders } = await import('./dataset-run.js');
    const found = repositoryFolders(v['model-repository']);
    const names = found.map((f) => f.name);
    if (v.model === undefined || !names.includes(v.model))
      throw new UsageError(
        `--model: ${v.model === undefined ? 'required with --model-repository' : `'${v.model}' is not in ${v['model-repository']}`}; models: ${names.join(', ')}`,
      );
    return found.find((f) => f.name === v.model)!;
  }
  if (v.model === undefined)
    throw new UsageError(
      '--weights DIR, --model-repository DIR --model NAME, or --model NAME (from the download cache) is required',
    );
  if (!(PRESET_NAMES as readonly string[]).includes(v.model))
    throw new UsageError(`--model: '${v.model}' is not a published model; allowed: ${PRESET_NAMES.join(', ')}`);
  const { cachedModelFolder } = await import('./dataset-run.js');
  return { dir: await cachedModelFolder(v.model as PresetName, v.cache, v.download), name: v.model };
}

/** Checks the flags that need no model; returns the seed as decimal text. */
function checkedSeed(v: Values): string {
  const problem = truncationError(v.truncation, '--truncation');
  if (problem) throw new UsageError(problem.message);
  if (v['per-class'] === undefined) throw new UsageError('--per-class N is required');
  try {
    return parseSeed(v.seed, '--seed').toString();
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** Entry point of `biggan-serve dataset`; returns the exit code. */
export async function datasetCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { values: v, help } = parseOptions(argv, DATASET_OPTIONS, env);
  if (help) {
    process.stdout.write(DATASET_USAGE);
    return 0;
  }
  const { runMerge, runGenerate } = await import('./dataset-run.js');
  if (v.merge) return runMerge(v.out);
  const seed = checkedSeed(v);
  const { part, parts } = resolvePart(v.part, v.parts, env);
  if (!/^[A-Za-z0-9_-]+$/.test(v.prefix))
    throw new UsageError(`--prefix: '${v.prefix}' may hold only letters, digits, '-' and '_'`);
  const model = await resolveModel(v);
  const code = await runGenerate({ values: v, seed, part, parts, model }).catch((err: unknown) => {
    if (err instanceof BigGanError && err.code === 'INVALID_ARGUMENT' && /^--/.test(err.message))
      throw new UsageError(err.message);
    throw err;
  });
  return code;
}
