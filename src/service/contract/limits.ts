/**
 * The request contract's constants, defined once: defaults, ranges and allowed values. The
 * schemas (validation, OpenAPI), the service's semantic checks, the gRPC mapping and the CLI all
 * import them from here (or from the low-level module that owns the concept and is re-exported
 * here), so a limit changes in one place.
 */
import { IMAGE_FORMATS, type ImageFormat, type AnimationFormat } from '../../image/encode.js';
import { INTERPOLATION_METHODS, type InterpolationMethod } from '../../latents/interpolate.js';

export { IMAGE_FORMATS, INTERPOLATION_METHODS };
export type { ImageFormat, AnimationFormat, InterpolationMethod };

// The truncation rule and the priorities live with the modules that enforce them (the model's
// statistics rule, the batcher's queue); the contract re-exports them so its schemas use the same values.
export {
  DEFAULT_TRUNCATION,
  TRUNCATION_MAX,
  TRUNCATION_MIN_EXCLUSIVE as TRUNCATION_MIN,
} from '../../latents/truncation.js';
export { PRIORITIES, type Priority } from '../../batching/queue.js';
export const DEFAULT_PRIORITY = 'normal' as const;

/** Animation formats of /interpolate (one looping image of every frame). */
export const ANIMATION_FORMATS: readonly AnimationFormat[] = ['gif', 'webp'];
/** Every format /interpolate accepts: animations first, then per-frame image formats. */
export const INTERPOLATE_FORMATS = ['gif', 'webp', 'png', 'jpeg'] as const;
export const DEFAULT_IMAGE_FORMAT: ImageFormat = 'png';
export const DEFAULT_INTERPOLATE_FORMAT = 'gif' as const;
export const DEFAULT_INTERPOLATION_METHOD: InterpolationMethod = 'lerp';
/** Frames of an interpolation when the request gives none (capped by maxSamplesPerRequest). */
export const DEFAULT_FRAMES = 8;

/** Longest queue timeout a request may ask for, ms. */
export const MAX_TIMEOUT_MS = 10 * 60 * 1000;
/** Largest |z| in explicit latents, and the longest class name: owned by the latents module that enforces them. */
export { MAX_ABS_Z } from '../../latents/class-vector.js';
export { MAX_CLASS_NAME_CHARS } from '../../latents/imagenet-classes.js';
/** Most rows (samples) an explicit z / classVector may hold; the per-request sample limit applies too. */
export const MAX_ROWS = 1024;
/** Most values in one row: far above any model's z_dim (128) or class count (1000). */
export const MAX_ROW_VALUES = 100_000;
/** Most entries in a class mixture. */
export const MAX_MIXTURE_ENTRIES = 1000;
/** Largest seed: seeds are unsigned 64-bit. */
export const MAX_SEED = (1n << 64n) - 1n;
/** A seed sent as a decimal string. */
export const SEED_PATTERN = '^[0-9]{1,20}$';

/** The smaller of two queue budgets, ms (a request's `timeoutMs` and its transport's deadline); undefined when neither is set. */
export function minTimeout(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  return b === undefined ? a : Math.min(a, b);
}
