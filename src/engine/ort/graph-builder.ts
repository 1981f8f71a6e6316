/**
 * Builds the BigGAN-deep generator as an ONNX graph, in TypeScript, from the folded weights
 * (shared/docs/biggan-deep.md): no Python and no export step.
 *
 * Inputs:  z [batch, zDim], class_vector [batch, numClasses], stat_weights [batch, nStats]
 *          (= statWeights(truncations, nStats): per-sample batch-norm statistics, so one batch can
 *          mix truncations).
 * Output:  image [batch, H, W, 3], NHWC tanh values.
 *
 * Layout of the conditioning work (all per-sample, all tiny next to the convolutions):
 * - one Gemm computes gen_z and every batch-norm's gamma and beta from cond at once;
 * - one MatMul blends every batch-norm's mean and var rows with stat_weights;
 * - each batch-norm then becomes a per-sample affine x * scale + shift with
 *   scale = gamma / sqrt(var + eps) and shift = beta - mean * scale ([B, C, 1, 1]).
 */
import { encodeModel, attr, type OnnxAttribute, type OnnxNode, type OnnxTensor } from './onnx-proto.js';
import type { FoldedGenerator, FoldedBlock, FoldedAttention, FoldedConv, StatTable } from '../../model/folded-weights.js';

/** Names of the graph's inputs and output. */
export const ONNX_IO = { z: 'z', classVector: 'class_vector', statWeights: 'stat_weights', image: 'image' } as const;

/** Accumulates nodes and initializers with unique names. */
class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private counter = 0;
  private readonly int64Cache = new Map<string, string>();

  fresh(base: string): string {
    return `${base}_${this.counter++}`;
  }

  /** A float32 initializer; `data` may be chunks written back to back. */
  constant(base: string, dims: readonly number[], data: Float32Array | readonly Float32Array[]): string {
    const name = this.fresh(base);
    this.initializers.push({ name, dims, data });
    return name;
  }

  /** A 1-D int64 initializer, shared between nodes that need the same values. */
  ints(values: readonly number[]): string {
    const key = values.join(',');
    let name = this.int64Cache.get(key);
    if (!name) {
      name = this.fresh('i64');
      this.initializers.push({ name, dims: [values.length], data: BigInt64Array.from(values, (v) => BigInt(v)) });
      this.int64Cache.set(key, name);
    }
    return name;
  }

  /** Adds a node with one output and returns that output's name. */
  op(opType: string, inputs: readonly string[], attributes?: readonly OnnxAttribute[], base = opType.toLowerCase()): string {
    const out = this.fresh(base);
    this.nodes.push({ opType, inputs, outputs: [out], name: out, ...(attributes ? { attributes } : {}) });
    return out;
  }

  /** Adds a node with several outputs. */
  opN(opType: string, inputs: readonly string[], count: number, attributes?: readonly OnnxAttribute[]): string[] {
    const outs = Array.from({ length: count }, () => this.fresh(opType.toLowerCase()));
    this.nodes.push({ opType, inputs, outputs: outs, name: outs[0], ...(attributes ? { attributes } : {}) });
    return outs;
  }
}

/** One batch-norm's place in the concatenated per-sample scale/shift vectors. */
interface BnSlot {
  readonly stats: StatTable;
  readonly channels: number;
  /** Rows of gamma's and beta's linear ([C, condDim]); undefined for the final (unconditional) bn. */
  readonly scaleW?: Float32Array;
  readonly offsetW?: Float32Array;
  /** Constant gamma/beta of the final bn. */
  readonly weight?: Float32Array;
  readonly bias?: Float32Array;
}

/** Every batch-norm in execution order: bn_0..bn_3 of each block, then the final bn. */
function batchNormSlots(folded: FoldedGenerator): BnSlot[] {
  const slots: BnSlot[] = [];
  for (const m of folded.modules) {
    if (m.plan.kind !== 'block') continue;
    for (const bn of (m as FoldedBlock).bn) {
      slots.push({ stats: bn.stats, channels: bn.stats.channels, scaleW: bn.scale.weight, offsetW: bn.offset.weight });
    }
  }
  const f = folded.finalBn;
  slots.push({ stats: f.stats, channels: f.stats.channels, weight: f.weight, bias: f.bias });
  return slots;
}

/**
 * The conditioning Gemm: cond [B, condDim] -> [B, genZ | gamma (S) | beta (S)].
 * gamma = 1 + scale(cond) puts the 1 in the Gemm bias; the final bn's constant weight and bias
 * enter as zero weight rows plus bias, so every batch-norm is handled by the same path.
 */
