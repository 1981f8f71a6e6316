// Original file: proto/biggan/v1/biggan.proto

import type { Image as _biggan_v1_Image, Image__Output as _biggan_v1_Image__Output } from '../../biggan/v1/Image.js';

/**
 * One message of the Interpolate stream: a frame, or (last, for animations and grids) the
 * combined image.
 */
export interface Frame {
  /**
   * The frame's image; its seed is set on endpoint frames drawn from a seed. Unset on the last
   * message that carries `animation` or `grid`.
   */
  'image'?: (_biggan_v1_Image | null);
  /**
   * Position between the endpoints, 0..1 (i / (frames - 1)).
   */
  't'?: (number | string);
  /**
   * Frame number, from 0; on the last (animation / grid) message, the number of frames.
   */
  'index'?: (number);
  /**
   * Set only on the last message for format gif / webp: all frames as one looping animation.
   */
  'animation'?: (_biggan_v1_Image | null);
  /**
   * Set only on the last message when `grid` was asked for: all frames tiled in one image.
   */
  'grid'?: (_biggan_v1_Image | null);
  '_animation'?: "animation";
  '_grid'?: "grid";
}

/**
 * One message of the Interpolate stream: a frame, or (last, for animations and grids) the
 * combined image.
 */
export interface Frame__Output {
  /**
   * The frame's image; its seed is set on endpoint frames drawn from a seed. Unset on the last
   * message that carries `animation` or `grid`.
   */
  'image': (_biggan_v1_Image__Output | null);
  /**
   * Position between the endpoints, 0..1 (i / (frames - 1)).
   */
  't': (number);
  /**
   * Frame number, from 0; on the last (animation / grid) message, the number of frames.
   */
  'index': (number);
  /**
   * Set only on the last message for format gif / webp: all frames as one looping animation.
   */
  'animation'?: (_biggan_v1_Image__Output | null);
  /**
   * Set only on the last message when `grid` was asked for: all frames tiled in one image.
   */
  'grid'?: (_biggan_v1_Image__Output | null);
  '_animation'?: "animation";
  '_grid'?: "grid";
}
