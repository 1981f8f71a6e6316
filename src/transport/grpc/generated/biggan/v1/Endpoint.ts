// Original file: proto/biggan/v1/biggan.proto

import type { ClassSpec as _biggan_v1_ClassSpec, ClassSpec__Output as _biggan_v1_ClassSpec__Output } from '../../biggan/v1/ClassSpec.js';
import type { Long } from '@grpc/proto-loader';

/**
 * An interpolation endpoint: `seed` or `z` (neither: a random seed), and `class` or
 * `class_vector` (exactly one).
 */
export interface Endpoint {
  /**
   * Noise seed for this endpoint's z (drawn at the request's truncation).
   */
  'seed'?: (number | string | Long);
  /**
   * Explicit latent, exactly z_dim floats, each within [-100, 100], used as given. Empty = unset.
   */
  'z'?: (number | string)[];
  /**
   * The endpoint's class.
   */
  'class'?: (_biggan_v1_ClassSpec | null);
  /**
   * Explicit class vector, exactly num_classes floats, each >= 0. Empty = unset.
   */
  'classVector'?: (number | string)[];
  '_seed'?: "seed";
}

/**
 * An interpolation endpoint: `seed` or `z` (neither: a random seed), and `class` or
 * `class_vector` (exactly one).
 */
export interface Endpoint__Output {
  /**
   * Noise seed for this endpoint's z (drawn at the request's truncation).
   */
  'seed'?: (string);
  /**
   * Explicit latent, exactly z_dim floats, each within [-100, 100], used as given. Empty = unset.
   */
  'z': (number)[];
  /**
   * The endpoint's class.
   */
  'class': (_biggan_v1_ClassSpec__Output | null);
  /**
   * Explicit class vector, exactly num_classes floats, each >= 0. Empty = unset.
   */
  'classVector': (number)[];
  '_seed'?: "seed";
}
