/**
 * The generator's weights with spectral normalisation folded in once, at load time: every
 * `weight_orig` is divided by `sigma = u . (W_mat v)` (eval-mode rule: the stored u and v, no
 * power iteration; biases are NOT divided). Engines (tfjs, ONNX Runtime) build from this form.
 * All tensors keep PyTorch layout; engines transpose as they need.
 */
import { type BigGanConfig, type BlockPlan, type AttentionPlan, modulePlan, genZChannels } from './config.js';
import type { StateDict, StateTensor } from '../weights/state-dict.js';
import { invalidWeights } from '../errors.js';

/** A spectral-normed Linear: `y = x W^T + b`, W [outDim, inDim] row-major, already divided by sigma. */
export interface FoldedLinear {
  readonly outDim: number;
  readonly inDim: number;
  readonly weight: Float32Array; // [outDim, inDim]
  readonly bias?: Float32Array; // [outDim]
  /** The divisor that was applied (for diagnostics and tests). */
  readonly sigma: number;
}

/** A spectral-normed Conv2d (stride 1, padding k/2), W [outC, inC, k, k] row-major, already divided by sigma. */
export interface FoldedConv {
  readonly outC: number;
  readonly inC: number;
  readonly k: 1 | 3;
  readonly weight: Float32Array; // [outC, inC, k, k]
  readonly bias?: Float32Array; // [outC]
  readonly sigma: number;
}

/** Running statistics: [nStats, C] row-major; row j was recorded at truncation j / (nStats - 1). */
export interface StatTable {
  readonly channels: number;
  readonly means: Float32Array; // [nStats, C]
  readonly vars: Float32Array; // [nStats, C]
}

/** Conditional batch-norm: gamma = 1 + scale(cond), beta = offset(cond), both [B, C]. */
export interface FoldedCondBatchNorm {
  readonly stats: StatTable;
  readonly scale: FoldedLinear; // [C, condDim], no bias
  readonly offset: FoldedLinear; // [C, condDim], no bias
}

/** A GenBlock's folded weights. */
export interface FoldedBlock {
  readonly plan: BlockPlan;
  readonly bn: readonly [FoldedCondBatchNorm, FoldedCondBatchNorm, FoldedCondBatchNorm, FoldedCondBatchNorm];
  readonly conv: readonly [FoldedConv, FoldedConv, FoldedConv, FoldedConv];
}

/** SelfAttn's folded weights (its four 1x1 convolutions have no bias). */
export interface FoldedAttention {
  readonly plan: AttentionPlan;
  readonly theta: FoldedConv; // [C/8, C, 1, 1]
  readonly phi: FoldedConv; // [C/8, C, 1, 1]
  readonly g: FoldedConv; // [C/2, C, 1, 1]
  readonly o: FoldedConv; // [C, C/2, 1, 1]
  readonly gamma: number;
}

/** Everything an engine needs to run the generator. */
export interface FoldedGenerator {
  readonly config: BigGanConfig;
  /** `embeddings.weight` [zDim, numClasses]: embed = class_vector @ E^T. Not spectral-normed. */
  readonly embeddings: Float32Array;
  /** gen_z: [16ch*4*4, 2*zDim]; output feature o maps to (y, x, c) with o = (y*4 + x)*16ch + c. */
  readonly genZ: FoldedLinear;
  /** Channels of gen_z's 4x4 map. */
  readonly genZChannels: number;
  readonly modules: readonly (FoldedBlock | FoldedAttention)[];
  readonly finalBn: { readonly stats: StatTable; readonly weight: Float32Array; readonly bias: Float32Array };
  /** conv_to_rgb restricted to its 3 kept output channels; sigma came from the full matrix. */
  readonly toRgb: FoldedConv;
}

function get(sd: StateDict, key: string): StateTensor {
  const t = sd.get(key);
  if (!t) throw invalidWeights(`missing tensor ${key}`);
  return t;
}

/**
 * sigma = u . (W_mat v), W_mat = W.reshape(out, -1). Accumulated in float64 and rounded to
 * float32 (PyTorch computes it in float32; the difference is below 1e-7 relative).
 */
export function spectralSigma(w: Float32Array, u: Float32Array, v: Float32Array): number {
  const out = u.length;
  const cols = v.length;
  if (w.length !== out * cols)
    throw invalidWeights(`spectral norm: weight has ${w.length} values, expected ${out} x ${cols}`);
  let sigma = 0;
  for (let r = 0; r < out; r++) {
    let acc = 0;
    const base = r * cols;
    for (let c = 0; c < cols; c++) acc += w[base + c] * v[c];
    sigma += u[r] * Math.fround(acc);
  }
  return Math.fround(sigma);
}

