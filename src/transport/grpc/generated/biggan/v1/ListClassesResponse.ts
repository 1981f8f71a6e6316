// Original file: proto/biggan/v1/biggan.proto

import type { ClassInfo as _biggan_v1_ClassInfo, ClassInfo__Output as _biggan_v1_ClassInfo__Output } from '../../biggan/v1/ClassInfo.js';

/**
 * The model's classes, by index.
 */
export interface ListClassesResponse {
  'classes'?: (_biggan_v1_ClassInfo)[];
}

/**
 * The model's classes, by index.
 */
export interface ListClassesResponse__Output {
  'classes': (_biggan_v1_ClassInfo__Output)[];
}
