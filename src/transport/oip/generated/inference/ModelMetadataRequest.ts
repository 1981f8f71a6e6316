// Original file: proto/inference/open_inference_grpc.proto


export interface ModelMetadataRequest {
  'name'?: (string);
  'version'?: (string);
}

export interface ModelMetadataRequest__Output {
  'name': (string);
  'version': (string);
}
