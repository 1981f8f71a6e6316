/**
 * `biggan-serve generate`: writes sample_<i>.png (and grid.png) for a class, truncation and seed,
 * or for explicit z / class vectors / truncation read from an inputs file.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { existsSync, readdirSync } from 'node:fs';
import { defineOptions, parseOptions, formatHelp, UsageError } from '../config/options.js';
import { loadModel } from '../model/load-model.js';
import { createEngine } from '../engine/create-engine.js';
import { ENGINE_CHOICES } from '../engine/choices.js';
import { DEFAULT_TRUNCATION, checkTruncation, truncationError } from '../latents/truncation.js';
import { sampleLatents } from '../latents/truncnorm.js';
import { randomSeed, parseSeed as parseSeedValue } from '../latents/prng.js';
import { classVector, parseClassVectorRows, parseZRows, type ClassSpec } from '../latents/class-vector.js';
import { toRgb8, sampleView } from '../image/convert.js';
import { encodeImage, makeGrid, IMAGE_FORMATS, type Rgb8Image } from '../image/encode.js';
import type { Engine } from '../engine/engine.js';
import type { BigGanConfig } from '../model/config.js';
import { invalidArgument } from '../errors.js';

const SPECS = defineOptions([
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
    description: 'With --model-repository: the model (subfolder) to use.',
  },
  {
    name: 'out',
    type: 'string',
    placeholder: 'DIR',
    required: true,
    description: 'Output folder for sample_<i>.png (created if missing).',
  },
  {
    name: 'class',
    type: 'string',
    placeholder: 'CLASS',
    default: '207',
    description:
      'Class: index 0-999, WordNet id (n02099601), name ("golden retriever"), or a JSON mixture {"207":0.7,"1":0.3}.',
  },
  {
    name: 'truncation',
    type: 'number',
    default: DEFAULT_TRUNCATION,
    description: 'Truncation 0 < t <= 1: scales z and selects batch-norm statistics.',
  },
  {
    name: 'seed',
    type: 'string',
    placeholder: 'INT',
    description: 'Noise seed (unsigned 64-bit); sample i uses seed + i. Default: random, printed.',
  },
  { name: 'count', type: 'integer', default: 1, min: 1, max: 1024, description: 'Number of samples.' },
  {
    name: 'inputs',
    type: 'string',
    placeholder: 'FILE',
    description:
      "JSON file with z, class_vector and truncation (the fixtures' inputs.json form) instead of --class/--seed/--count.",
  },
  { name: 'grid', type: 'boolean', default: false, description: 'Also write grid.png with all samples.' },
  {
    name: 'format',
    type: 'string',
    choices: IMAGE_FORMATS,
    default: 'png',
    description: 'Image format of the written files.',
  },
  { name: 'batch-size', type: 'integer', default: 8, min: 1, max: 256, description: 'Samples per forward pass.' },
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
    description: 'Intra-op threads for ort (default: all cores).',
  },
]);

export const GENERATE_USAGE = formatHelp(
  'biggan-serve generate --weights DIR --out DIR [--class C] [--truncation T] [--seed S] [--count N] [--grid]\n       biggan-serve generate --model-repository DIR --model NAME --out DIR [...]\n       biggan-serve generate --weights DIR --inputs FILE --out DIR',
  'Generates images with BigGAN-deep and writes sample_<i>.<format> into the output folder.',
  SPECS,
);

/** The samples to generate: z [N, zDim], class vectors [N, numClasses], truncations [N]. */
interface Samples {
  count: number;
  z: Float32Array;
  classVector: Float32Array;
  truncation: number[];
  seed?: bigint;
}

function parseClassOption(raw: string): ClassSpec {
  const t = raw.trim();
  if (t.startsWith('{')) {
    try {
      return JSON.parse(t) as Record<string, number>;
    } catch {
      throw invalidArgument('--class', `not valid JSON: ${raw}`);
    }
  }
  return /^\d+$/.test(t) ? Number(t) : t;
}

function parseSeed(raw: string | undefined): bigint {
  return raw === undefined ? randomSeed() : parseSeedValue(raw, '--seed');
}

