// Original file: proto/biggan/v1/biggan.proto


/**
 * Allowed truncation values: min < truncation <= max.
 */
export interface TruncationRange {
  /**
   * Exclusive lower bound (0).
   */
  'min'?: (number | string);
  /**
   * Inclusive upper bound (1).
   */
  'max'?: (number | string);
  /**
   * Used when a request leaves truncation unset (0.4).
   */
  'defaultValue'?: (number | string);
}

/**
 * Allowed truncation values: min < truncation <= max.
 */
export interface TruncationRange__Output {
  /**
   * Exclusive lower bound (0).
   */
  'min': (number);
  /**
   * Inclusive upper bound (1).
   */
  'max': (number);
  /**
   * Used when a request leaves truncation unset (0.4).
   */
  'defaultValue': (number);
}
