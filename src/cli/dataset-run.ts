/**
 * The heavy half of `biggan-serve dataset` (loaded only after the flags parsed): finding the model
 * folder (repository or download cache), loading the model and engine, running this part with
 * progress and signals, and `--merge`.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { UsageError, type OptionValues } from '../config/options.js';
import { BigGanError } from '../errors.js';
import { defaultCacheDir, isModelCached, modelDir } from '../download/cache.js';
import { downloadModel } from '../download/download.js';
import { createProgressReporter } from '../download/progress.js';
import { loadModel } from '../model/load-model.js';
import type { PresetName } from '../model/config.js';
import { createEngine } from '../engine/create-engine.js';
import { findWeightFile } from '../weights/read.js';
import { filesDigest } from '../weights/file-digest.js';
import { parseClassList, shardCount, totalSamples, type DatasetSpec } from '../dataset/spec.js';
import { runDataset } from '../dataset/run-dataset.js';
import { mergeManifest, readSpecFromPartManifests } from '../dataset/manifest.js';

type Values = OptionValues<typeof import('./dataset-command.js').DATASET_OPTIONS>;

/** Model folders of a repository (subfolders holding config.json), sorted by name. */
export function repositoryFolders(root: string): { name: string; dir: string }[] {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch (err) {
    throw new UsageError(`--model-repository ${root}: ${(err as Error).message}`);
  }
  return names
    .filter(
      (n) =>
        !n.startsWith('.') &&
        statSync(path.join(root, n)).isDirectory() &&
        existsSync(path.join(root, n, 'config.json')),
    )
    .sort()
    .map((name) => ({ name, dir: path.join(root, name) }));
}

/** A published model's folder in the cache, downloaded first when `download` allows. */
export async function cachedModelFolder(
  name: PresetName,
  cache: string | undefined,
  download: boolean,
): Promise<string> {
  const root = cache ?? defaultCacheDir();
  const dir = modelDir(root, name);
  if (isModelCached(dir)) return dir;
  if (!download)
    throw new BigGanError(
      'INVALID_CONFIG',
      `${name} is not in the cache (${dir}); add --download, run 'biggan-serve download ${name}', or give --weights DIR`,
    );
  const progress = createProgressReporter();
  await downloadModel(name, { cacheDir: root, onProgress: progress });
  progress.end();
  return dir;
}

/** `--merge`: writes manifest.json from the part manifests, or says which shards are missing. */
export async function runMerge(out: string): Promise<number> {
  const spec = await readSpecFromPartManifests(out);
  const missing = await mergeManifest(out, spec);
  if (missing.length > 0) {
    const shown = missing.slice(0, 5).join(', ');
    process.stderr.write(
      `biggan-serve dataset: ${missing.length} of ${shardCount(spec)} shard(s) are in no part manifest yet (${shown}${missing.length > 5 ? ', ...' : ''}); run the missing parts, then --merge again\n`,
    );
    return 1;
  }
  process.stdout.write(
    `merged ${shardCount(spec)} shard(s), ${totalSamples(spec)} samples into ${path.join(out, 'manifest.json')}\n`,
  );
  return 0;
}

/** What `runGenerate` needs from the command. */
export interface GenerateArgs {
  readonly values: Values;
  readonly seed: string;
  readonly part: number;
  readonly parts: number;
  readonly model: { dir: string; name: string };
}

/** Loads the model and engine, and runs this part of the dataset. */
export async function runGenerate(a: GenerateArgs): Promise<number> {
  const v = a.values;
  const loaded = await loadModel(a.model.dir);
  const config = loaded.folded.config;
  const classes = parseClassList(v.classes ?? `0-${config.numClasses - 1}`, config.numClasses, '--classes');
  const weightsSha256 = await filesDigest([path.join(a.model.dir, 'config.json'), await findWeightFile(a.model.dir)]);
  const spec: DatasetSpec = {
    model: a.model.name,
    weightsSha256,
    classes,
    perClass: v['per-class']!,
    truncation: v.truncation,
    seed: a.seed,
    format: v.format,
    shardSize: v['shard-size'],
    prefix: v.prefix,
  };
  const engine = await createEngine(loaded.folded, {
    engine: v.engine,
    ...(v.backend ? { backend: v.backend } : {}),
    ...(v.threads ? { threads: v.threads } : {}),
  });
  process.stderr.write(
    `biggan-serve dataset: ${totalSamples(spec)} samples in ${shardCount(spec)} shard(s); part ${a.part} of ${a.parts}; model ${spec.model} (${weightsSha256.slice(0, 12)}); engine ${engine.name}/${engine.backend}, batch ${v['batch-size']}\n`,
  );
  let stop = false;
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`biggan-serve dataset: ${signal}: stopping after the current batch; rerun to resume\n`);
    stop = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await runDataset({
      engine,
      spec,
      dir: v.out,
      part: a.part,
      parts: a.parts,
      batchSize: v['batch-size'],
      depth: v['pipeline-depth'],
      logIntervalMs: v['log-interval'] * 1000,
      stopRequested: () => stop,
    });
    const state = result.merged
      ? `manifest.json complete (${shardCount(spec)} shards)`
      : `${result.missing} shard(s) of other parts still missing; manifest.json is written by the last part to finish (or --merge)`;
    process.stdout.write(`${v.out}: part ${a.part}/${a.parts} done; ${state}\n`);
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await engine.dispose();
  }
}
