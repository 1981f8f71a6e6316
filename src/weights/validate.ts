/**
 * Checks a loaded StateDict against the keys and shapes a model expects, reporting every problem
 * in one error, so a user fixes a wrong file or config in one round trip. Which keys and shapes a
 * model needs is the model's business (`model/config.ts`); this module only compares.
 */
import { invalidWeights } from '../errors.js';
import type { StateDict } from './state-dict.js';

/** The keys a model needs, each with its shape, in state_dict order. */
export type ExpectedShapes = ReadonlyMap<string, { readonly shape: readonly number[] }>;

const fmt = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/** Index of the first NaN or infinite value of `data`, or -1. */
function firstNonFinite(data: Float32Array): number {
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (x - x !== 0) return i; // NaN - NaN and Inf - Inf are NaN; every finite x gives 0
  }
  return -1;
}

/**
 * Throws one BigGanError('INVALID_WEIGHTS') listing all missing keys, all unexpected keys, all
 * keys whose shape differs from `expected`, and all tensors holding NaN or Inf. `source` (the
 * weight file) prefixes the message; `against` names what the weights were checked against.
 */
export function validateStateDict(expected: ExpectedShapes, sd: StateDict, source: string, against: string): void {
  const missing: string[] = [];
  const misshaped: string[] = [];
  const nonFinite: string[] = [];
  for (const [key, want] of expected) {
    const got = sd.get(key);
    if (!got) missing.push(key);
    else if (got.shape.length !== want.shape.length || got.shape.some((d, i) => d !== want.shape[i])) {
      misshaped.push(`${key} (expected ${fmt(want.shape)}, got ${fmt(got.shape)})`);
    }
  }
  const unexpected = [...sd.keys()].filter((k) => !expected.has(k));
  for (const [key, t] of sd) {
    const i = firstNonFinite(t.data);
    if (i >= 0) nonFinite.push(`${key} (element ${i} is ${t.data[i]})`);
  }
  const problems: string[] = [];
  const list = (items: string[], one: string, many: string) => {
    if (items.length) problems.push(`${items.length} ${items.length === 1 ? one : many}: ${items.join(', ')}`);
  };
  list(missing, 'missing key', 'missing keys');
  list(unexpected, 'unexpected key', 'unexpected keys');
  list(misshaped, 'key with the wrong shape', 'keys with the wrong shape');
  list(nonFinite, 'tensor with NaN or Inf', 'tensors with NaN or Inf');
  if (problems.length) {
    throw invalidWeights(`${source}: the weights do not match ${against}:\n  ${problems.join('\n  ')}`);
  }
}
