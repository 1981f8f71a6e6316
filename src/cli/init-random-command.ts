/**
 * `biggan-serve init-random`: writes a random-weight model (config.json + model.safetensors) of a
 * published layout, for load tests and benchmarks without the pretrained weights.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { defineOptions, parseOptions, formatHelp, UsageError } from '../config/options.js';
import { PRESET_NAMES, presetConfig, parameterCount, configToJson } from '../model/config.js';
import { randomStateDict } from '../model/random-weights.js';
import { writeSafetensors } from '../weights/safetensors-writer.js';

const SPECS = defineOptions([
  {
    name: 'preset',
    type: 'string',
    choices: PRESET_NAMES,
    default: 'biggan-deep-128',
    description: 'Published layout to copy.',
  },
  {
    name: 'out',
    type: 'string',
    placeholder: 'DIR',
    required: true,
    description: 'Output model folder (created if missing).',
  },
  {
    name: 'channel-width',
    type: 'integer',
    default: 128,
    min: 8,
    max: 512,
    description: 'Channel width ch (128 = the published width; must keep every channel count divisible by 8).',
  },
  { name: 'seed', type: 'integer', default: 0, min: 0, max: 2 ** 32 - 1, description: 'Seed of the random weights.' },
]);

export const INIT_RANDOM_USAGE = formatHelp(
  'biggan-serve init-random --preset biggan-deep-128|256|512 --out DIR [--channel-width N] [--seed S]',
  'Writes a random-weight BigGAN-deep model (config.json + model.safetensors) with the published layout.',
  SPECS,
);

/** Entry point of `biggan-serve init-random`; returns the exit code. */
export async function initRandomCommand(argv: string[]): Promise<number> {
  const { values, help } = parseOptions(argv, SPECS);
  if (help) {
    process.stdout.write(INIT_RANDOM_USAGE);
    return 0;
  }
  const width = values['channel-width'];
  if (width % 8 !== 0)
    throw new UsageError(`--channel-width: must be a multiple of 8 (attention needs channels/8), got ${width}`);
  const config = presetConfig(values.preset, width);
  const out = values.out;
  await mkdir(out, { recursive: true });
  const sd = randomStateDict(config, values.seed);
  await writeSafetensors(path.join(out, 'model.safetensors'), sd);
  await writeFile(path.join(out, 'config.json'), configToJson(config));
  process.stdout.write(
    `wrote ${values.preset} (channel width ${width}) to ${out}: ${parameterCount(config).toLocaleString('en-US')} parameters\n`,
  );
  return 0;
}
