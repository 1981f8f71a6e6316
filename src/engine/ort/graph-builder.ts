/**
 * Builds the BigGAN-deep generator as an ONNX graph, in TypeScript, from the folded weights
 * (the PyTorch port's `Generator.forward`, op for op): no Python and no export step.
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
 *
 * Speed choices (measured with onnxruntime-node on 2 CPU cores, see `GraphOptions`): upsampling
 * convolutions in sub-pixel form, conv_to_rgb split into two cheap convolutions, attention in
 * query chunks, and hints that keep the residual path in ORT's blocked (NCHWc) CPU layout.
 * (Tried and dropped as slower: BatchNormalization over a [1, B*C, H, W] view instead of
 * Mul/Add; DepthToSpace for 2-D sub-pixel phases; broadcasting the skip's row repeat into the Add.)
 */
import {
  encodeModel,
  attr,
  type OnnxAttribute,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
} from './onnx-proto.js';
import type {
  FoldedGenerator,
  FoldedBlock,
  FoldedAttention,
  FoldedConv,
  StatTable,
} from '../../model/folded-weights.js';
import { concatStatTables } from '../../model/batch-norm-stats.js';

/** Names of the graph's inputs and output. */
export const ONNX_IO = { z: 'z', classVector: 'class_vector', statWeights: 'stat_weights', image: 'image' } as const;

