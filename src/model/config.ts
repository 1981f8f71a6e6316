/**
 * BigGAN-deep model configuration: parsing and validating the reference's `config.json`, the
 * published presets, and everything derived from a config alone (module plan, expected
 * state_dict keys and shapes, parameter counts), with no weights allocated.
 */
import { BigGanError } from '../errors.js';

/** One entry of the config's `layers`: `[upsample, in_mult, out_mult]`. */
export type LayerTriple = readonly [boolean, number, number];

/** The reference's config.json, as parsed and validated. */
export interface BigGanConfig {
  readonly outputDim: number;
  readonly zDim: number;
  /** Stored by the reference but never read by the model (the embedding width is z_dim). */
  readonly classEmbedDim: number;
  readonly channelWidth: number;
  readonly numClasses: number;
  readonly layers: readonly LayerTriple[];
  /** Config index before which the self-attention module sits. */
  readonly attentionLayerPosition: number;
  readonly eps: number;
  /** Rows of batch-norm statistics, one per truncation j / (nStats - 1). */
  readonly nStats: number;
}

/** Names of the published models. */
export type PresetName = 'biggan-deep-128' | 'biggan-deep-256' | 'biggan-deep-512';
export const PRESET_NAMES: readonly PresetName[] = ['biggan-deep-128', 'biggan-deep-256', 'biggan-deep-512'];

/** What is known of one published file of a preset: its SHA-256 (hex), where a source for it could be named. */
export interface PublishedFile {
  readonly sha256?: string;
}

/** The files each preset downloads (`<base>/<name>-<file>`). */
export type PublishedFileName = 'config.json' | 'pytorch_model.bin';

/**
 * Pinned SHA-256 of each published file. None is pinned yet: no source could be found that
 * states the hash of the files at the presets' URLs (s3 .../biggan/<name>-<file>), and a hash
 * is only pinned from a source, never guessed. Until then `download` warns that the file is
 * unpinned and records the hash it computed while downloading; later checks compare with that.
 */
export const PUBLISHED_FILES: Readonly<Record<PresetName, Readonly<Record<PublishedFileName, PublishedFile>>>> = {
  'biggan-deep-128': { 'config.json': {}, 'pytorch_model.bin': {} },
  'biggan-deep-256': { 'config.json': {}, 'pytorch_model.bin': {} },
  'biggan-deep-512': { 'config.json': {}, 'pytorch_model.bin': {} },
};

const F = false;
const T = true;
const LAYERS_128: LayerTriple[] = [
  [F, 16, 16],
  [T, 16, 16],
  [F, 16, 16],
  [T, 16, 8],
  [F, 8, 8],
  [T, 8, 4],
  [F, 4, 4],
  [T, 4, 2],
  [F, 2, 2],
  [T, 2, 1],
];
const LAYERS_256: LayerTriple[] = [
  [F, 16, 16],
  [T, 16, 16],
  [F, 16, 16],
  [T, 16, 8],
  [F, 8, 8],
  [T, 8, 8],
  [F, 8, 8],
  [T, 8, 4],
  [F, 4, 4],
  [T, 4, 2],
  [F, 2, 2],
  [T, 2, 1],
];
const LAYERS_512: LayerTriple[] = [...LAYERS_256, [F, 1, 1], [T, 1, 1]];

/** The published configs (convert_tf_to_pytorch.BigGAN128/256/512), at full width unless overridden. */
export function presetConfig(name: PresetName, channelWidth = 128): BigGanConfig {
  const layers = name === 'biggan-deep-128' ? LAYERS_128 : name === 'biggan-deep-256' ? LAYERS_256 : LAYERS_512;
  const outputDim = name === 'biggan-deep-128' ? 128 : name === 'biggan-deep-256' ? 256 : 512;
  return freezeConfig({
    outputDim,
    zDim: 128,
    classEmbedDim: 128,
    channelWidth,
    numClasses: 1000,
    layers,
    attentionLayerPosition: 8,
    eps: 1e-4,
    nStats: 51,
  });
}

function freezeConfig(c: BigGanConfig): BigGanConfig {
  return Object.freeze({
    ...c,
    layers: Object.freeze(c.layers.map((l) => Object.freeze([...l]) as unknown as LayerTriple)),
  });
}

