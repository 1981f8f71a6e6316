/**
 * BigGAN-deep's forward pass in TensorFlow.js ops (the PyTorch port's `Generator.forward`), NHWC throughout
 * because that is the layout every tfjs backend implements for conv2d.
 *
 * Per-sample truncation: each sample's batch-norm statistics are `stat_weights[b] @ rows`
 * ([B, nStats] x [nStats, C]), so one batch may mix truncations, classes and latents.
 *
 * All conditional batch-norms are evaluated up front: their scale/offset linears are
 * concatenated into one [sumC2, condDim] matrix and their statistics into [nStats, sumC], so the
 * per-sample scale and shift of every batch-norm come from two matmuls per batch.
 */
import * as tf from '@tensorflow/tfjs-core';
import type {
  FoldedGenerator,
  FoldedConv,
  FoldedCondBatchNorm,
  FoldedBlock,
  FoldedAttention,
} from '../../model/folded-weights.js';
import { concatStatTables } from '../../model/batch-norm-stats.js';

/** Converts a PyTorch conv weight [out, in, kh, kw] to a tfjs filter [kh, kw, in, out]. */
function convFilter(c: FoldedConv, scale = 1): tf.Tensor4D {
  const { outC, inC, k } = c;
  const out = new Float32Array(k * k * inC * outC);
  for (let o = 0; o < outC; o++) {
    for (let i = 0; i < inC; i++) {
      for (let y = 0; y < k; y++) {
        for (let x = 0; x < k; x++) {
          out[((y * k + x) * inC + i) * outC + o] = c.weight[((o * inC + i) * k + y) * k + x] * scale;
        }
      }
    }
  }
  return tf.tensor4d(out, [k, k, inC, outC]);
}

interface ConvW {
  filter: tf.Tensor4D;
  bias?: tf.Tensor1D;
}

function convW(c: FoldedConv, scale = 1): ConvW {
  return { filter: convFilter(c, scale), ...(c.bias ? { bias: tf.tensor1d(c.bias) } : {}) };
}

/** Where one batch-norm's channels sit inside the concatenated per-batch tables. */
interface BnSlot {
  offset: number; // first channel in the [B, sumC] tables
  channels: number;
}

interface BlockW {
  kind: 'block';
  bn: BnSlot[];
  conv: ConvW[];
  inC: number;
  outC: number;
  upsample: boolean;
}

interface AttnW {
  kind: 'attention';
  channels: number;
  theta: ConvW;
  phi: ConvW;
  g: ConvW;
  /** o_conv with gamma folded in: x + gamma * conv(o, W) = x + conv(o, gamma W) (no bias). */
  o: ConvW;
}

/** The generator's weights as tfjs tensors, built once from the folded weights. */
export class TfjsGenerator {
  private readonly embeddingsT: tf.Tensor2D; // [zDim, numClasses]
  private readonly genZW: tf.Tensor2D; // [outDim, condDim]
  private readonly genZB: tf.Tensor1D;
  private readonly condW: tf.Tensor2D; // [2 * sumC, condDim]: scale rows of every bn, then offset rows
  private readonly stats: tf.Tensor2D; // [nStats, 2 T], T = sumC + finalC: means | vars (concatStatTables)
  private readonly totalC: number; // T
  private readonly sumC: number;
  private readonly modules: (BlockW | AttnW)[] = [];
  private readonly finalSlot: BnSlot;
  private readonly finalWeight: tf.Tensor1D;
  private readonly finalBias: tf.Tensor1D;
  private readonly toRgb: ConvW;
  private readonly eps: number;
  private readonly genZChannels: number;

  /** The model's config. */
  readonly config: FoldedGenerator['config'];

