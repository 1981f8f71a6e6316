// Original file: proto/biggan/v1/biggan.proto

import type { Endpoint as _biggan_v1_Endpoint, Endpoint__Output as _biggan_v1_Endpoint__Output } from '../../biggan/v1/Endpoint.js';
import type { InterpolationMethod as _biggan_v1_InterpolationMethod, InterpolationMethod__Output as _biggan_v1_InterpolationMethod__Output } from '../../biggan/v1/InterpolationMethod.js';
import type { Priority as _biggan_v1_Priority, Priority__Output as _biggan_v1_Priority__Output } from '../../biggan/v1/Priority.js';

/**
 * A request for an interpolation between two endpoints.
 */
export interface InterpolateRequest {
  /**
   * Start point (t = 0). Required.
   */
  'from'?: (_biggan_v1_Endpoint | null);
  /**
   * End point (t = 1). Required.
   */
  'to'?: (_biggan_v1_Endpoint | null);
  /**
   * Number of frames including both endpoints, 2..max_samples_per_request; 0 = the default
   * (8, or max_samples_per_request when smaller).
   */
  'frames'?: (number);
  /**
   * Interpolation of z (default LERP).
   */
  'method'?: (_biggan_v1_InterpolationMethod);
  /**
   * Truncation, 0 < t <= 1; default (0 = unset) 0.4. Shared by all frames.
   */
  'truncation'?: (number | string);
  /**
   * "gif" (default without `grid`) or "webp": frames plus one looping animation; "png" (default
   * with `grid`) or "jpeg": frames only (plus a grid with `grid`). Frames of a gif interpolation
   * are sent as PNG.
   */
  'format'?: (string);
  /**
   * true: also send all frames tiled in one still image (Frame.grid on the last message), in
   * png, jpeg or webp; with format "gif" the call fails with INVALID_ARGUMENT.
   */
  'grid'?: (boolean);
  /**
   * Most time the frames may wait in the queue, ms (1..600000); 0 = the server default. The
   * call's gRPC deadline also bounds it.
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
}

/**
 * A request for an interpolation between two endpoints.
 */
export interface InterpolateRequest__Output {
  /**
   * Start point (t = 0). Required.
   */
  'from': (_biggan_v1_Endpoint__Output | null);
  /**
   * End point (t = 1). Required.
   */
  'to': (_biggan_v1_Endpoint__Output | null);
  /**
   * Number of frames including both endpoints, 2..max_samples_per_request; 0 = the default
   * (8, or max_samples_per_request when smaller).
   */
  'frames': (number);
  /**
   * Interpolation of z (default LERP).
   */
  'method': (_biggan_v1_InterpolationMethod__Output);
  /**
   * Truncation, 0 < t <= 1; default (0 = unset) 0.4. Shared by all frames.
   */
  'truncation': (number);
  /**
   * "gif" (default without `grid`) or "webp": frames plus one looping animation; "png" (default
   * with `grid`) or "jpeg": frames only (plus a grid with `grid`). Frames of a gif interpolation
   * are sent as PNG.
   */
  'format': (string);
  /**
   * true: also send all frames tiled in one still image (Frame.grid on the last message), in
   * png, jpeg or webp; with format "gif" the call fails with INVALID_ARGUMENT.
   */
  'grid': (boolean);
  /**
   * Most time the frames may wait in the queue, ms (1..600000); 0 = the server default. The
   * call's gRPC deadline also bounds it.
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
}