function bad(field: string, message: string): BigGanError {
  return new BigGanError('INVALID_CONFIG', `config.json: ${field} ${message}`);
}

function positiveInt(raw: Record<string, unknown>, key: string, fallback?: number): number {
  const v = raw[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw bad(key, `must be a positive integer, got ${JSON.stringify(raw[key])}`);
  }
  return v;
}

/**
 * Validates a parsed config.json of the reference's form (snake_case keys as
 * `BigGANConfig.to_json_string` writes them) and returns a frozen config.
 */
export function parseConfig(raw: unknown): BigGanConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new BigGanError('INVALID_CONFIG', 'config.json: must be a JSON object');
  }
  const r = raw as Record<string, unknown>;
  const zDim = positiveInt(r, 'z_dim');
  const channelWidth = positiveInt(r, 'channel_width');
  const numClasses = positiveInt(r, 'num_classes');
  const nStats = positiveInt(r, 'n_stats');
  if (nStats < 2) throw bad('n_stats', `must be at least 2, got ${nStats}`);
  const eps = r.eps;
  if (typeof eps !== 'number' || !(eps > 0) || !Number.isFinite(eps))
    throw bad('eps', `must be a positive number, got ${JSON.stringify(eps)}`);
  if (!Array.isArray(r.layers) || r.layers.length === 0)
    throw bad('layers', 'must be a non-empty list of [upsample, in_mult, out_mult]');
  const layers: LayerTriple[] = r.layers.map((l: unknown, i: number) => {
    if (
      !Array.isArray(l) ||
      l.length !== 3 ||
      typeof l[0] !== 'boolean' ||
      !Number.isInteger(l[1]) ||
      !Number.isInteger(l[2]) ||
      l[1] <= 0 ||
      l[2] <= 0
    ) {
      throw bad(`layers[${i}]`, `must be [boolean, positive int, positive int], got ${JSON.stringify(l)}`);
    }
    return [l[0], l[1], l[2]] as LayerTriple;
  });
  for (let i = 1; i < layers.length; i++) {
    if (layers[i][1] !== layers[i - 1][2]) {
      throw bad(`layers[${i}]`, `in_mult ${layers[i][1]} must equal the previous layer's out_mult ${layers[i - 1][2]}`);
    }
  }
  for (const [i, [, inMult, outMult]] of layers.entries()) {
    const inC = inMult * channelWidth;
    const outC = outMult * channelWidth;
    // The skip path keeps the first in/2 channels when in != out: that only adds up when out = in/2.
    if (inC !== outC && inC / 2 !== outC)
      throw bad(`layers[${i}]`, `out channels must equal in or in/2 (got ${inC} -> ${outC})`);
    if (inC % 4 !== 0) throw bad(`layers[${i}]`, `in channels (${inC}) must be divisible by 4`);
  }
  const attentionLayerPosition = r.attention_layer_position;
  if (
    typeof attentionLayerPosition !== 'number' ||
    !Number.isInteger(attentionLayerPosition) ||
    attentionLayerPosition < 0 ||
    attentionLayerPosition > layers.length
  ) {
    throw bad(
      'attention_layer_position',
      `must be an integer in 0..${layers.length}, got ${JSON.stringify(attentionLayerPosition)}`,
    );
  }
  const attnIn = attentionLayerPosition === 0 ? layers[0][1] : layers[attentionLayerPosition - 1][2];
  if ((attnIn * channelWidth) % 8 !== 0)
    throw bad('attention_layer_position', `attention channels (${attnIn * channelWidth}) must be divisible by 8`);
  const upsamples = layers.filter((l) => l[0]).length;
  const outputDim = 4 * 2 ** upsamples;
  if (r.output_dim !== undefined && r.output_dim !== outputDim) {
    throw bad('output_dim', `is ${JSON.stringify(r.output_dim)} but the layers upsample 4 px to ${outputDim} px`);
  }
  const classEmbedDim = typeof r.class_embed_dim === 'number' ? r.class_embed_dim : zDim;
  return freezeConfig({
    outputDim,
    zDim,
    classEmbedDim,
    channelWidth,
    numClasses,
    layers,
    attentionLayerPosition,
    eps,
    nStats,
  });
}