  // The folded arrays are not kept: once uploaded to the backend they would be a second copy.
  constructor(folded: FoldedGenerator) {
    const cfg = folded.config;
    this.config = cfg;
    this.eps = cfg.eps;
    this.genZChannels = folded.genZChannels;
    this.embeddingsT = tf.tensor2d(folded.embeddings, [cfg.zDim, cfg.numClasses]);
    this.genZW = tf.tensor2d(folded.genZ.weight, [folded.genZ.outDim, folded.genZ.inDim]);
    this.genZB = tf.tensor1d(folded.genZ.bias!);

    // Lay out every conditional batch-norm's channels in one table.
    const condBns: FoldedCondBatchNorm[] = [];
    const slot = (bn: FoldedCondBatchNorm): BnSlot => {
      const s = { offset: condBns.reduce((a, b) => a + b.stats.channels, 0), channels: bn.stats.channels };
      condBns.push(bn);
      return s;
    };
    for (const m of folded.modules) {
      if ('bn' in m) {
        const b = m as FoldedBlock;
        this.modules.push({
          kind: 'block',
          bn: b.bn.map(slot),
          conv: b.conv.map((c) => convW(c)),
          inC: b.plan.inC,
          outC: b.plan.outC,
          upsample: b.plan.upsample,
        });
      } else {
        const a = m as FoldedAttention;
        this.modules.push({
          kind: 'attention',
          channels: a.plan.channels,
          theta: convW(a.theta),
          phi: convW(a.phi),
          g: convW(a.g),
          o: convW(a.o, a.gamma),
        });
      }
    }
    const sumC = condBns.reduce((a, b) => a + b.stats.channels, 0);
    this.sumC = sumC;
    const condDim = 2 * cfg.zDim;
    const condW = new Float32Array(2 * sumC * condDim);
    let off = 0;
    for (const bn of condBns) {
      condW.set(bn.scale.weight, off * condDim);
      condW.set(bn.offset.weight, (sumC + off) * condDim);
      off += bn.stats.channels;
    }
    this.condW = tf.tensor2d(condW, [2 * sumC, condDim]);

    const finalC = folded.finalBn.stats.channels;
    this.finalSlot = { offset: sumC, channels: finalC };
    const totalC = sumC + finalC;
    const table = concatStatTables([...condBns.map((b) => b.stats), folded.finalBn.stats], cfg.nStats);
    this.stats = tf.tensor2d(table.data, [cfg.nStats, 2 * totalC]);
    this.totalC = totalC;
    this.finalWeight = tf.tensor1d(folded.finalBn.weight);
    this.finalBias = tf.tensor1d(folded.finalBn.bias);
    this.toRgb = convW(folded.toRgb);
  }

  /**
   * One forward pass. z [B, zDim], classVector [B, numClasses], statWeights [B, nStats]
   * -> tanh output [B, H, W, 3]. The caller owns (and must dispose) the result.
   */
  forward(z: tf.Tensor2D, classVector: tf.Tensor2D, statWeights: tf.Tensor2D): tf.Tensor4D {
    return tf.tidy(() => {
      const B = z.shape[0];
      const embed = tf.matMul(classVector, this.embeddingsT, false, true); // [B, zDim]
      const cond = tf.concat([z, embed], 1); // [B, 2 zDim]: z first, then the embedding

      // Per-sample affine of every batch-norm: y = x * scale + shift with
      // scale = gamma / sqrt(var + eps), shift = beta - mean * scale.
      const gb = tf.matMul(cond, this.condW, false, true); // [B, 2 sumC]
      const gamma = tf.add(1, tf.slice(gb, [0, 0], [B, this.sumC])); // [B, sumC]
      const beta = tf.slice(gb, [0, this.sumC], [B, this.sumC]);
      const T = this.totalC;
      const st = tf.matMul(statWeights, this.stats); // [B, 2 T]
      const mean = tf.slice(st, [0, 0], [B, T]); // [B, sumC + finalC]
      const variance = tf.slice(st, [0, T], [B, T]);
      const invStd = tf.rsqrt(tf.add(variance, this.eps)); // [B, sumC + finalC]
      const condScale = tf.mul(gamma, tf.slice(invStd, [0, 0], [B, this.sumC]));
      const condShift = tf.sub(beta, tf.mul(tf.slice(mean, [0, 0], [B, this.sumC]), condScale));
      const fs = this.finalSlot;
      const finalScale = tf.mul(tf.slice(invStd, [0, fs.offset], [B, fs.channels]), this.finalWeight);
      const finalShift = tf.sub(this.finalBias, tf.mul(tf.slice(mean, [0, fs.offset], [B, fs.channels]), finalScale));

      const affineRelu = (x: tf.Tensor4D, scale: tf.Tensor2D, shift: tf.Tensor2D, s: BnSlot): tf.Tensor4D => {
        const sc = tf.reshape(tf.slice(scale, [0, s.offset], [B, s.channels]), [B, 1, 1, s.channels]);
        const sh = tf.reshape(tf.slice(shift, [0, s.offset], [B, s.channels]), [B, 1, 1, s.channels]);
        return tf.relu(tf.add(tf.mul(x, sc), sh)) as tf.Tensor4D;
      };

      // gen_z, then the TF-order view: feature o = (y*4 + x)*16ch + c is already NHWC [B, 4, 4, 16ch].
      let h = tf.reshape(tf.add(tf.matMul(cond, this.genZW, false, true), this.genZB), [
        B,
        4,
        4,
        this.genZChannels,
      ]) as tf.Tensor4D;

      for (const m of this.modules) {
        if (m.kind === 'block')
          h = this.block(h, m, (x, s) => affineRelu(x, condScale as tf.Tensor2D, condShift as tf.Tensor2D, s));
        else h = this.attention(h, m);
      }
      h = affineRelu(h, finalScale as tf.Tensor2D, finalShift as tf.Tensor2D, { offset: 0, channels: fs.channels });
      return tf.tanh(conv(h, this.toRgb)); // [B, H, W, 3]
    });
  }

