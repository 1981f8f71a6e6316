/**
 * Choosing batch-norm statistics from the truncation, exactly as the reference does
 * (`BigGANBatchNorm.forward` in the PyTorch port, pytorch_pretrained_biggan/model.py):
 *
 *   step = 1 / (n_stats - 1)            float64
 *   r    = truncation / step            float64 division (NOT truncation * 50)
 *   i    = floor(r), frac = r - i       math.modf
 *   frac != 0: stat = rows[i] * f32(frac) + rows[i+1] * f32(1 - frac)   (row i gets frac: reversed lerp)
 *   frac == 0: stat = rows[i]
 *
 * Engines take the result as a per-sample weight vector over the n_stats rows, so a batch can mix
 * truncations: `stats[b, c] = sum_j weights[b, j] * rows[j, c]`, with at most two non-zero weights
 * per sample. Adding the exact zeros of the other rows changes nothing.
 */
import { checkTruncation } from '../latents/truncation.js';
import type { StatTable } from './folded-weights.js';

/** The rows and float32 weights the reference blends for one truncation. */
export interface StatRows {
  /** Row indices (one or two). */
  readonly rows: readonly number[];
  /** Their weights, rounded to float32 as PyTorch does when scaling a float32 tensor. */
  readonly weights: readonly number[];
  /** The float64 weights before rounding (for diagnostics). */
  readonly weightsFloat64: readonly number[];
}

/** The reference's row selection for `truncation` with `nStats` rows. */
export function statRows(truncation: number, nStats: number): StatRows {
  checkTruncation(truncation);
  const step = 1.0 / (nStats - 1);
  const r = truncation / step;
  const i = Math.trunc(r);
  const frac = r - i; // exact: r and i are within 2^53, as in math.modf
  if (frac === 0) return { rows: [i], weights: [1], weightsFloat64: [1] };
  // i + 1 <= nStats - 1 always holds here: r < nStats - 1 whenever frac != 0 and truncation <= 1.
  return {
    rows: [i, i + 1],
    weights: [Math.fround(frac), Math.fround(1 - frac)],
    weightsFloat64: [frac, 1 - frac],
  };
}

/**
 * Per-sample weights over the statistics rows: a [B, nStats] row-major Float32Array.
 * Sample b's batch-norm statistics are `weights[b, :] @ running_stats` ([nStats, C]).
 */
export function statWeights(truncations: ArrayLike<number>, nStats: number): Float32Array {
  const out = new Float32Array(truncations.length * nStats);
  for (let b = 0; b < truncations.length; b++) {
    const { rows, weights } = statRows(truncations[b], nStats);
    rows.forEach((row, k) => {
      out[b * nStats + row] = weights[k];
    });
  }
  return out;
}

/**
 * The blended statistics for one truncation, computed in float32 the reference's way: each
 * product rounded to float32, then the sum rounded. `rows` is [nStats, C] row-major.
 */
export function blendStats(rowsData: Float32Array, channels: number, truncation: number, nStats: number): Float32Array {
  const { rows, weights } = statRows(truncation, nStats);
  const out = new Float32Array(channels);
  if (rows.length === 1) {
    out.set(rowsData.subarray(rows[0] * channels, (rows[0] + 1) * channels));
    return out;
  }
  const a = rows[0] * channels;
  const b = rows[1] * channels;
  for (let c = 0; c < channels; c++) {
    out[c] = Math.fround(rowsData[a + c] * weights[0]) + Math.fround(rowsData[b + c] * weights[1]);
  }
  return out;
}

/**
 * Several batch-norms' statistics as one table, the layout both engines multiply by
 * `statWeights`: [nStats, 2S] row-major with S = the tables' channels summed; row j is
 * [means of every table | vars of every table] at truncation j / (nStats - 1), each table's
 * channels at the offset of the tables before it. `statWeights [B, nStats] @ table` gives every
 * batch-norm's per-sample mean ([B, 0:S]) and variance ([B, S:2S]) in one product.
 */
export function concatStatTables(
  tables: readonly StatTable[],
  nStats: number,
): { readonly data: Float32Array; readonly channels: number } {
  const S = tables.reduce((a, t) => a + t.channels, 0);
  const data = new Float32Array(nStats * 2 * S);
  let col = 0;
  for (const t of tables) {
    const C = t.channels;
    for (let j = 0; j < nStats; j++) {
      data.set(t.means.subarray(j * C, (j + 1) * C), j * 2 * S + col);
      data.set(t.vars.subarray(j * C, (j + 1) * C), j * 2 * S + S + col);
    }
    col += C;
  }
  return { data, channels: S };
}
