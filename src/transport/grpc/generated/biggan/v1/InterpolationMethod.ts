// Original file: proto/biggan/v1/biggan.proto

/**
 * How z moves between the two endpoints (class vectors are always linearly interpolated).
 */
export const InterpolationMethod = {
  /**
   * the default: LERP
   */
  INTERPOLATION_METHOD_UNSPECIFIED: 'INTERPOLATION_METHOD_UNSPECIFIED',
  /**
   * straight line
   */
  LERP: 'LERP',
  /**
   * great circle (keeps the norm of z closer to that of the endpoints)
   */
  SLERP: 'SLERP',
} as const;

/**
 * How z moves between the two endpoints (class vectors are always linearly interpolated).
 */
export type InterpolationMethod =
  /**
   * the default: LERP
   */
  | 'INTERPOLATION_METHOD_UNSPECIFIED'
  | 0
  /**
   * straight line
   */
  | 'LERP'
  | 1
  /**
   * great circle (keeps the norm of z closer to that of the endpoints)
   */
  | 'SLERP'
  | 2

/**
 * How z moves between the two endpoints (class vectors are always linearly interpolated).
 */
export type InterpolationMethod__Output = typeof InterpolationMethod[keyof typeof InterpolationMethod]