function conditioningGemm(g: GraphBuilder, folded: FoldedGenerator, slots: BnSlot[], cond: string): { genZ: string; gamma: string; beta: string; total: number } {
  const condDim = folded.genZ.inDim;
  const S = slots.reduce((a, s) => a + s.channels, 0);
  const genZOut = folded.genZ.outDim;
  const rows = (pick: (s: BnSlot) => Float32Array | undefined) =>
    slots.map((s) => pick(s) ?? new Float32Array(s.channels * condDim));
  const weight = [folded.genZ.weight, ...rows((s) => s.scaleW), ...rows((s) => s.offsetW)];
  const bias = new Float32Array(genZOut + 2 * S);
  bias.set(folded.genZ.bias ?? new Float32Array(genZOut), 0);
  let off = genZOut;
  for (const s of slots) {
    if (s.weight) bias.set(s.weight, off);
    else bias.fill(1, off, off + s.channels);
    off += s.channels;
  }
  for (const s of slots) {
    if (s.bias) bias.set(s.bias, off);
    off += s.channels;
  }
  const W = g.constant('cond_w', [genZOut + 2 * S, condDim], weight);
  const b = g.constant('cond_b', [genZOut + 2 * S], bias);
  const all = g.op('Gemm', [cond, W, b], [attr.int('transB', 1)], 'cond_linear'); // [B, genZ + 2S]
  const [genZ, gamma, beta] = g.opN('Split', [all, g.ints([genZOut, S, S])], 3, [attr.int('axis', 1)]);
  return { genZ, gamma, beta, total: S };
}

/**
 * Per-sample statistics for every batch-norm: stat_weights [B, nStats] @ [nStats, 2S] -> mean, var.
 * Rows of the table are [means of every bn | vars of every bn] at one truncation grid point.
 */
function blendedStats(g: GraphBuilder, slots: BnSlot[], nStats: number, S: number): { mean: string; variance: string } {
  const table = new Float32Array(nStats * 2 * S);
  let col = 0;
  for (const s of slots) {
    const C = s.channels;
    for (let j = 0; j < nStats; j++) {
      table.set(s.stats.means.subarray(j * C, (j + 1) * C), j * 2 * S + col);
      table.set(s.stats.vars.subarray(j * C, (j + 1) * C), j * 2 * S + S + col);
    }
    col += C;
  }
  const T = g.constant('bn_stats', [nStats, 2 * S], table);
  const st = g.op('MatMul', [ONNX_IO.statWeights, T], undefined, 'bn_stats_blend'); // [B, 2S]
  const [mean, variance] = g.opN('Split', [st, g.ints([S, S])], 2, [attr.int('axis', 1)]);
  return { mean, variance };
}

/** How a batch-norm + ReLU is expressed in the graph (see `GraphOptions.batchNorm`). */
export type BatchNormStyle = 'affine' | 'batchnorm';

/** Graph-shape choices that do not change the math (only speed and rounding at the 1e-7 level). */
export interface GraphOptions {
  /**
   * 'affine': x * scale + shift with per-sample [B, C, 1, 1] scale/shift (Mul, Add, Relu).
   * 'batchnorm': one BatchNormalization over the [1, B*C, H, W] view with per-sample
   * statistics and gamma/beta as its inputs (one pass instead of two, then Relu).
   */
  readonly batchNorm?: BatchNormStyle;
}

/** One batch-norm's per-sample parameters as the chosen style consumes them. */
interface BnParams {
  readonly channels: number;
  /** affine: [B, C, 1, 1] each. batchnorm: [B*C] each (gamma, beta, mean, var). */
  readonly inputs: readonly string[];
}

/** Computes every batch-norm's per-sample parameters and splits them per batch-norm. */
function batchNormParams(g: GraphBuilder, folded: FoldedGenerator, slots: BnSlot[], cond: string, style: BatchNormStyle): { params: BnParams[]; genZ: string } {
  const { genZ, gamma, beta, total } = conditioningGemm(g, folded, slots, cond);
  const { mean, variance } = blendedStats(g, slots, folded.config.nStats, total);
  const sizes = g.ints(slots.map((s) => s.channels));
  const split = (t: string) => g.opN('Split', [t, sizes], slots.length, [attr.int('axis', 1)]);
  if (style === 'batchnorm') {
    const parts = [gamma, beta, mean, variance].map(split);
    const flat = g.ints([-1]);
    const params = slots.map((s, i) => ({ channels: s.channels, inputs: parts.map((p) => g.op('Reshape', [p[i], flat])) }));
    return { params, genZ };
  }
  // scale = gamma / sqrt(var + eps), shift = beta - mean * scale: y = x * scale + shift.
  const eps = g.constant('eps', [], new Float32Array([folded.config.eps]));
  const scale = g.op('Div', [gamma, g.op('Sqrt', [g.op('Add', [variance, eps])])], undefined, 'bn_scale'); // [B, S]
  const shift = g.op('Sub', [beta, g.op('Mul', [mean, scale])], undefined, 'bn_shift'); // [B, S]
  const scales = split(scale);
  const shifts = split(shift);
  const axes = g.ints([2, 3]);
  const params = slots.map((s, i) => ({
    channels: s.channels,
    inputs: [g.op('Unsqueeze', [scales[i], axes]), g.op('Unsqueeze', [shifts[i], axes])], // [B, C, 1, 1]
  }));
  return { params, genZ };
}

