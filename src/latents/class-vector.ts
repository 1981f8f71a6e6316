/**
 * Class vectors ([numClasses] float32 weights fed to the class embedding) from a client's class
 * spec, and validation of explicit z / class-vector rows sent by clients (JSON rows or gRPC's
 * flattened repeated floats).
 */
import { BigGanError, invalidArgument, quoteValue } from '../errors.js';
import { resolveClass } from './imagenet-classes.js';

/** A class as a client gives it: index, name/WordNet id, or a mixture {class: weight}. */
export type ClassSpec = number | string | Record<string, number>;

/**
 * The class vector [numClasses] for a spec: one-hot for an index or name; for a mixture
 * ({"207": 0.7, "golden retriever": 0.3}) each key is resolved and its weight added (a class named
 * twice gets the sum). Weights must be finite and >= 0 with at least one > 0; they are NOT
 * renormalised, since the reference accepts any mixture.
 */
export function classVector(spec: ClassSpec, numClasses: number, field: string): Float32Array {
  if (typeof spec === 'number' || typeof spec === 'string') {
    const out = new Float32Array(numClasses);
    out[resolveClass(spec, field, numClasses)] = 1;
    return out;
  }
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    throw invalidArgument(
      field,
      `must be a class index, a class name or an object {class: weight}, got ${quoteValue(spec)}`,
    );
  }
  const entries = Object.entries(spec);
  if (entries.length === 0) throw invalidArgument(field, 'a class mixture must name at least one class, got {}');
  // Sum in float64 and round once, so duplicates add without an extra float32 rounding.
  const acc = new Float64Array(numClasses);
  let positive = false;
  for (const [key, weight] of entries) {
    const at = `${field}[${quoteValue(key)}]`;
    const index = resolveClass(key, at, numClasses);
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) {
      throw invalidArgument(at, `mixture weight must be a finite number >= 0, got ${quoteValue(weight)}`);
    }
    acc[index] += weight;
    if (weight > 0) positive = true;
  }
  if (!positive) throw invalidArgument(field, 'a class mixture needs at least one weight > 0');
  const out = Float32Array.from(acc);
  for (let i = 0; i < numClasses; i++) {
    if (!Number.isFinite(out[i])) throw invalidArgument(field, `weight of class ${i} overflows float32 (${acc[i]})`);
  }
  return out;
}

/** The non-zero weights of a class vector, keyed by class index (for responses). */
export function describeClass(vector: Float32Array): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < vector.length; i++) if (vector[i] !== 0) out[String(i)] = vector[i];
  return out;
}

/** Validation of one value; returns an error text or undefined. */
type ValueCheck = (v: number) => string | undefined;

const finiteF32: ValueCheck = (v) =>
  Number.isFinite(v) && Number.isFinite(Math.fround(v)) ? undefined : 'must be a finite number within float32 range';
const nonNegativeF32: ValueCheck = (v) => finiteF32(v) ?? (v < 0 ? 'must be >= 0' : undefined);

/**
 * Largest |z| accepted in an explicit latent. The prior lives in [-2, 2] (truncated normal); far
 * outside it every activation saturates and the image is flat and meaningless, so a value past
 * this bound is a client mistake (1e30 passes float32 but no model output makes sense of it).
 */
export const MAX_ABS_Z = 100;
const boundedZ: ValueCheck = (v) =>
  finiteF32(v) ??
  (Math.abs(v) > MAX_ABS_Z ? `must be within [-${MAX_ABS_Z}, ${MAX_ABS_Z}] (the prior lives in [-2, 2])` : undefined);

function checkValue(v: unknown, at: string, check: ValueCheck): number {
  if (typeof v !== 'number') throw invalidArgument(at, `must be a number, got ${quoteValue(v)}`);
  const problem = check(v);
  if (problem !== undefined) throw invalidArgument(at, `${problem}, got ${quoteValue(v)}`);
  return v;
}

function parseRows(rows: unknown, width: number, field: string, what: string, check: ValueCheck): Float32Array {
  if (!Number.isSafeInteger(width) || width <= 0)
    throw new BigGanError('INTERNAL', `row width must be a positive integer, got ${width}`);
  if (!Array.isArray(rows) || rows.length === 0) {
    throw invalidArgument(
      field,
      `must be a non-empty list of rows, each a list of ${width} numbers (${what}), got ${quoteValue(rows)}`,
    );
  }
  const out = new Float32Array(rows.length * width);
  rows.forEach((row: unknown, r: number) => {
    if (!Array.isArray(row)) {
      throw invalidArgument(`${field}[${r}]`, `must be a list of ${width} numbers (${what}), got ${quoteValue(row)}`);
    }
    if (row.length !== width)
      throw invalidArgument(`${field}[${r}]`, `must have ${width} numbers (${what}), got ${row.length}`);
    for (let c = 0; c < width; c++) out[r * width + c] = checkValue(row[c], `${field}[${r}][${c}]`, check);
  });
  return out;
}

/**
 * Validates explicit class-vector rows (a list of lists of numClasses finite numbers >= 0) and
 * returns them as [n, numClasses] float32, row-major.
 */
export function parseClassVectorRows(rows: unknown, numClasses: number, field: string): Float32Array {
  return parseRows(rows, numClasses, field, 'one weight per class', nonNegativeF32);
}

/**
 * Validates explicit z rows (a list of lists of zDim numbers, each |v| <= MAX_ABS_Z) and returns them as
 * [n, zDim] float32, row-major. They are used as given: no truncation or clipping.
 */
export function parseZRows(rows: unknown, zDim: number, field: string): Float32Array {
  return parseRows(rows, zDim, field, 'z_dim values', boundedZ);
}
