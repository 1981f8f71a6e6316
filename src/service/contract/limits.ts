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

/** Default truncation, as in the TF Hub demo. */
export const DEFAULT_TRUNCATION = 0.4;
/** Truncation must satisfy TRUNCATION_MIN < t <= TRUNCATION_MAX (it selects batch-norm statistics). */
export const TRUNCATION_MIN = 0;
export const TRUNCATION_MAX = 1;

/** Queue priorities: `high` is batched before `normal`; FIFO within a level. */
export const PRIORITIES = ['normal', 'high'] as const;
/** Queue priority of a request. */
export type Priority = (typeof PRIORITIES)[number];
export const DEFAULT_PRIORITY: Priority = 'normal';

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
/**
 * Largest |z| accepted in explicit latents. The prior lives in [-2, 2] (truncated normal); values
 * far outside it only produce flat, meaningless images, and 1e30 would overflow activations.
 */
export const MAX_ABS_Z = 100;
/** Most rows (samples) an explicit z / classVector may hold; the per-request sample limit applies too. */
export const MAX_ROWS = 1024;
/** Most values in one row: far above any model's z_dim (128) or class count (1000). */
export const MAX_ROW_VALUES = 100_000;
/** Longest class name or WordNet id accepted (the longest ImageNet name is under 100 characters). */
export const MAX_CLASS_NAME_CHARS = 200;
/** Most entries in a class mixture. */
export const MAX_MIXTURE_ENTRIES = 1000;
/** Largest seed: seeds are unsigned 64-bit. */
export const MAX_SEED = (1n << 64n) - 1n;
/** A seed sent as a decimal string. */
export const SEED_PATTERN = '^[0-9]{1,20}$';