/** relu(batchnorm(x)) with per-sample statistics and gamma/beta. x: [B, C, res, res]. */
function bnRelu(g: GraphBuilder, x: string, p: BnParams, res: number, eps: number): string {
  if (p.inputs.length === 2) return g.op('Relu', [g.op('Add', [g.op('Mul', [x, p.inputs[0]]), p.inputs[1]])]);
  // Samples become channels: [1, B*C, H, W] (a view), so per-sample parameters are per-channel.
  const flat = g.op('Reshape', [x, g.ints([1, -1, res, res])]);
  const y = g.op('BatchNormalization', [flat, ...p.inputs], [attr.float('epsilon', eps)]);
  return g.op('Relu', [g.op('Reshape', [y, g.ints([-1, p.channels, res, res])])]);
}

function conv(g: GraphBuilder, x: string, c: FoldedConv, base: string, weight: Float32Array | readonly Float32Array[] = c.weight): string {
  const W = g.constant(`${base}_w`, [c.outC, c.inC, c.k, c.k], weight);
  const inputs = [x, W];
  if (c.bias) inputs.push(g.constant(`${base}_b`, [c.outC], c.bias));
  const pad = (c.k - 1) / 2;
  return g.op('Conv', inputs, [attr.ints('kernel_shape', [c.k, c.k]), attr.ints('pads', [pad, pad, pad, pad])], base);
}

/** Nearest 2x upsampling: out[y, x] = in[floor(y/2), floor(x/2)]. */
function upsample2x(g: GraphBuilder, x: string): string {
  const scales = g.constant('up_scales', [4], new Float32Array([1, 1, 2, 2]));
  return g.op(
    'Resize',
    [x, '', scales],
    [attr.string('mode', 'nearest'), attr.string('coordinate_transformation_mode', 'asymmetric'), attr.string('nearest_mode', 'floor')],
    'upsample',
  );
}

function genBlock(g: GraphBuilder, x: string, blk: FoldedBlock, bn: readonly BnParams[], eps: number): string {
  const { plan } = blk;
  const base = `block${plan.module}`;
  const r0 = plan.inRes;
  const r1 = plan.upsample ? 2 * r0 : r0;
  let h = conv(g, bnRelu(g, x, bn[0], r0, eps), blk.conv[0], `${base}_conv0`); // [B, mid, r0, r0]
  h = bnRelu(g, h, bn[1], r0, eps);
  if (plan.upsample) h = upsample2x(g, h); // [B, mid, r1, r1]
  h = conv(g, h, blk.conv[1], `${base}_conv1`);
  h = conv(g, bnRelu(g, h, bn[2], r1, eps), blk.conv[2], `${base}_conv2`);
  h = conv(g, bnRelu(g, h, bn[3], r1, eps), blk.conv[3], `${base}_conv3`); // [B, out, r1, r1]
  let skip = x;
  // The channel drop comes before the skip's upsample (fewer values to copy).
  if (plan.inC !== plan.outC) skip = g.op('Slice', [skip, g.ints([0]), g.ints([plan.outC]), g.ints([1])]);
  if (plan.upsample) skip = upsample2x(g, skip);
  return g.op('Add', [h, skip], undefined, `${base}_out`);
}