/** Serialises a config the way the reference writes it (sorted keys, 2-space indent, newline). */
export function configToJson(c: BigGanConfig): string {
  const o = {
    attention_layer_position: c.attentionLayerPosition,
    channel_width: c.channelWidth,
    class_embed_dim: c.classEmbedDim,
    eps: c.eps,
    layers: c.layers.map((l) => [...l]),
    n_stats: c.nStats,
    num_classes: c.numClasses,
    output_dim: c.outputDim,
    z_dim: c.zDim,
  };
  return JSON.stringify(o, null, 2) + '\n';
}

/** A GenBlock of the module list. */
export interface BlockPlan {
  readonly kind: 'block';
  /** Index k in `generator.layers`. */
  readonly module: number;
  readonly inC: number;
  /** in / 4 */
  readonly midC: number;
  readonly outC: number;
  readonly upsample: boolean;
  /** Spatial size of the block's input (square). */
  readonly inRes: number;
}

/** The SelfAttn module of the module list. */
export interface AttentionPlan {
  readonly kind: 'attention';
  readonly module: number;
  readonly channels: number;
  readonly res: number;
}

export type ModulePlan = BlockPlan | AttentionPlan;

/** `generator.layers` in order: GenBlocks with SelfAttn inserted before config layer `attentionLayerPosition`. */
export function modulePlan(c: BigGanConfig): ModulePlan[] {
  const out: ModulePlan[] = [];
  let res = 4;
  c.layers.forEach(([upsample, inMult, outMult], i) => {
    if (i === c.attentionLayerPosition) {
      out.push({ kind: 'attention', module: out.length, channels: inMult * c.channelWidth, res });
    }
    const inC = inMult * c.channelWidth;
    out.push({
      kind: 'block',
      module: out.length,
      inC,
      midC: inC / 4,
      outC: outMult * c.channelWidth,
      upsample,
      inRes: res,
    });
    if (upsample) res *= 2;
  });
  if (c.attentionLayerPosition === c.layers.length) {
    out.push({
      kind: 'attention',
      module: out.length,
      channels: c.layers[c.layers.length - 1][2] * c.channelWidth,
      res,
    });
  }
  return out;
}

/** Channels of gen_z's output feature map: 16 ch for the published models. */
export function genZChannels(c: BigGanConfig): number {
  return c.layers[0][1] * c.channelWidth;
}

/** Whether a state_dict entry is a parameter (counted in "model size") or a buffer. */
export type TensorRole = 'parameter' | 'buffer';

/** One expected state_dict entry. */
export interface ExpectedTensor {
  readonly shape: readonly number[];
  readonly role: TensorRole;
}

/**
 * Every state_dict key the reference's model has for this config, with shape and role, in
 * state_dict order. Used both to validate weight files and to count parameters without
 * allocating anything.
 */
