// Original file: proto/biggan/v1/biggan.proto

import type { TruncationRange as _biggan_v1_TruncationRange, TruncationRange__Output as _biggan_v1_TruncationRange__Output } from '../../biggan/v1/TruncationRange.js';
import type { Long } from '@grpc/proto-loader';

/**
 * The loaded model and the server's limits.
 */
export interface ModelInfo {
  /**
   * Model name, e.g. "biggan-deep-256".
   */
  'name'?: (string);
  /**
   * Output images are resolution x resolution pixels (128, 256 or 512).
   */
  'resolution'?: (number);
  /**
   * Length of one latent z row (128).
   */
  'zDim'?: (number);
  /**
   * Length of one class vector (1000).
   */
  'numClasses'?: (number);
  /**
   * Number of weights of the generator.
   */
  'parameters'?: (number | string | Long);
  /**
   * Inference engine, e.g. "tfjs".
   */
  'engine'?: (string);
  /**
   * The engine's backend, e.g. "cpu", "wasm" or "tensorflow".
   */
  'backend'?: (string);
  /**
   * Most samples (count, frames) one request may ask for.
   */
  'maxSamplesPerRequest'?: (number);
  /**
   * Most samples the server runs in one batch.
   */
  'maxBatchSize'?: (number);
  /**
   * Allowed and default truncation.
   */
  'truncation'?: (_biggan_v1_TruncationRange | null);
  /**
   * Image formats of Generate ("png", "jpeg", "webp").
   */
  'formats'?: (string)[];
}

/**
 * The loaded model and the server's limits.
 */
export interface ModelInfo__Output {
  /**
   * Model name, e.g. "biggan-deep-256".
   */
  'name': (string);
  /**
   * Output images are resolution x resolution pixels (128, 256 or 512).
   */
  'resolution': (number);
  /**
   * Length of one latent z row (128).
   */
  'zDim': (number);
  /**
   * Length of one class vector (1000).
   */
  'numClasses': (number);
  /**
   * Number of weights of the generator.
   */
  'parameters': (string);
  /**
   * Inference engine, e.g. "tfjs".
   */
  'engine': (string);
  /**
   * The engine's backend, e.g. "cpu", "wasm" or "tensorflow".
   */
  'backend': (string);
  /**
   * Most samples (count, frames) one request may ask for.
   */
  'maxSamplesPerRequest': (number);
  /**
   * Most samples the server runs in one batch.
   */
  'maxBatchSize': (number);
  /**
   * Allowed and default truncation.
   */
  'truncation': (_biggan_v1_TruncationRange__Output | null);
  /**
   * Image formats of Generate ("png", "jpeg", "webp").
   */
  'formats': (string)[];
}
