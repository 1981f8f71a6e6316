/**
 * Random-weight BigGAN-deep state_dicts of any config, for load tests and benchmarks
 * (`biggan-serve init-random`). The tensors have the reference's keys and shapes; the
 * spectral-norm buffers are set the way the reference's converter leaves them
 * (v = normalize(random), u = normalize(W_mat v)), so sigma = ||W_mat v|| as in the published files.
 */
import { type BigGanConfig, expectedStateDict, numel } from './config.js';
import type { StateDict } from '../weights/state-dict.js';

/** mulberry32: a small, fast, seeded 32-bit generator; quality is ample for random weights. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fills `out` with N(mean, std) values (Box-Muller on the seeded generator). */
function fillNormal(out: Float32Array, rand: () => number, mean: number, std: number): void {
  for (let i = 0; i < out.length; i += 2) {
    const u1 = rand() || 1e-12;
    const r = Math.sqrt(-2 * Math.log(u1)) * std;
    const th = 2 * Math.PI * rand();
    out[i] = mean + r * Math.cos(th);
    if (i + 1 < out.length) out[i + 1] = mean + r * Math.sin(th);
  }
}

function normalize(a: Float32Array): void {
  let s = 0;
  for (const x of a) s += x * x;
  const n = Math.max(Math.sqrt(s), 1e-4);
  for (let i = 0; i < a.length; i++) a[i] /= n;
}

/**
 * A random state_dict for `config`. Weights ~ N(0, 1/sqrt(fan_in)) so activations keep their
 * scale; biases small; statistics rows like the fixture's (means N(0, 0.2), vars U(0.5, 2)).
 * Deterministic for a given seed.
 */
export function randomStateDict(config: BigGanConfig, seed = 0): StateDict {
  const rand = mulberry32(seed);
  const sd: StateDict = new Map();
  const expected = expectedStateDict(config);
  for (const [key, { shape }] of expected) {
    const data = new Float32Array(numel(shape));
    if (key.endsWith('.weight_orig')) {
      const fanIn = data.length / shape[0];
      fillNormal(data, rand, 0, 1 / Math.sqrt(fanIn));
    } else if (key.endsWith('.bias') && key !== 'generator.bn.bias') {
      fillNormal(data, rand, 0, 0.01);
    } else if (key.endsWith('.running_means')) {
      fillNormal(data, rand, 0, 0.2);
    } else if (key.endsWith('.running_vars')) {
      for (let i = 0; i < data.length; i++) data[i] = 0.5 + 1.5 * rand();
    } else if (key === 'generator.bn.weight') {
      fillNormal(data, rand, 1, 0.1);
    } else if (key === 'generator.bn.bias') {
      fillNormal(data, rand, 0, 0.1);
    } else if (key.endsWith('.gamma')) {
      data[0] = 0.7;
    } else if (key === 'embeddings.weight') {
      fillNormal(data, rand, 0, 0.3);
    } else if (key.endsWith('.weight_v')) {
      fillNormal(data, rand, 0, 1);
      normalize(data);
    }
    // weight_u is filled below, once its weight_orig and weight_v exist.
    sd.set(key, { shape, data });
  }
  for (const [key, t] of sd) {
    if (!key.endsWith('.weight_u')) continue;
    const prefix = key.slice(0, -'.weight_u'.length);
    const w = sd.get(`${prefix}.weight_orig`)!.data;
    const v = sd.get(`${prefix}.weight_v`)!.data;
    const cols = v.length;
    for (let r = 0; r < t.data.length; r++) {
      let acc = 0;
      for (let c = 0; c < cols; c++) acc += w[r * cols + c] * v[c];
      t.data[r] = acc;
    }
    normalize(t.data);
    // sigma = u . (W v) = gain^-1 ||W v||: the folded layer is W / sigma = gain * W / ||W v||.
    const gain = layerGain(prefix);
    for (let r = 0; r < t.data.length; r++) t.data[r] /= gain;
  }
  return sd;
}

/**
 * Gain of a spectral-normed layer in a random model. Without trained weights nothing keeps the
 * residual stream bounded: at gain 1 everywhere activations grow by orders of magnitude over the
 * blocks and every output saturates. Small gains on the conditional batch-norm linears
 * (gamma ~ 1, beta ~ 0) and on the residual branches' last convolutions keep the activations
 * O(1), so random models give unsaturated images and meaningful engine comparisons.
 */
function layerGain(prefix: string): number {
  if (prefix.endsWith('.scale') || prefix.endsWith('.offset')) return RANDOM_GAINS.condBatchNorm;
  if (prefix.endsWith('.conv_3') || prefix.endsWith('.snconv1x1_o_conv')) return RANDOM_GAINS.residualOut;
  return 1;
}

/** Gains used by `randomStateDict` (exported for tests and experiments). */
export const RANDOM_GAINS = { condBatchNorm: 0.05, residualOut: 0.3 };
