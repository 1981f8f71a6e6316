// Original file: proto/inference/open_inference_grpc.proto


export interface ServerMetadataResponse {
  'name'?: (string);
  'version'?: (string);
  /**
   * Includes "binary_tensor_data" (the REST binary extension).
   */
  'extensions'?: (string)[];
}

export interface ServerMetadataResponse__Output {
  'name': (string);
  'version': (string);
  /**
   * Includes "binary_tensor_data" (the REST binary extension).
   */
  'extensions': (string)[];
}
