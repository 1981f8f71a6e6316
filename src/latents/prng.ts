/**
 * The service's seeded random numbers: seeds (parsing, per-sample seeds, fresh random seeds) and a
 * platform-independent generator, xoshiro128** seeded by splitmix64. Everything here is integer
 * arithmetic (BigInt for the 64-bit seeding, 32-bit `Math.imul` / shifts for the generator), so the
 * same seed gives the same bits on every machine and every Node version.
 */
import { randomBytes } from 'node:crypto';
import { BigGanError, invalidArgument, quoteValue } from '../errors.js';

const MASK64 = (1n << 64n) - 1n;

/** Largest accepted seed: 2^64 - 1 (seeds are unsigned 64-bit integers). */
export const MAX_SEED = MASK64;

/** Largest seed `randomSeed` returns: 2^53 - 1, so JSON clients can echo it back exactly. */
export const MAX_RANDOM_SEED = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Validates a client's seed and returns it as a bigint in 0..2^64-1. Accepts a safe integer
 * number, a bigint, or a decimal string (for seeds above 2^53-1, which JSON numbers cannot carry
 * exactly, and for gRPC uint64 fields decoded as strings).
 */
export function parseSeed(value: unknown, field = 'seed'): bigint {
  const allowed = `must be an integer in 0..${MAX_SEED}`;
  let seed: bigint;
  if (typeof value === 'bigint') {
    seed = value;
  } else if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw invalidArgument(field, `${allowed}, got ${value}`);
    if (!Number.isSafeInteger(value)) {
      // A double above 2^53 has already lost its low bits: refuse it rather than use the wrong seed.
      throw invalidArgument(
        field,
        `${allowed}; ${value} is above 2^53-1 and cannot be exact as a number, send it as a decimal string`,
      );
    }
    seed = BigInt(value);
  } else if (typeof value === 'string' && /^\d{1,20}$/.test(value)) {
    seed = BigInt(value);
  } else {
    const shown = typeof value === 'string' ? quoteValue(value) : typeof value;
    throw invalidArgument(field, `${allowed} (a number or a decimal string), got ${shown}`);
  }
  if (seed < 0n || seed > MAX_SEED) throw invalidArgument(field, `${allowed}, got ${seed}`);
  return seed;
}

/** The seed of sample `i` of a request with seed `seed`: `(seed + i) mod 2^64`. */
export function seedForSample(seed: number | bigint, i: number): bigint {
  if (!Number.isSafeInteger(i) || i < 0)
    throw new BigGanError('INTERNAL', `seedForSample: sample index must be a non-negative integer, got ${i}`);
  return (parseSeed(seed) + BigInt(i)) & MASK64;
}

/** A fresh seed from the OS's CSPRNG, in 0..2^53-1 (for requests that give none). */
export function randomSeed(): bigint {
  return randomBytes(8).readBigUInt64LE(0) & MAX_RANDOM_SEED;
}

/**
 * splitmix64 (Steele, Lea & Flood 2014; Vigna's reference `splitmix64.c`): advances `state` by
 * the golden-ratio increment and returns the mixed 64-bit output plus the new state.
 */
export function splitmix64(state: bigint): { value: bigint; state: bigint } {
  const next = (state + 0x9e3779b97f4a7c15n) & MASK64;
  let z = next;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return { value: z ^ (z >> 31n), state: next };
}

function rotl32(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/**
 * xoshiro128** 1.1 (Blackman & Vigna, reference `xoshiro128starstar.c`): 128 bits of state in four
 * uint32 words, 32-bit outputs. Only 32-bit integer operations, so results are exact everywhere.
 */
export class Xoshiro128StarStar {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** Starts from four uint32 state words (not all zero). */
  constructor(s0: number, s1: number, s2: number, s3: number) {
    this.s0 = s0 >>> 0;
    this.s1 = s1 >>> 0;
    this.s2 = s2 >>> 0;
    this.s3 = s3 >>> 0;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0)
      throw new BigGanError('INTERNAL', 'xoshiro128**: the all-zero state is not allowed');
  }

  /**
   * Seeds from a 64-bit seed: two splitmix64 outputs a, b (state starting at the seed) give
   * s0 = low32(a), s1 = high32(a), s2 = low32(b), s3 = high32(b). splitmix64 is a bijection of its
   * counter, so a and b are never both zero.
   */
  static fromSeed(seed: bigint): Xoshiro128StarStar {
    const a = splitmix64(seed & MASK64);
    const b = splitmix64(a.state);
    const lo = (x: bigint) => Number(x & 0xffffffffn);
    const hi = (x: bigint) => Number(x >> 32n);
    return new Xoshiro128StarStar(lo(a.value), hi(a.value), lo(b.value), hi(b.value));
  }

  /** Next output, an unsigned 32-bit integer. */
  nextUint32(): number {
    const result = Math.imul(rotl32(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl32(this.s3, 11);
    return result;
  }

  /**
   * Uniform double in [0, 1) with 53 random bits: two outputs a, b give
   * ((a >>> 5) * 2^26 + (b >>> 6)) / 2^53, exact in float64.
   */
  nextDouble(): number {
    const a = this.nextUint32() >>> 5; // 27 bits
    const b = this.nextUint32() >>> 6; // 26 bits
    return (a * 67108864 + b) / 9007199254740992;
  }
}