/** Accumulates nodes and initializers with unique names. */
class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  readonly valueInfo: OnnxValueInfo[] = [];
  private counter = 0;
  private readonly cache = new Map<string, string>();

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
    return this.shared(`i64:${values.join(',')}`, () => ({
      name: this.fresh('i64'),
      dims: [values.length],
      data: BigInt64Array.from(values, (v) => BigInt(v)),
    }));
  }

  /** A small 1-D float32 initializer, shared like `ints`. */
  floats(values: readonly number[]): string {
    return this.shared(`f32:${values.join(',')}`, () => ({
      name: this.fresh('f32'),
      dims: [values.length],
      data: Float32Array.from(values),
    }));
  }

  private shared(key: string, make: () => OnnxTensor): string {
    let name = this.cache.get(key);
    if (!name) {
      const t = make();
      this.initializers.push(t);
      this.cache.set(key, (name = t.name));
    }
    return name;
  }

  /** Adds a node with one output and returns that output's name. */
  op(
    opType: string,
    inputs: readonly string[],
    attributes?: readonly OnnxAttribute[],
    base = opType.toLowerCase(),
  ): string {
    const out = this.fresh(base);
    this.nodes.push({ opType, inputs, outputs: [out], name: out, ...(attributes ? { attributes } : {}) });
    return out;
  }

  /** Declares a value's float shape; returns the name (for chaining). */
  shaped(name: string, shape: readonly (number | string)[]): string {
    this.valueInfo.push({ name, elemType: 'float', shape });
    return name;
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
function conditioningGemm(
  g: GraphBuilder,
  folded: FoldedGenerator,
  slots: BnSlot[],
  cond: string,
): { genZ: string; gamma: string; beta: string; total: number } {
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
 * The table's layout is `concatStatTables`'s: [means of every bn | vars of every bn] per grid point.
 */
function blendedStats(g: GraphBuilder, slots: BnSlot[], nStats: number, S: number): { mean: string; variance: string } {
  const table = concatStatTables(
    slots.map((s) => s.stats),
    nStats,
  ).data;
  const T = g.constant('bn_stats', [nStats, 2 * S], table);
  const st = g.op('MatMul', [ONNX_IO.statWeights, T], undefined, 'bn_stats_blend'); // [B, 2S]
  const [mean, variance] = g.opN('Split', [st, g.ints([S, S])], 2, [attr.int('axis', 1)]);
  return { mean, variance };
}

/** Graph-shape choices that keep the math (outputs move by float rounding, ~1e-6) and change speed. */
export interface GraphOptions {
  /**
   * Attention queries are processed in this many chunks (default 4; 1 if it does not divide
   * H*W): the [B, N, N/4] logits and softmax then exist one chunk at a time, which keeps memory
   * bounded at large batches (full-width 128, batch 16: 1.1 GB peak RSS instead of 1.5 GB) at
   * no cost in speed.
   */
  readonly attentionChunks?: number;
  /**
   * How an upsampling block computes conv_1(nearest2x(h)):
   * 'resize': as the reference writes it (Resize, then the 3x3 convolution at twice the size).
   * 'subpixel' (default): nearest2x along x only, then one [2, 3] convolution per output-row
   * parity at the input's row count, whose kernels sum the 3x3 rows that read the same input row.
   * Same values with 2/3 of that convolution's multiply-adds (about 5% faster overall).
   */
  readonly upsampleConv?: 'resize' | 'subpixel';
  /** conv_to_rgb as one 3x3 convolution ('direct') or two cheaper ones ('split-taps', default). */
  readonly toRgb?: 'direct' | 'split-taps';
  /**
   * Identity MaxPool hints that keep the residual path in ONNX Runtime's blocked CPU layout
   * (see `blockedLayoutHint`). Default true: right for the CPU provider; pure (small) copies on
   * a GPU, so the engine turns them off there.
   */
  readonly blockedLayoutHints?: boolean;
}

/** One batch-norm's per-sample affine coefficients, [B, C, 1, 1] each. */
interface BnAffine {
  readonly scale: string;
  readonly shift: string;
}

/** Computes every batch-norm's per-sample affine and splits it per batch-norm. */
function batchNormAffines(
  g: GraphBuilder,
  folded: FoldedGenerator,
  slots: BnSlot[],
  cond: string,
): { affines: BnAffine[]; genZ: string } {
  const { genZ, gamma, beta, total } = conditioningGemm(g, folded, slots, cond);
  const { mean, variance } = blendedStats(g, slots, folded.config.nStats, total);
  // scale = gamma / sqrt(var + eps), shift = beta - mean * scale: y = x * scale + shift.
  const eps = g.floats([folded.config.eps]);
  const scale = g.op('Div', [gamma, g.op('Sqrt', [g.op('Add', [variance, eps])])], undefined, 'bn_scale'); // [B, S]
  const shift = g.op('Sub', [beta, g.op('Mul', [mean, scale])], undefined, 'bn_shift'); // [B, S]
  const sizes = g.ints(slots.map((s) => s.channels));
  const scales = g.opN('Split', [scale, sizes], slots.length, [attr.int('axis', 1)]);
  const shifts = g.opN('Split', [shift, sizes], slots.length, [attr.int('axis', 1)]);
  const axes = g.ints([2, 3]);
  const affines = slots.map((_, i) => ({
    scale: g.op('Unsqueeze', [scales[i], axes]),
    shift: g.op('Unsqueeze', [shifts[i], axes]),
  }));
  return { affines, genZ };
}

/** relu(x * scale + shift): a batch-norm with per-sample statistics and gamma/beta, then ReLU. */
function bnRelu(g: GraphBuilder, x: string, a: BnAffine): string {
  return g.op('Relu', [g.op('Add', [g.op('Mul', [x, a.scale]), a.shift])]);
}

function conv(
  g: GraphBuilder,
  x: string,
  c: FoldedConv,
  base: string,
  weight: Float32Array | readonly Float32Array[] = c.weight,
): string {
  const W = g.constant(`${base}_w`, [c.outC, c.inC, c.k, c.k], weight);
  const inputs = [x, W];
  if (c.bias) inputs.push(g.constant(`${base}_b`, [c.outC], c.bias));
  const pad = (c.k - 1) / 2;
  return g.op('Conv', inputs, [attr.ints('kernel_shape', [c.k, c.k]), attr.ints('pads', [pad, pad, pad, pad])], base);
}

/**
 * Nearest 2x upsampling of x [B, C, H, W]: out[y, x] = in[floor(y/2), floor(x/2)], or along x
 * only. The output shape is declared because shape inference loses the symbolic batch dimension
 * through Resize, and ORT's CPU layout pass needs it to prove that residual Add inputs match.
 */
function upsample2x(g: GraphBuilder, x: string, channels: number, res: number, xOnly = false): string {
  const scales = g.floats([1, 1, xOnly ? 1 : 2, 2]);
  const out = g.op(
    'Resize',
    [x, '', scales],
    [
      attr.string('mode', 'nearest'),
      attr.string('coordinate_transformation_mode', 'asymmetric'),
      attr.string('nearest_mode', 'floor'),
    ],
    'upsample',
  );
  return g.shaped(out, ['batch', channels, xOnly ? res : 2 * res, 2 * res]);
}

/**
 * The [out, in, 2, 3] kernel of output-row parity py of conv3x3(nearest2x(h)), applied to h
 * upsampled along x only. Output row 2i+py reads upsampled rows 2i+py-1 .. 2i+py+1, i.e. input rows
 *   py = 0: (i-1, i, i)   -> kernel row 0 on row i-1, rows 1 + 2 on row i
 *   py = 1: (i, i, i+1)   -> kernel rows 0 + 1 on row i, row 2 on row i+1
 * The columns keep their 3 taps.
 */
function rowPhaseKernel(w: Float32Array, outC: number, inC: number, py: number): Float32Array {
  const k = new Float32Array(outC * inC * 6);
  for (let oc = 0; oc < outC * inC; oc++) {
    const src = oc * 9;
    const dst = oc * 6;
    for (let kx = 0; kx < 3; kx++) {
      const [r0, r1, r2] = [w[src + kx], w[src + 3 + kx], w[src + 6 + kx]];
      k[dst + kx] = py === 0 ? r0 : r0 + r1;
      k[dst + 3 + kx] = py === 0 ? r1 + r2 : r2;
    }
  }
  return k;
}

/**
 * conv_1(nearest2x(h)) as nearest2x along x, then two [2, 3] convolutions (one per output row
 * parity) at the input's row count, interleaved by a Concat on a unit axis: [B, C, r, r] -> [B, C, 2r, 2r].
 */
function subpixelUpConv(g: GraphBuilder, h: string, c: FoldedConv, base: string, r: number): string {
  const hx = upsample2x(g, h, c.inC, r, true); // [B, C, r, 2r]
  const bias = c.bias ? [g.constant(`${base}_b`, [c.outC], c.bias)] : [];
  const rows = [0, 1].map((py) => {
    const W = g.constant(`${base}_r${py}_w`, [c.outC, c.inC, 2, 3], rowPhaseKernel(c.weight, c.outC, c.inC, py));
    const y = g.op(
      'Conv',
      [hx, W, ...bias],
      [attr.ints('kernel_shape', [2, 3]), attr.ints('pads', [1 - py, 1, py, 1])],
      `${base}_r${py}`,
    ); // [B, C, r, 2r]
    return g.op('Unsqueeze', [y, g.ints([3])]); // [B, C, r, 1, 2r]
  });
  const both = g.op('Concat', rows, [attr.int('axis', 3)]); // [B, C, r, 2, 2r]: row 2i + py
  return g.op('Reshape', [both, g.ints([0, c.outC, 2 * r, 2 * r])], undefined, base);
}

/**
 * conv_to_rgb (3x3, C -> 3) as a 1x3 convolution C -> 3*3 (one output per (colour, kernel row))
 * and a 3x1 convolution with 0/1 weights that sums the kernel rows at their row offsets.
 * CPU kernels compute output channels in blocks of 8 or 16, so a direct 3-channel convolution
 * pays for 16; this way the big convolution has 9 useful outputs of 16 and a third of the taps.
 */
function toRgbSplitTaps(g: GraphBuilder, x: string, c: FoldedConv): string {
  const out = c.outC;
  const rows = new Float32Array(out * 3 * c.inC * 3); // [(o, ky), c, 1, kx]
  for (let o = 0; o < out; o++) {
    for (let ci = 0; ci < c.inC; ci++) {
      for (let ky = 0; ky < 3; ky++) {
        for (let kx = 0; kx < 3; kx++)
          rows[((o * 3 + ky) * c.inC + ci) * 3 + kx] = c.weight[((o * c.inC + ci) * 3 + ky) * 3 + kx];
      }
    }
  }
  const sum = new Float32Array(out * out * 3 * 3); // [o, (o', ky'), ky, 1] = (o == o' && ky == ky')
  for (let o = 0; o < out; o++) for (let ky = 0; ky < 3; ky++) sum[(o * out * 3 + o * 3 + ky) * 3 + ky] = 1;
  const W1 = g.constant('to_rgb_rows_w', [out * 3, c.inC, 1, 3], rows);
  const z = g.op('Conv', [x, W1], [attr.ints('kernel_shape', [1, 3]), attr.ints('pads', [0, 1, 0, 1])], 'to_rgb_rows'); // [B, 9, H, W]
  const W2 = g.constant('to_rgb_sum_w', [out, out * 3, 3, 1], sum);
  const inputs = [z, W2, ...(c.bias ? [g.constant('to_rgb_b', [out], c.bias)] : [])];
  return g.op('Conv', inputs, [attr.ints('kernel_shape', [3, 1]), attr.ints('pads', [1, 0, 1, 0])], 'to_rgb'); // [B, 3, H, W]
}

/**
 * An identity MaxPool (1x1 window). ONNX Runtime's CPU layout pass (NCHWc, level 'all') turns
 * it into a blocked-layout node, so the residual path that follows (Resize, then the Add after
 * conv_3) stays in the convolutions' blocked layout: the Resize becomes the blocked upsample and
 * the Add is fused into conv_3 as its sum input.
 */
function blockedLayoutHint(g: GraphBuilder, x: string): string {
  return g.op('MaxPool', [x], [attr.ints('kernel_shape', [1, 1])], 'layout_hint');
}

/** Resolved options. */
type Options = Required<GraphOptions>;

function genBlock(g: GraphBuilder, x: string, blk: FoldedBlock, bn: readonly BnAffine[], opts: Options): string {
  const { plan } = blk;
  const base = `block${plan.module}`;
  const r0 = plan.inRes;
  const r1 = plan.upsample ? 2 * r0 : r0;
  let h = conv(g, bnRelu(g, x, bn[0]), blk.conv[0], `${base}_conv0`); // [B, mid, r0, r0]
  h = bnRelu(g, h, bn[1]);
  if (plan.upsample && opts.upsampleConv === 'subpixel') {
    h = subpixelUpConv(g, opts.blockedLayoutHints ? blockedLayoutHint(g, h) : h, blk.conv[1], `${base}_conv1`, r0); // [B, mid, r1, r1]
  } else {
    if (plan.upsample) h = upsample2x(g, h, plan.midC, r0); // [B, mid, r1, r1]
    h = conv(g, h, blk.conv[1], `${base}_conv1`);
  }
  h = conv(g, bnRelu(g, h, bn[2]), blk.conv[2], `${base}_conv2`);
  h = conv(g, bnRelu(g, h, bn[3]), blk.conv[3], `${base}_conv3`); // [B, out, r1, r1]
  let skip = x;
  // The channel drop comes before the skip's upsample (fewer values to copy).
  if (plan.inC !== plan.outC) skip = g.op('Slice', [skip, g.ints([0]), g.ints([plan.outC]), g.ints([1])]);
  // A previous residual Add already leaves x in the blocked layout; a Slice or the gen_z input do not.
  if (opts.blockedLayoutHints && (plan.inC !== plan.outC || plan.module === 0)) skip = blockedLayoutHint(g, skip);
  if (plan.upsample) skip = upsample2x(g, skip, plan.outC, r0);
  return g.shaped(g.op('Add', [h, skip], undefined, `${base}_out`), ['batch', plan.outC, r1, r1]);
}

function selfAttention(g: GraphBuilder, x: string, att: FoldedAttention, chunks: number): string {
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
  const [phi, gv] = g.opN('Split', [g.op('Reshape', [pooled, g.ints([0, c8 + c2, N / 4])]), g.ints([c8, c2])], 2, [
    attr.int('axis', 1),
  ]);
  // (g @ A^T)^T = A @ g^T: transposing g [C/2, N/4] and the result [N, C/2] is cheaper than A [N, N/4].
  const gT = g.op('Transpose', [gv], [attr.ints('perm', [0, 2, 1])]); // [B, N/4, C/2]
  const k = Number.isInteger(chunks) && chunks >= 1 && N % chunks === 0 ? chunks : 1;
  const queries = k === 1 ? [thetaT] : g.opN('Split', [thetaT, g.ints(Array(k).fill(N / k))], k, [attr.int('axis', 1)]); // k x [B, N/k, C/8]
  const parts = queries.map((q) => {
    const logits = g.op('MatMul', [q, phi], undefined, `${base}_logits`); // [B, N/k, N/4]
    const A = g.op('Softmax', [logits], [attr.int('axis', -1)]); // over the pooled key positions
    return g.op('MatMul', [A, gT]); // [B, N/k, C/2]
  });
  const oT = k === 1 ? parts[0] : g.op('Concat', parts, [attr.int('axis', 1)]); // [B, N, C/2]
  const o = g.op('Reshape', [g.op('Transpose', [oT], [attr.ints('perm', [0, 2, 1])]), g.ints([0, c2, res, res])]); // [B, C/2, H, W]
  // x + gamma * o_conv(o): gamma is folded into the o_conv weights.
  const wo = att.o.weight.map((w) => w * att.gamma);
  const oc = conv(g, o, att.o, `${base}_o`, wo); // [B, C, H, W]
  return g.shaped(g.op('Add', [x, oc], undefined, `${base}_out`), ['batch', C, res, res]);
}

/** Builds the generator graph and serialises it to ONNX bytes (one buffer, ~ the weights' size). */
export function buildOnnxModel(folded: FoldedGenerator, options: GraphOptions = {}): Uint8Array {
  const { config } = folded;
  const opts: Options = {
    attentionChunks: options.attentionChunks ?? 4,
    upsampleConv: options.upsampleConv ?? 'subpixel',
    toRgb: options.toRgb ?? 'split-taps',
    blockedLayoutHints: options.blockedLayoutHints ?? true,
  };
  const g = new GraphBuilder();
  // cond = concat(z, class_vector @ E^T)   [B, 2 zDim]
  const E = g.constant('embeddings', [config.zDim, config.numClasses], folded.embeddings);
  const embed = g.op('Gemm', [ONNX_IO.classVector, E], [attr.int('transB', 1)], 'embed');
  const cond = g.op('Concat', [ONNX_IO.z, embed], [attr.int('axis', 1)], 'cond');

  const slots = batchNormSlots(folded);
  const { affines, genZ } = batchNormAffines(g, folded, slots, cond);

  // gen_z's features are in TF order (y, x, c): view as [B, 4, 4, C], then NCHW.
  const C0 = folded.genZChannels;
  let h = g.op(
    'Transpose',
    [g.op('Reshape', [genZ, g.ints([0, 4, 4, C0])])],
    [attr.ints('perm', [0, 3, 1, 2])],
    'gen_z',
  ); // [B, C0, 4, 4]

  let bnIndex = 0;
  for (const m of folded.modules) {
    if (m.plan.kind === 'block') {
      h = genBlock(g, h, m as FoldedBlock, affines.slice(bnIndex, bnIndex + 4), opts);
      bnIndex += 4;
    } else {
      h = selfAttention(g, h, m as FoldedAttention, opts.attentionChunks);
    }
  }
  h = bnRelu(g, h, affines[bnIndex]);
  h = g.op('Tanh', [opts.toRgb === 'direct' ? conv(g, h, folded.toRgb, 'to_rgb') : toRgbSplitTaps(g, h, folded.toRgb)]); // [B, 3, H, W]
  g.nodes.push({
    opType: 'Transpose',
    inputs: [h],
    outputs: [ONNX_IO.image],
    name: 'to_nhwc',
    attributes: [attr.ints('perm', [0, 2, 3, 1])],
  });

  const R = config.outputDim;
  return encodeModel({
    name: 'biggan_deep',
    nodes: g.nodes,
    initializers: g.initializers,
    valueInfo: g.valueInfo,
    inputs: [
      { name: ONNX_IO.z, elemType: 'float', shape: ['batch', config.zDim] },
      { name: ONNX_IO.classVector, elemType: 'float', shape: ['batch', config.numClasses] },
      { name: ONNX_IO.statWeights, elemType: 'float', shape: ['batch', config.nStats] },
    ],
    outputs: [{ name: ONNX_IO.image, elemType: 'float', shape: ['batch', R, R, 3] }],
  });
}
