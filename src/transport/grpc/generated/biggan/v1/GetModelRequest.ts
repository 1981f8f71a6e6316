// Original file: proto/biggan/v1/biggan.proto


/**
 * GetModel names the model; empty: the default model.
 */
export interface GetModelRequest {
  'name'?: (string);
}

/**
 * GetModel names the model; empty: the default model.
 */
export interface GetModelRequest__Output {
  'name': (string);
}