  private block(x: tf.Tensor4D, m: BlockW, bnRelu: (x: tf.Tensor4D, s: BnSlot) => tf.Tensor4D): tf.Tensor4D {
    let h = conv(bnRelu(x, m.bn[0]), m.conv[0]); // 1x1, in -> mid
    h = bnRelu(h, m.bn[1]);
    if (m.upsample) h = upsample2x(h); // after BN_1 + ReLU, before conv_1
    h = conv(h, m.conv[1]); // 3x3, mid -> mid
    h = conv(bnRelu(h, m.bn[2]), m.conv[2]); // 3x3, mid -> mid
    h = conv(bnRelu(h, m.bn[3]), m.conv[3]); // 1x1, mid -> out
    let skip = x;
    if (m.inC !== m.outC) skip = tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, m.inC / 2]); // keep the FIRST half
    if (m.upsample) skip = upsample2x(skip); // channel drop comes before the skip's upsample
    return tf.add(h, skip);
  }

  private attention(x: tf.Tensor4D, m: AttnW): tf.Tensor4D {
    const [B, H, W, C] = x.shape;
    const N = H * W;
    const theta = tf.reshape(conv(x, m.theta), [B, N, C / 8]); // n = y*W + x, as the reference's view
    const phi = tf.reshape(tf.maxPool(conv(x, m.phi), 2, 2, 'valid'), [B, N / 4, C / 8]);
    const g = tf.reshape(tf.maxPool(conv(x, m.g), 2, 2, 'valid'), [B, N / 4, C / 2]);
    const attn = tf.softmax(tf.matMul(theta, phi, false, true)); // [B, N, N/4], softmax over keys, no 1/sqrt(d)
    const o = tf.reshape(tf.matMul(attn, g), [B, H, W, C / 2]) as tf.Tensor4D; // [B, H, W, C/2]
    return tf.add(x, conv(o, m.o)); // gamma folded into m.o
  }

  /** Frees every weight tensor. */
  dispose(): void {
    const all: (tf.Tensor | undefined)[] = [
      this.embeddingsT,
      this.genZW,
      this.genZB,
      this.condW,
      this.stats,
      this.finalWeight,
      this.finalBias,
      this.toRgb.filter,
      this.toRgb.bias,
    ];
    for (const m of this.modules) {
      const convs = m.kind === 'block' ? m.conv : [m.theta, m.phi, m.g, m.o];
      for (const c of convs) all.push(c.filter, c.bias);
    }
    for (const t of all) t?.dispose();
  }
}

/** Stride-1 convolution with zero padding k/2 (PyTorch's padding 1 for 3x3, 0 for 1x1), bias fused. */
function conv(x: tf.Tensor4D, w: ConvW): tf.Tensor4D {
  return tf.fused.conv2d({ x, filter: w.filter, strides: 1, pad: 'same', ...(w.bias ? { bias: w.bias } : {}) });
}

/** Nearest 2x: out[y, x] = in[y // 2, x // 2] (half_pixel_centers off, align_corners off). */
function upsample2x(x: tf.Tensor4D): tf.Tensor4D {
  const [, H, W] = x.shape;
  return tf.image.resizeNearestNeighbor(x, [2 * H, 2 * W], false, false);
}
