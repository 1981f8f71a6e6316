// Original file: proto/inference/open_inference_grpc.proto

import type { Long } from '@grpc/proto-loader';

/**
 * One input or output: its name, element type (BOOL, INT32, INT64, FP32, UINT8, BYTES, ...) and
 * shape, -1 for a dimension of any size.
 */
export interface _inference_ModelMetadataResponse_TensorMetadata {
  'name'?: (string);
  'datatype'?: (string);
  'shape'?: (number | string | Long)[];
}

/**
 * One input or output: its name, element type (BOOL, INT32, INT64, FP32, UINT8, BYTES, ...) and
 * shape, -1 for a dimension of any size.
 */
export interface _inference_ModelMetadataResponse_TensorMetadata__Output {
  'name': (string);
  'datatype': (string);
  'shape': (string)[];
}

export interface ModelMetadataResponse {
  'name'?: (string);
  'versions'?: (string)[];
  'platform'?: (string);
  'inputs'?: (_inference_ModelMetadataResponse_TensorMetadata)[];
  'outputs'?: (_inference_ModelMetadataResponse_TensorMetadata)[];
  'properties'?: ({[key: string]: string});
}

export interface ModelMetadataResponse__Output {
  'name': (string);
  'versions': (string)[];
  'platform': (string);
  'inputs': (_inference_ModelMetadataResponse_TensorMetadata__Output)[];
  'outputs': (_inference_ModelMetadataResponse_TensorMetadata__Output)[];
  'properties': ({[key: string]: string});
}
