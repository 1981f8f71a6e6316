/**
 * Interpolation between two (z, class vector) endpoints, as the TF Hub demo does it: `frames`
 * evenly spaced steps t = i / (frames - 1), z by lerp or slerp, class vectors always by lerp.
 */
import { BigGanError, invalidArgument, quoteValue } from '../errors.js';

/** One endpoint: z [zDim] and class vector [numClasses]. */
export interface LatentPoint {
  readonly z: Float32Array;
  readonly classVector: Float32Array;
}

/** Interpolation of z: straight line or great circle. */
export type InterpolationMethod = 'lerp' | 'slerp';

/** Methods accepted for `method`. */
export const INTERPOLATION_METHODS: readonly InterpolationMethod[] = ['lerp', 'slerp'];

/** Frames of an interpolation, flattened: z [frames, zDim], classVector [frames, numClasses]. */
export interface Interpolation {
  readonly z: Float32Array;
  readonly classVector: Float32Array;
  /** Step of each frame, i / (frames - 1). */
  readonly t: number[];
}

/** Below this norm a vector counts as zero, and below this sin(angle) the angle as zero (slerp). */
const SLERP_EPS = 1e-7;

function sameLength(a: Float32Array, b: Float32Array, what: string): void {
  if (a.length !== b.length)
    throw new BigGanError('INTERNAL', `${what}: endpoints differ in length (${a.length} vs ${b.length})`);
}

/**
 * Linear interpolation in float32, as the reference fixture computes it:
 * out = f32(f32(1 - t) * a + f32(t) * b) with each product rounded to float32 (1 - t in float64).
 */
export function lerp(a: Float32Array, b: Float32Array, t: number): Float32Array {
  sameLength(a, b, 'lerp');
  const wa = Math.fround(1 - t);
  const wb = Math.fround(t);
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = Math.fround(wa * a[i]) + Math.fround(wb * b[i]);
  return out;
}

/**
 * Spherical interpolation, in float64 and rounded once to float32:
 * out = sin((1-t) w) / sin(w) * a + sin(t w) / sin(w) * b with w the angle between a and b.
 * Falls back to `lerp` when a vector is ~0 or the vectors are (anti)parallel (sin w ~ 0), where the
 * formula divides by ~0.
 */
export function slerp(a: Float32Array, b: Float32Array, t: number): Float32Array {
  sameLength(a, b, 'slerp');
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  na = Math.sqrt(na);
  nb = Math.sqrt(nb);
  if (na < SLERP_EPS || nb < SLERP_EPS) return lerp(a, b, t);
  const omega = Math.acos(Math.min(1, Math.max(-1, dot / (na * nb))));
  const sinOmega = Math.sin(omega);
  if (sinOmega < SLERP_EPS) return lerp(a, b, t);
  const wa = Math.sin((1 - t) * omega) / sinOmega;
  const wb = Math.sin(t * omega) / sinOmega;
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = wa * a[i] + wb * b[i];
  return out;
}

/**
 * `frames` (>= 2) points from `from` to `to` at t = i / (frames - 1): z by `method`, class
 * vectors always by lerp (a mixture must stay a non-negative blend of the two endpoints).
 */
export function interpolate(
  from: LatentPoint,
  to: LatentPoint,
  frames: number,
  method: InterpolationMethod,
): Interpolation {
  if (typeof frames !== 'number' || !Number.isSafeInteger(frames) || frames < 2) {
    throw invalidArgument('frames', `must be an integer >= 2, got ${quoteValue(frames)}`);
  }
  if (!INTERPOLATION_METHODS.includes(method)) {
    throw invalidArgument('method', `must be one of ${INTERPOLATION_METHODS.join(', ')}, got ${quoteValue(method)}`);
  }
  sameLength(from.z, to.z, 'interpolate z');
  sameLength(from.classVector, to.classVector, 'interpolate classVector');
  const zDim = from.z.length;
  const numClasses = from.classVector.length;
  const z = new Float32Array(frames * zDim);
  const classVector = new Float32Array(frames * numClasses);
  const t: number[] = [];
  const zStep = method === 'slerp' ? slerp : lerp;
  for (let i = 0; i < frames; i++) {
    const ti = i / (frames - 1);
    t.push(ti);
    z.set(zStep(from.z, to.z, ti), i * zDim);
    classVector.set(lerp(from.classVector, to.classVector, ti), i * numClasses);
  }
  return { z, classVector, t };
}