/** Divides weight_orig by sigma; keeps only the first `keepOut` output rows (default: all). */
function foldWeight(
  sd: StateDict,
  prefix: string,
  keepOut?: number,
): { weight: Float32Array; shape: readonly number[]; sigma: number } {
  const w = get(sd, `${prefix}.weight_orig`);
  const u = get(sd, `${prefix}.weight_u`).data;
  const v = get(sd, `${prefix}.weight_v`).data;
  const sigma = spectralSigma(w.data, u, v);
  if (!Number.isFinite(sigma) || sigma === 0)
    throw invalidWeights(`${prefix}: spectral-norm sigma is ${sigma}; u and v do not fit weight_orig`);
  const rowLen = w.data.length / w.shape[0];
  const rows = keepOut ?? w.shape[0];
  // Divided in place: the state_dict's buffer becomes the folded weights, so loading never holds
  // a second copy of the model (the state_dict must not be used afterwards).
  const weight = w.data.subarray(0, rows * rowLen);
  for (let i = 0; i < weight.length; i++) weight[i] = weight[i] / sigma;
  return { weight, shape: w.shape, sigma };
}

function foldLinear(sd: StateDict, prefix: string, hasBias: boolean): FoldedLinear {
  const { weight, shape, sigma } = foldWeight(sd, prefix);
  const out: FoldedLinear = { outDim: shape[0], inDim: shape[1], weight, sigma };
  return hasBias ? { ...out, bias: get(sd, `${prefix}.bias`).data } : out;
}

function foldConv(sd: StateDict, prefix: string, hasBias: boolean, keepOut?: number): FoldedConv {
  const { weight, shape, sigma } = foldWeight(sd, prefix, keepOut);
  const k = shape[2];
  if (k !== 1 && k !== 3) throw invalidWeights(`${prefix}: kernel size ${k} (expected 1 or 3)`);
  const outC = keepOut ?? shape[0];
  const out: FoldedConv = { outC, inC: shape[1], k, weight, sigma };
  return hasBias ? { ...out, bias: get(sd, `${prefix}.bias`).data.slice(0, outC) } : out;
}

function stats(sd: StateDict, prefix: string): StatTable {
  const means = get(sd, `${prefix}.running_means`);
  return { channels: means.shape[1], means: means.data, vars: get(sd, `${prefix}.running_vars`).data };
}

function foldCondBn(sd: StateDict, prefix: string): FoldedCondBatchNorm {
  return {
    stats: stats(sd, prefix),
    scale: foldLinear(sd, `${prefix}.scale`, false),
    offset: foldLinear(sd, `${prefix}.offset`, false),
  };
}

/**
 * Folds a validated state_dict (see `validateStateDict`) into engine-ready weights.
 * CONSUMES the state_dict: weights are divided by sigma in place (no second copy of the model).
 */
export function foldGenerator(config: BigGanConfig, sd: StateDict): FoldedGenerator {
  const modules = modulePlan(config).map((plan): FoldedBlock | FoldedAttention => {
    const pre = `generator.layers.${plan.module}`;
    if (plan.kind === 'block') {
      return {
        plan,
        bn: [0, 1, 2, 3].map((j) => foldCondBn(sd, `${pre}.bn_${j}`)) as unknown as FoldedBlock['bn'],
        conv: [0, 1, 2, 3].map((j) => foldConv(sd, `${pre}.conv_${j}`, true)) as unknown as FoldedBlock['conv'],
      };
    }
    return {
      plan,
      theta: foldConv(sd, `${pre}.snconv1x1_theta`, false),
      phi: foldConv(sd, `${pre}.snconv1x1_phi`, false),
      g: foldConv(sd, `${pre}.snconv1x1_g`, false),
      o: foldConv(sd, `${pre}.snconv1x1_o_conv`, false),
      gamma: get(sd, `${pre}.gamma`).data[0],
    };
  });
  return {
    config,
    embeddings: get(sd, 'embeddings.weight').data,
    genZ: foldLinear(sd, 'generator.gen_z', true),
    genZChannels: genZChannels(config),
    modules,
    finalBn: {
      stats: stats(sd, 'generator.bn'),
      weight: get(sd, 'generator.bn.weight').data,
      bias: get(sd, 'generator.bn.bias').data,
    },
    toRgb: foldConv(sd, 'generator.conv_to_rgb', true, 3),
  };
}
