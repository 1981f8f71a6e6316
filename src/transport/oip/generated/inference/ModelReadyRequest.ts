// Original file: proto/inference/open_inference_grpc.proto


export interface ModelReadyRequest {
  /**
   * A model of the repository (GET /v1/models lists them).
   */
  'name'?: (string);
  /**
   * Empty, or "1" (each model has one version).
   */
  'version'?: (string);
}

export interface ModelReadyRequest__Output {
  /**
   * A model of the repository (GET /v1/models lists them).
   */
  'name': (string);
  /**
   * Empty, or "1" (each model has one version).
   */
  'version': (string);
}
