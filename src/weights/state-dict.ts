/**
 * The in-memory form every weight reader produces: named float32 tensors in PyTorch layout.
 */

/** One tensor of a state_dict: row-major (C order) float32 data and its shape. */
export interface StateTensor {
  readonly shape: readonly number[];
  /** Row-major float32 values; may be a view into the file's buffer (no copy) when aligned. */
  readonly data: Float32Array;
}

/** A state_dict: key (e.g. `generator.layers.3.conv_1.weight_orig`) to tensor, in file order. */
export type StateDict = Map<string, StateTensor>;

/** The weight file formats biggan-serve reads, detected by content. */
export type WeightFormat = 'safetensors' | 'torch-legacy' | 'torch-zip';
