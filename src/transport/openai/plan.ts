/**
 * An OpenAI images request as a native GenerateRequest: the model (named, or the one serving
 * `size`, or the default), the classes the prompt names (an equal-weight mixture when several),
 * `n` samples from `seed`, and each image's `revised_prompt` saying what was drawn, so a caller
 * can reproduce it with POST /generate.
 */
import { randomInt } from 'node:crypto';
import { BigGanError, invalidArgument, quoteValue } from '../../errors.js';
import { classesOfPrompt, type PromptClass } from '../../latents/prompt-classes.js';
import type { ClassSpec, GenerateRequest } from '../../service/types.js';
import type { ImagesRequest } from './schemas.js';
import type { ServedModel } from './service-port.js';

/** What to compute and how to answer. */
export interface ImagesPlan {
  readonly native: GenerateRequest & { truncation: number; model: string; count: number };
  readonly classes: readonly PromptClass[];
  /** Each class's weight (equal, summing to 1), as sent to the model. */
  readonly weight: number;
  readonly responseFormat: 'url' | 'b64_json';
}

const sizeText = (r: number) => `${r}x${r}`;

/** The served sizes, smallest first: `128x128, 256x256`. */
function servedSizes(models: readonly ServedModel[]): string {
  return [...new Set(models.map((m) => m.resolution))]
    .sort((a, b) => a - b)
    .map(sizeText)
    .join(', ');
}

/** The resolution `size` asks for (undefined: absent or `auto`); 400 when no model serves it. */
function requestedResolution(size: string | null | undefined, models: readonly ServedModel[]): number | undefined {
  if (size === undefined || size === null || size === 'auto') return undefined;
  const m = /^(\d{1,5})x(\d{1,5})$/.exec(size);
  const r = m && m[1] === m[2] ? Number(m[1]) : undefined;
  if (r === undefined || !models.some((x) => x.resolution === r)) {
    throw invalidArgument('size', `${quoteValue(size)} is not served; served sizes: ${servedSizes(models)} (or auto)`);
  }
  return r;
}

/** The model of a request: named, else the default model if it serves `size`, else the first that does. */
export function chooseModel(body: Pick<ImagesRequest, 'model' | 'size'>, models: readonly ServedModel[]): ServedModel {
  const resolution = requestedResolution(body.size, models);
  if (body.model !== undefined && body.model !== null) {
    const named = models.find((m) => m.name === body.model);
    if (!named) {
      const list = models.map((m) => m.name).join(', ');
      throw new BigGanError('NOT_FOUND', `model: ${quoteValue(body.model)} is not served; models: ${list}`, {
        field: 'model',
      });
    }
    if (resolution !== undefined && named.resolution !== resolution) {
      throw invalidArgument(
        'size',
        `model ${named.name} draws ${sizeText(named.resolution)}, got ${quoteValue(body.size)}; ` +
          `served sizes: ${servedSizes(models)}`,
      );
    }
    return named;
  }
  const fits = models.filter((m) => resolution === undefined || m.resolution === resolution);
  const chosen = fits.find((m) => m.isDefault) ?? [...fits].sort((a, b) => a.name.localeCompare(b.name))[0];
  if (!chosen) throw new BigGanError('UNAVAILABLE', 'no model is served');
  return chosen;
}

/** A random seed for a `url` answer without one (a URL must be seeded to be repeatable). */
function randomSeed(): number {
  return randomInt(0, 2 ** 48 - 1);
}

/**
 * Plans a request (throws INVALID_ARGUMENT naming `prompt`, `size`, `n`; NOT_FOUND naming `model`),
 * for `model` when the caller already chose it with chooseModel.
 */
export function planImages(
  body: ImagesRequest,
  models: readonly ServedModel[],
  model: ServedModel = chooseModel(body, models),
): ImagesPlan {
  const count = body.n ?? 1;
  if (count > model.maxSamplesPerRequest) {
    throw invalidArgument(
      'n',
      `must be in 1..${model.maxSamplesPerRequest} (the most images one request may ask of ${model.name}), ` +
        `got ${count}`,
    );
  }
  if (body.stream === true)
    throw invalidArgument(
      'stream',
      'streaming is not supported: images are answered whole; send false or leave it out',
    );
  const classes = classesOfPrompt(body.prompt);
  const weight = 1 / classes.length;
  const spec: ClassSpec =
    classes.length === 1 ? classes[0].index : Object.fromEntries(classes.map((c) => [String(c.index), weight]));
  const responseFormat = body.response_format ?? 'url';
  const seed = body.seed ?? (responseFormat === 'url' ? randomSeed() : undefined);
  const native = {
    class: spec,
    count,
    truncation: body.truncation ?? model.defaultTruncation,
    model: model.name,
    format: 'png' as const,
    ...(seed !== undefined ? { seed } : {}),
  };
  return { native, classes, weight, responseFormat };
}

/** `golden retriever (207) weight 0.5, tennis ball (852) weight 0.5; truncation 0.4; seed 8`. */
export function revisedPrompt(plan: ImagesPlan, truncation: number, seed: bigint | undefined): string {
  const classes = plan.classes.map((c) => `${c.name} (${c.index}) weight ${plan.weight}`).join(', ');
  return `${classes}; truncation ${truncation}${seed !== undefined ? `; seed ${seed}` : ''}`;
}
