// Original file: proto/biggan/v1/biggan.proto


/**
 * ListClasses takes no parameters.
 */
export interface ListClassesRequest {
}

/**
 * ListClasses takes no parameters.
 */
export interface ListClassesRequest__Output {
}
