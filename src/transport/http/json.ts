/**
 * Service results as the REST API's JSON (the shapes of contract/schemas.ts's response schemas).
 */
import type { GeneratedImage } from '../../service/types.js';
import type { ImageJson } from '../../service/contract/schemas.js';

/** JSON-safe seed: a number when exact as a double, else a decimal string. */
export function seedJson(seed: bigint): number | string {
  return seed <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(seed) : seed.toString();
}

/** One image (or interpolation frame) with its base64 bytes and how to reproduce it. */
export function imageJson(img: GeneratedImage & { t?: number }): ImageJson {
  return {
    data: img.data.toString('base64'),
    mimeType: img.mimeType,
    ...(img.seed !== undefined ? { seed: seedJson(img.seed) } : {}),
    truncation: img.truncation,
    class: img.class,
    index: img.index,
    ...(img.t !== undefined ? { t: img.t } : {}),
  };
}
