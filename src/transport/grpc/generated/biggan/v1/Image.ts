// Original file: proto/biggan/v1/biggan.proto

import type { Long } from '@grpc/proto-loader';

/**
 * One encoded image and how to reproduce it.
 */
export interface Image {
  /**
   * The encoded image (PNG, JPEG, WebP or GIF bytes).
   */
  'data'?: (Buffer | Uint8Array | string);
  /**
   * MIME type of `data`: image/png, image/jpeg, image/webp or image/gif.
   */
  'mimeType'?: (string);
  /**
   * The sample's own seed (request seed + index): a request with this seed and count 1
   * reproduces it. Unset when z was given explicitly (and on grid / animation images).
   */
  'seed'?: (number | string | Long);
  /**
   * Truncation the sample was generated with (0 on grid / animation images).
   */
  'truncation'?: (number | string);
  /**
   * Non-zero class weights, keyed by class index as a decimal string (e.g. {"207": 1}).
   */
  'classWeights'?: ({[key: string]: number | string});
  /**
   * Position of the sample in the request, from 0.
   */
  'index'?: (number);
  /**
   * The truncation as the service used it, as a double: the shortest decimal that rounds to the
   * float32 the request carried (0.4 for a request's 0.4), so a client reads back what it sent,
   * where `truncation` (a float) decodes to 0.4000000059604645 in languages whose numbers are
   * doubles. 0 on grid / animation images.
   */
  'truncationExact'?: (number | string);
  '_seed'?: "seed";
}

/**
 * One encoded image and how to reproduce it.
 */
export interface Image__Output {
  /**
   * The encoded image (PNG, JPEG, WebP or GIF bytes).
   */
  'data': (Buffer);
  /**
   * MIME type of `data`: image/png, image/jpeg, image/webp or image/gif.
   */
  'mimeType': (string);
  /**
   * The sample's own seed (request seed + index): a request with this seed and count 1
   * reproduces it. Unset when z was given explicitly (and on grid / animation images).
   */
  'seed'?: (string);
  /**
   * Truncation the sample was generated with (0 on grid / animation images).
   */
  'truncation': (number);
  /**
   * Non-zero class weights, keyed by class index as a decimal string (e.g. {"207": 1}).
   */
  'classWeights': ({[key: string]: number});
  /**
   * Position of the sample in the request, from 0.
   */
  'index': (number);
  /**
   * The truncation as the service used it, as a double: the shortest decimal that rounds to the
   * float32 the request carried (0.4 for a request's 0.4), so a client reads back what it sent,
   * where `truncation` (a float) decodes to 0.4000000059604645 in languages whose numbers are
   * doubles. 0 on grid / animation images.
   */
  'truncationExact': (number);
  '_seed'?: "seed";
}
