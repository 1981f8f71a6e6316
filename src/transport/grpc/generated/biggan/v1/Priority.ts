// Original file: proto/biggan/v1/biggan.proto

/**
 * Queue priority: HIGH samples are batched before NORMAL ones; FIFO within a level.
 */
export const Priority = {
  /**
   * default
   */
  NORMAL: 'NORMAL',
  HIGH: 'HIGH',
} as const;

/**
 * Queue priority: HIGH samples are batched before NORMAL ones; FIFO within a level.
 */
export type Priority =
  /**
   * default
   */
  | 'NORMAL'
  | 0
  | 'HIGH'
  | 1

/**
 * Queue priority: HIGH samples are batched before NORMAL ones; FIFO within a level.
 */
export type Priority__Output = typeof Priority[keyof typeof Priority]
