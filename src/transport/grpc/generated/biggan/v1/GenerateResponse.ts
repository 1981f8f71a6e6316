// Original file: proto/biggan/v1/biggan.proto

import type { Image as _biggan_v1_Image, Image__Output as _biggan_v1_Image__Output } from '../../biggan/v1/Image.js';
import type { Long } from '@grpc/proto-loader';

/**
 * The answer to a GenerateRequest.
 */
export interface GenerateResponse {
  /**
   * One image per sample, in request order; empty when `grid` was asked for.
   */
  'images'?: (_biggan_v1_Image)[];
  /**
   * With `grid`: all samples tiled in one image (only data and mime_type are set).
   */
  'grid'?: (_biggan_v1_Image | null);
  /**
   * The request's base seed (the one given or the random one drawn); unset when z was given.
   */
  'seed'?: (number | string | Long);
  /**
   * Size of each sample image, pixels (the model's resolution: 128, 256 or 512).
   */
  'width'?: (number);
  'height'?: (number);
  '_grid'?: "grid";
  '_seed'?: "seed";
}

/**
 * The answer to a GenerateRequest.
 */
export interface GenerateResponse__Output {
  /**
   * One image per sample, in request order; empty when `grid` was asked for.
   */
  'images': (_biggan_v1_Image__Output)[];
  /**
   * With `grid`: all samples tiled in one image (only data and mime_type are set).
   */
  'grid'?: (_biggan_v1_Image__Output | null);
  /**
   * The request's base seed (the one given or the random one drawn); unset when z was given.
   */
  'seed'?: (string);
  /**
   * Size of each sample image, pixels (the model's resolution: 128, 256 or 512).
   */
  'width': (number);
  'height': (number);
  '_grid'?: "grid";
  '_seed'?: "seed";
}
