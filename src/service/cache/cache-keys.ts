/**
 * Cache keys and ETags. Every seeded answer is a pure function of the model's weights, each
 * sample's engine inputs (z, class vector, truncation) and the encoder: the key of one image hashes
 * exactly those, so an image is found again whatever request form asked for it (seed or explicit
 * z, class name or index or vector, alone or as sample i of a batch). A response's ETag hashes its
 * images' keys with its form (single image, JSON, grid, animation), so it is strong: equal ETags
 * mean equal bytes.
 */
import { createHash } from 'node:crypto';

/** What an image key covers besides the sample itself. */
export interface KeyContext {
  /** SHA-256 of the model's weight file (hex), hashed once at load. */
  readonly modelDigest: string;
  /** The encoder's identity: settings and library versions (see ENCODER_ID). */
  readonly encoderId: string;
}

/** One sample's engine inputs. */
export interface SampleInputs {
  readonly z: Float32Array; // [zDim], already scaled by the truncation
  readonly classVector: Float32Array; // [numClasses]
  readonly truncation: number;
}

function bytesOf(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** The key of one encoded image: base64url SHA-256 of model, encoder, format and the sample's inputs. */
export function imageKey(ctx: KeyContext, sample: SampleInputs, format: string): string {
  const truncation = new Float64Array([sample.truncation]); // exact: it selects batch-norm statistics
  return createHash('sha256')
    .update(`img\0${ctx.modelDigest}\0${ctx.encoderId}\0${format}\0`)
    .update(new Uint8Array(truncation.buffer))
    .update(bytesOf(sample.z))
    .update(bytesOf(sample.classVector))
    .digest('base64url');
}

/** A derived key (a grid, an animation, a whole response) from its parts' keys and its form. */
export function compositeKey(form: string, parts: readonly string[]): string {
  const h = createHash('sha256').update(`${form}\0`);
  for (const p of parts) h.update(p).update('\0');
  return h.digest('base64url');
}

/** A strong ETag (quoted) for a response key. */
export function etagOf(key: string): string {
  return `"${key.slice(0, 32)}"`;
}

/**
 * True when an If-None-Match header value matches `etag` (RFC 9110 13.1.2: a list of entity tags,
 * `*` matches any; weak comparison, so a `W/` prefix on the client's tag still matches).
 */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((raw) => {
    const tag = raw.trim();
    return tag === '*' || tag === etag || tag === `W/${etag}`;
  });
}