/** Reads an inputs.json-style file: {z: rows, class_vector: rows, truncation: number | number[]}; extra fields ignored. */
export async function readInputsFile(file: string, config: BigGanConfig): Promise<Samples> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw invalidArgument('--inputs', `cannot read ${file} as JSON: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null)
    throw invalidArgument('--inputs', 'must be a JSON object with z, class_vector and truncation');
  const o = raw as Record<string, unknown>;
  const z = parseZRows(o.z, config.zDim, 'z');
  const count = z.length / config.zDim;
  const classVec = parseClassVectorRows(o.class_vector, config.numClasses, 'class_vector');
  if (classVec.length / config.numClasses !== count)
    throw invalidArgument('class_vector', `has ${classVec.length / config.numClasses} rows but z has ${count}`);
  const truncation = Array.isArray(o.truncation) ? (o.truncation as unknown[]) : Array(count).fill(o.truncation);
  if (truncation.length !== count)
    throw invalidArgument('truncation', `has ${truncation.length} values but z has ${count} rows`);
  const checked = truncation.map((t: unknown, i) => {
    checkTruncation(t, Array.isArray(o.truncation) ? `truncation[${i}]` : 'truncation');
    return t;
  });
  return { count, z, classVector: classVec, truncation: checked };
}

/** Runs the engine over the samples in chunks; returns each sample as RGB8. */
export async function generateImages(engine: Engine, s: Samples, batchSize: number): Promise<Rgb8Image[]> {
  const { zDim, numClasses, outputDim } = engine.config;
  const images: Rgb8Image[] = [];
  for (let start = 0; start < s.count; start += batchSize) {
    const n = Math.min(batchSize, s.count - start);
    const out = await engine.generate({
      size: n,
      z: s.z.subarray(start * zDim, (start + n) * zDim),
      classVector: s.classVector.subarray(start * numClasses, (start + n) * numClasses),
      truncation: s.truncation.slice(start, start + n),
    });
    for (let i = 0; i < n; i++)
      images.push({ width: outputDim, height: outputDim, data: toRgb8(sampleView(out.data, i, outputDim, outputDim)) });
  }
  return images;
}

/** The model folder: --weights, or --model inside --model-repository (a usage error names the models there). */
function modelFolder(weights: string | undefined, repository: string | undefined, model: string | undefined): string {
  if (weights !== undefined && repository !== undefined)
    throw new UsageError('give --weights or --model-repository, not both');
  if (weights !== undefined) return weights;
  if (repository === undefined)
    throw new UsageError('--weights DIR or --model-repository DIR --model NAME is required');
  const names = readdirSync(repository, { withFileTypes: true })
    .filter((d) => !d.name.startsWith('.') && existsSync(path.join(repository, d.name, 'config.json')))
    .map((d) => d.name)
    .sort();
  if (model === undefined)
    throw new UsageError(`--model is required with --model-repository; models: ${names.join(', ')}`);
  if (!names.includes(model))
    throw new UsageError(`--model ${model}: not in ${repository}; models: ${names.join(', ')}`);
  return path.join(repository, model);
}

/** Entry point of `biggan-serve generate`; returns the exit code. */
export async function generateCommand(argv: string[]): Promise<number> {
  const { values, help } = parseOptions(argv, SPECS);
  if (help) {
    process.stdout.write(GENERATE_USAGE);
    return 0;
  }
  // The truncation rule is checked once, in latents/truncation.ts; a bad flag is a usage error (exit 2).
  const truncationProblem = truncationError(values.truncation, '--truncation');
  if (truncationProblem) throw new UsageError(truncationProblem.message);
  const loaded = await loadModel(modelFolder(values.weights, values['model-repository'], values.model));
  const config = loaded.folded.config;
  let samples: Samples;
  if (values.inputs) {
    samples = await readInputsFile(values.inputs, config);
  } else {
    const { truncation, count } = values;
    const seed = parseSeed(values.seed);
    const cv = classVector(parseClassOption(values.class), config.numClasses, '--class');
    const classRows = new Float32Array(count * config.numClasses);
    for (let i = 0; i < count; i++) classRows.set(cv, i * config.numClasses);
    samples = {
      count,
      z: sampleLatents(seed, count, config.zDim, truncation),
      classVector: classRows,
      truncation: Array(count).fill(truncation),
      seed,
    };
  }
  const engine = await createEngine(loaded.folded, {
    engine: values.engine,
    ...(values.backend ? { backend: values.backend } : {}),
    ...(values.threads ? { threads: values.threads } : {}),
  });
  process.stderr.write(
    `biggan-serve: loaded ${loaded.weightFile} (${loaded.format}) in ${(loaded.loadMs / 1000).toFixed(2)} s; engine ${engine.name}, backend ${engine.backend}\n`,
  );
  try {
    const t0 = performance.now();
    const images = await generateImages(engine, samples, values['batch-size']);
    const ms = performance.now() - t0;
    const outDir = values.out;
    await mkdir(outDir, { recursive: true });
    const format = values.format;
    const ext = format === 'jpeg' ? 'jpg' : format;
    await Promise.all(
      images.map(async (img, i) => writeFile(path.join(outDir, `sample_${i}.${ext}`), await encodeImage(img, format))),
    );
    if (values.grid) await writeFile(path.join(outDir, `grid.${ext}`), await encodeImage(makeGrid(images), format));
    const seedNote = samples.seed !== undefined ? `, seed ${samples.seed}` : '';
    process.stdout.write(
      `wrote ${images.length} image(s) to ${outDir}${seedNote} (${(ms / images.length).toFixed(0)} ms per image)\n`,
    );
    return 0;
  } finally {
    await engine.dispose();
  }
}
