// Original file: proto/biggan/v1/biggan.proto

import type { ModelInfo as _biggan_v1_ModelInfo, ModelInfo__Output as _biggan_v1_ModelInfo__Output } from '../../biggan/v1/ModelInfo.js';

/**
 * Every model served.
 */
export interface ListModelsResponse {
  'models'?: (_biggan_v1_ModelInfo)[];
}

/**
 * Every model served.
 */
export interface ListModelsResponse__Output {
  'models': (_biggan_v1_ModelInfo__Output)[];
}
