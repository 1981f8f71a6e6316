// Original file: proto/biggan/v1/biggan.proto


/**
 * GetModel takes no parameters.
 */
export interface GetModelRequest {
}

/**
 * GetModel takes no parameters.
 */
export interface GetModelRequest__Output {
}
