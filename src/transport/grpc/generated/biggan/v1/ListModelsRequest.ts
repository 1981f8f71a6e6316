// Original file: proto/biggan/v1/biggan.proto


/**
 * ListModels takes no parameters.
 */
export interface ListModelsRequest {
}

/**
 * ListModels takes no parameters.
 */
export interface ListModelsRequest__Output {
}
