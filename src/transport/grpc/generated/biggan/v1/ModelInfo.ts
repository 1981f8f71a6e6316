// Original file: proto/biggan/v1/biggan.proto

import type { TruncationRange as _biggan_v1_TruncationRange, TruncationRange__Output as _biggan_v1_TruncationRange__Output } from '../../biggan/v1/TruncationRange.js';
import type { Long } from '@grpc/proto-loader';

/**
 * A model, its state and the server's limits.
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
  /**
   * "loading", "ready", "unloaded" (loads on its next request) or "failed" (see reason).
   */
  'state'?: (string);
  /**
   * Why loading failed (state "failed").
   */
  'reason'?: (string);
  /**
   * True for the model that answers requests naming none.
   */
  'default'?: (boolean);
  /**
   * Batching: most time a partial batch waits for more samples, ms.
   */
  'maxQueueDelayMs'?: (number | string);
  /**
   * Batching: most samples waiting.
   */
  'maxQueueSize'?: (number);
  /**
   * Estimated resident memory when loaded (weights + activations at max_batch_size), bytes.
   */
  'memoryEstimateBytes'?: (number | string | Long);
}

/**
 * A model, its state and the server's limits.
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
  /**
   * "loading", "ready", "unloaded" (loads on its next request) or "failed" (see reason).
   */
  'state': (string);
  /**
   * Why loading failed (state "failed").
   */
  'reason': (string);
  /**
   * True for the model that answers requests naming none.
   */
  'default': (boolean);
  /**
   * Batching: most time a partial batch waits for more samples, ms.
   */
  'maxQueueDelayMs': (number);
  /**
   * Batching: most samples waiting.
   */
  'maxQueueSize': (number);
  /**
   * Estimated resident memory when loaded (weights + activations at max_batch_size), bytes.
   */
  'memoryEstimateBytes': (string);
}
