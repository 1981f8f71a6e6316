/**
 * Seeded latent vectors: z = truncation * truncnorm(-2, 2), the noise BigGAN-deep's reference
 * draws with scipy, here from a documented generator so that a seed means the same z everywhere.
 *
 * The algorithm, complete enough to reimplement:
 *
 * 1. Row r of a request with seed S uses seed S_r = (S + r) mod 2^64 (see `seedForSample`), so
 *    image r can be reproduced alone with seed S_r and count 1.
 * 2. Generator: xoshiro128** seeded from S_r by splitmix64 (`Xoshiro128StarStar.fromSeed`).
 * 3. Uniforms: d = ((a >>> 5) * 2^26 + (b >>> 6)) / 2^53 from two 32-bit outputs a, b.
 * 4. Standard normals by Marsaglia's polar method: u = 2*d1 - 1, v = 2*d2 - 1, s = u*u + v*v,
 *    retry while s >= 1 or s == 0; then f = sqrt(-2 * log(s) / s) yields two normals, u*f first,
 *    then v*f. A spare left at the end of a row is dropped.
 * 5. Truncation to [-2, 2] by rejection: a normal x with |x| > 2 is skipped.
 * 6. Output: z = Math.fround(truncation * x), all arithmetic before it in float64.
 *
 * Why this is platform-independent: steps 1-3 are exact integer arithmetic; step 4 uses + - * /
 * and sqrt (correctly rounded by IEEE 754) and Math.log, which V8 implements with its own port of
 * fdlibm's log (ieee754::log), not the C library's, so it returns the same bits on every OS and
 * CPU. A reimplementation in another language must use an fdlibm-equivalent log to match bit for
 * bit; a libm that is off by one ulp changes a value only in the rare cases where that ulp
 * survives the final rounding to float32.
 */
import { BigGanError, invalidArgument } from '../errors.js';
import { Xoshiro128StarStar, parseSeed, seedForSample } from './prng.js';
import { checkTruncation } from './truncation.js';

/** Bound of the truncated normal: values lie in [-TRUNCNORM_BOUND, TRUNCNORM_BOUND]. */
export const TRUNCNORM_BOUND = 2;

/** Standard deviation of truncnorm(-2, 2): sqrt(1 - 4 phi(2) / (Phi(2) - Phi(-2))). */
export const TRUNCNORM_STD = 0.8796256610342398;

/** Source of standard normals (Marsaglia polar) from one generator, keeping the pair's spare. */
class PolarNormals {
  private spare: number | undefined;

  constructor(private readonly rng: Xoshiro128StarStar) {}

  next(): number {
    if (this.spare !== undefined) {
      const x = this.spare;
      this.spare = undefined;
      return x;
    }
    while (true) {
      const u = 2 * this.rng.nextDouble() - 1;
      const v = 2 * this.rng.nextDouble() - 1;
      const s = u * u + v * v;
      if (s >= 1 || s === 0) continue;
      const f = Math.sqrt((-2 * Math.log(s)) / s);
      this.spare = v * f;
      return u * f;
    }
  }
}

function checkZDim(zDim: number): void {
  if (!Number.isSafeInteger(zDim) || zDim <= 0)
    throw new BigGanError('INTERNAL', `z dimension must be a positive integer, got ${zDim}`);
}

/** Fills out[offset .. offset+zDim) with one row of truncation * truncnorm(-2, 2) for `seed`. */
function fillRow(seed: bigint, out: Float32Array, offset: number, zDim: number, truncation: number): void {
  const normals = new PolarNormals(Xoshiro128StarStar.fromSeed(seed));
  for (let j = 0; j < zDim;) {
    const x = normals.next();
    if (Math.abs(x) > TRUNCNORM_BOUND) continue;
    out[offset + j++] = Math.fround(truncation * x);
  }
}

/** One latent vector [zDim] = truncation * truncnorm(-2, 2) drawn from `seed` (0..2^64-1). */
export function sampleZ(seed: number | bigint, zDim: number, truncation: number): Float32Array {
  const s = parseSeed(seed);
  checkZDim(zDim);
  checkTruncation(truncation);
  const out = new Float32Array(zDim);
  fillRow(s, out, 0, zDim, truncation);
  return out;
}

/** `count` latent rows [count, zDim], row i drawn from seed (seed + i) mod 2^64. */
export function sampleLatents(seed: number | bigint, count: number, zDim: number, truncation: number): Float32Array {
  const s = parseSeed(seed);
  checkZDim(zDim);
  checkTruncation(truncation);
  if (!Number.isSafeInteger(count) || count < 0)
    throw invalidArgument('count', `must be a non-negative integer, got ${count}`);
  const out = new Float32Array(count * zDim);
  for (let i = 0; i < count; i++) fillRow(seedForSample(s, i), out, i * zDim, zDim, truncation);
  return out;
}
