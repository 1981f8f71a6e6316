/**
 * The truncation rule, written once: BigGAN-deep's reference asserts 0 < truncation <= 1. The
 * truncation scales z (z = t * truncnorm(-2, 2)) and selects the batch-norm statistics (row
 * t * (n_stats - 1)), so every layer that accepts one checks it with this module.
 */
import { type BigGanError, invalidArgument, quoteValue } from '../errors.js';

/** The truncation used when a request or flag gives none (the reference's examples use 0.4). */
export const DEFAULT_TRUNCATION = 0.4;
/** Lower bound, excluded: a truncation must be greater than this. */
export const TRUNCATION_MIN_EXCLUSIVE = 0;
/** Upper bound, included. */
export const TRUNCATION_MAX = 1;

/** The INVALID_ARGUMENT error for `value` at `field`, or undefined when it is a valid truncation. */
export function truncationError(value: unknown, field = 'truncation'): BigGanError | undefined {
  if (
    typeof value === 'number' &&
    Number.isFinite(value) &&
    value > TRUNCATION_MIN_EXCLUSIVE &&
    value <= TRUNCATION_MAX
  )
    return undefined;
  return invalidArgument(
    field,
    `must be a number with ${TRUNCATION_MIN_EXCLUSIVE} < truncation <= ${TRUNCATION_MAX}, got ${quoteValue(value)}`,
  );
}

/** Throws `truncationError(value, field)` unless `value` is a valid truncation. */
export function checkTruncation(value: unknown, field = 'truncation'): asserts value is number {
  const err = truncationError(value, field);
  if (err) throw err;
}