function selfAttention(g: GraphBuilder, x: string, att: FoldedAttention): string {
  const C = att.plan.channels;
  const res = att.plan.res;
  const N = res * res;
  const c8 = C / 8;
  const c2 = C / 2;
  const base = `attn${att.plan.module}`;
  const theta = conv(g, x, att.theta, `${base}_theta`); // [B, C/8, H, W]
  const thetaT = g.op('Transpose', [g.op('Reshape', [theta, g.ints([0, c8, N])])], [attr.ints('perm', [0, 2, 1])]); // [B, N, C/8]
  // phi and g share one 1x1 convolution and one max-pool: their weights are stacked on the output axis.
  const pgConv: FoldedConv = { outC: c8 + c2, inC: C, k: 1, weight: new Float32Array(0), sigma: 1 };
  const pg = conv(g, x, pgConv, `${base}_phi_g`, [att.phi.weight, att.g.weight]); // [B, 5C/8, H, W]
  const pooled = g.op('MaxPool', [pg], [attr.ints('kernel_shape', [2, 2]), attr.ints('strides', [2, 2])]); // [B, 5C/8, H/2, W/2]
  const [phi, gv] = g.opN('Split', [g.op('Reshape', [pooled, g.ints([0, c8 + c2, N / 4])]), g.ints([c8, c2])], 2, [attr.int('axis', 1)]);
  const logits = g.op('MatMul', [thetaT, phi], undefined, `${base}_logits`); // [B, N, N/4]
  const A = g.op('Softmax', [logits], [attr.int('axis', -1)]); // over the pooled key positions
  // (g @ A^T)^T = A @ g^T: transposing g [C/2, N/4] and the result [N, C/2] is cheaper than A [N, N/4].
  const gT = g.op('Transpose', [gv], [attr.ints('perm', [0, 2, 1])]); // [B, N/4, C/2]
  const oT = g.op('MatMul', [A, gT]); // [B, N, C/2]
  const o = g.op('Reshape', [g.op('Transpose', [oT], [attr.ints('perm', [0, 2, 1])]), g.ints([0, c2, res, res])]); // [B, C/2, H, W]
  // x + gamma * o_conv(o): gamma is folded into the o_conv weights.
  const wo = att.o.weight.map((w) => w * att.gamma);
  const oc = conv(g, o, att.o, `${base}_o`, wo); // [B, C, H, W]
  return g.op('Add', [x, oc], undefined, `${base}_out`);
}

/** Builds the generator graph and serialises it to ONNX bytes (one buffer, ~ the weights' size). */
export function buildOnnxModel(folded: FoldedGenerator, opts: GraphOptions = {}): Uint8Array {
  const { config } = folded;
  const g = new GraphBuilder();
  // cond = concat(z, class_vector @ E^T)   [B, 2 zDim]
  const E = g.constant('embeddings', [config.zDim, config.numClasses], folded.embeddings);
  const embed = g.op('Gemm', [ONNX_IO.classVector, E], [attr.int('transB', 1)], 'embed');
  const cond = g.op('Concat', [ONNX_IO.z, embed], [attr.int('axis', 1)], 'cond');

  const slots = batchNormSlots(folded);
  const { params, genZ } = batchNormParams(g, folded, slots, cond, opts.batchNorm ?? 'affine');
  const eps = config.eps;

  // gen_z's features are in TF order (y, x, c): view as [B, 4, 4, C], then NCHW.
  const C0 = folded.genZChannels;
  let h = g.op('Transpose', [g.op('Reshape', [genZ, g.ints([0, 4, 4, C0])])], [attr.ints('perm', [0, 3, 1, 2])], 'gen_z'); // [B, C0, 4, 4]

  let bnIndex = 0;
  for (const m of folded.modules) {
    if (m.plan.kind === 'block') {
      h = genBlock(g, h, m as FoldedBlock, params.slice(bnIndex, bnIndex + 4), eps);
      bnIndex += 4;
    } else {
      h = selfAttention(g, h, m as FoldedAttention);
    }
  }
  h = bnRelu(g, h, params[bnIndex], config.outputDim, eps);
  h = g.op('Tanh', [conv(g, h, folded.toRgb, 'to_rgb')]); // [B, 3, H, W]
  g.nodes.push({ opType: 'Transpose', inputs: [h], outputs: [ONNX_IO.image], name: 'to_nhwc', attributes: [attr.ints('perm', [0, 2, 3, 1])] });

  const R = config.outputDim;
  return encodeModel({
    name: 'biggan_deep',
    nodes: g.nodes,
    initializers: g.initializers,
    inputs: [
      { name: ONNX_IO.z, elemType: 'float', shape: ['batch', config.zDim] },
      { name: ONNX_IO.classVector, elemType: 'float', shape: ['batch', config.numClasses] },
      { name: ONNX_IO.statWeights, elemType: 'float', shape: ['batch', config.nStats] },
    ],
    outputs: [{ name: ONNX_IO.image, elemType: 'float', shape: ['batch', R, R, 3] }],
  });
}
