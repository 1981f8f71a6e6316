// Original file: proto/biggan/v1/biggan.proto

import type { ClassSpec as _biggan_v1_ClassSpec, ClassSpec__Output as _biggan_v1_ClassSpec__Output } from '../../biggan/v1/ClassSpec.js';
import type { Priority as _biggan_v1_Priority, Priority__Output as _biggan_v1_Priority__Output } from '../../biggan/v1/Priority.js';
import type { Long } from '@grpc/proto-loader';

/**
 * A request for `count` samples. Give the class as `classes` or `class_vector` (exactly one), and
 * the latents as `seed` (or nothing: a random seed) or `z` (not both).
 */
export interface GenerateRequest {
  /**
   * One spec for every sample, or one per sample (then its length is the sample count).
   */
  'classes'?: (_biggan_v1_ClassSpec)[];
  /**
   * Explicit class vectors, count x num_classes floats (row-major), each >= 0. Empty = unset.
   */
  'classVector'?: (number | string)[];
  /**
   * Truncation, 0 < t <= 1; default (0 = unset) 0.4. z = t * truncnorm(-2, 2); it also selects
   * the batch-norm statistics. Lower: more typical, less varied images.
   */
  'truncation'?: (number | string);
  /**
   * Noise seed; sample i uses seed + i (mod 2^64). Unset: a random seed, reported in the response.
   */
  'seed'?: (number | string | Long);
  /**
   * Explicit latents, count x z_dim floats (row-major), used as given (not truncated), each
   * within [-100, 100] (the prior lives in [-2, 2]; NaN and infinities are refused). Empty = unset.
   */
  'z'?: (number | string)[];
  /**
   * Number of samples, 1..max_samples_per_request (GetModel). 0 = unset: the number of rows of
   * z / class_vector or of `classes` entries when more than one, else 1. Must agree with them.
   */
  'count'?: (number);
  /**
   * Image format: "png" (default, lossless), "jpeg" or "webp".
   */
  'format'?: (string);
  /**
   * true: one grid image of all samples (in GenerateResponse.grid) instead of one image each.
   */
  'grid'?: (boolean);
  /**
   * Most time the samples may wait in the queue, ms (1..600000); 0 = the server default. The
   * call's gRPC deadline also bounds it: the smaller one wins. Execution is never cut short.
   */
  'timeoutMs'?: (number);
  /**
   * Queue priority (default NORMAL).
   */
  'priority'?: (_biggan_v1_Priority);
  /**
   * Model to use, by name (see ListModels); empty: the server's default model.
   */
  'model'?: (string);
  '_seed'?: "seed";
}

/**
 * A request for `count` samples. Give the class as `classes` or `class_vector` (exactly one), and
 * the latents as `seed` (or nothing: a random seed) or `z` (not both).
 */
export interface GenerateRequest__Output {
  /**
   * One spec for every sample, or one per sample (then its length is the sample count).
   */
  'classes': (_biggan_v1_ClassSpec__Output)[];
  /**
   * Explicit class vectors, count x num_classes floats (row-major), each >= 0. Empty = unset.
   */
  'classVector': (number)[];
  /**
   * Truncation, 0 < t <= 1; default (0 = unset) 0.4. z = t * truncnorm(-2, 2); it also selects
   * the batch-norm statistics. Lower: more typical, less varied images.
   */
  'truncation': (number);
  /**
   * Noise seed; sample i uses seed + i (mod 2^64). Unset: a random seed, reported in the response.
   */
  'seed'?: (string);
  /**
   * Explicit latents, count x z_dim floats (row-major), used as given (not truncated), each
   * within [-100, 100] (the prior lives in [-2, 2]; NaN and infinities are refused). Empty = unset.
   */
  'z': (number)[];
  /**
   * Number of samples, 1..max_samples_per_request (GetModel). 0 = unset: the number of rows of
   * z / class_vector or of `classes` entries when more than one, else 1. Must agree with them.
   */
  'count': (number);
  /**
   * Image format: "png" (default, lossless), "jpeg" or "webp".
   */
  'format': (string);
  /**
   * true: one grid image of all samples (in GenerateResponse.grid) instead of one image each.
   */
  'grid': (boolean);
  /**
   * Most time the samples may wait in the queue, ms (1..600000); 0 = the server default. The
   * call's gRPC deadline also bounds it: the smaller one wins. Execution is never cut short.
   */
  'timeoutMs': (number);
  /**
   * Queue priority (default NORMAL).
   */
  'priority': (_biggan_v1_Priority__Output);
  /**
   * Model to use, by name (see ListModels); empty: the server's default model.
   */
  'model': (string);
  '_seed'?: "seed";
}