export function expectedStateDict(c: BigGanConfig): Map<string, ExpectedTensor> {
  const m = new Map<string, ExpectedTensor>();
  const p = (key: string, shape: number[]) => m.set(key, { shape, role: 'parameter' });
  const b = (key: string, shape: number[]) => m.set(key, { shape, role: 'buffer' });
  const condDim = 2 * c.zDim;
  const snLinear = (prefix: string, out: number, inDim: number, bias: boolean) => {
    if (bias) p(`${prefix}.bias`, [out]);
    p(`${prefix}.weight_orig`, [out, inDim]);
    b(`${prefix}.weight_u`, [out]);
    b(`${prefix}.weight_v`, [inDim]);
  };
  const snConv = (prefix: string, out: number, inC: number, k: number, bias: boolean) => {
    if (bias) p(`${prefix}.bias`, [out]);
    p(`${prefix}.weight_orig`, [out, inC, k, k]);
    b(`${prefix}.weight_u`, [out]);
    b(`${prefix}.weight_v`, [inC * k * k]);
  };
  const condBn = (prefix: string, ch: number) => {
    b(`${prefix}.running_means`, [c.nStats, ch]);
    b(`${prefix}.running_vars`, [c.nStats, ch]);
    snLinear(`${prefix}.scale`, ch, condDim, false);
    snLinear(`${prefix}.offset`, ch, condDim, false);
  };
  p('embeddings.weight', [c.zDim, c.numClasses]);
  snLinear('generator.gen_z', 4 * 4 * genZChannels(c), condDim, true);
  for (const mod of modulePlan(c)) {
    const pre = `generator.layers.${mod.module}`;
    if (mod.kind === 'block') {
      condBn(`${pre}.bn_0`, mod.inC);
      snConv(`${pre}.conv_0`, mod.midC, mod.inC, 1, true);
      condBn(`${pre}.bn_1`, mod.midC);
      snConv(`${pre}.conv_1`, mod.midC, mod.midC, 3, true);
      condBn(`${pre}.bn_2`, mod.midC);
      snConv(`${pre}.conv_2`, mod.midC, mod.midC, 3, true);
      condBn(`${pre}.bn_3`, mod.midC);
      snConv(`${pre}.conv_3`, mod.outC, mod.midC, 1, true);
    } else {
      const C = mod.channels;
      p(`${pre}.gamma`, [1]);
      snConv(`${pre}.snconv1x1_theta`, C / 8, C, 1, false);
      snConv(`${pre}.snconv1x1_phi`, C / 8, C, 1, false);
      snConv(`${pre}.snconv1x1_g`, C / 2, C, 1, false);
      snConv(`${pre}.snconv1x1_o_conv`, C, C / 2, 1, false);
    }
  }
  const last = c.layers[c.layers.length - 1][2] * c.channelWidth;
  p('generator.bn.weight', [last]);
  p('generator.bn.bias', [last]);
  b('generator.bn.running_means', [c.nStats, last]);
  b('generator.bn.running_vars', [c.nStats, last]);
  snConv('generator.conv_to_rgb', last, last, 3, true);
  return m;
}

/** Number of elements of a shape. */
export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Parameter counts by config. Configs are frozen (freezeConfig), so the count of one never
 * changes; services report it in their model description on every request, and rebuilding the
 * state_dict description each time was most of a cache hit's CPU (issue 20).
 */
const parameterCounts = new WeakMap<BigGanConfig, number>();

/** Parameter count as the reference reports "model size" (weight_orig, biases, embeddings, gamma, final bn). */
export function parameterCount(c: BigGanConfig): number {
  const known = parameterCounts.get(c);
  if (known !== undefined) return known;
  let n = 0;
  for (const t of expectedStateDict(c).values()) if (t.role === 'parameter') n += numel(t.shape);
  if (Object.isFrozen(c)) parameterCounts.set(c, n);
  return n;
}

/** Total float32 elements in the state_dict, buffers included. */
export function stateDictElementCount(c: BigGanConfig): number {
  let n = 0;
  for (const t of expectedStateDict(c).values()) n += numel(t.shape);
  return n;
}

/**
 * Multiply-accumulate count of one forward pass per image (convolutions, linears and the
 * attention matmuls), counting `conv_to_rgb` at its 3 kept channels. FLOPs = 2 x MACs.
 */
export function macsPerImage(c: BigGanConfig): number {
  const condDim = 2 * c.zDim;
  let macs = c.numClasses * c.zDim; // class embedding
  macs += condDim * 16 * genZChannels(c);
  let lastC = genZChannels(c);
  let res = 4;
  for (const mod of modulePlan(c)) {
    if (mod.kind === 'block') {
      const r0 = mod.inRes;
      const r1 = mod.upsample ? r0 * 2 : r0;
      macs += condDim * 2 * (mod.inC + 3 * mod.midC); // scale/offset linears of 4 batch-norms
      macs += r0 * r0 * mod.inC * mod.midC; // conv_0 1x1
      macs += 2 * r1 * r1 * mod.midC * mod.midC * 9; // conv_1, conv_2 3x3
      macs += r1 * r1 * mod.midC * mod.outC; // conv_3 1x1
      lastC = mod.outC;
      res = r1;
    } else {
      const C = mod.channels;
      const N = mod.res * mod.res;
      macs += N * C * (C / 8 + C / 8 + C / 2); // theta, phi, g 1x1 convs
      macs += N * (N / 4) * (C / 8); // theta^T phi
      macs += N * (N / 4) * (C / 2); // g A^T
      macs += N * (C / 2) * C; // o_conv
    }
  }
  macs += res * res * lastC * 3 * 9; // conv_to_rgb, 3 kept channels
  return macs;
}
