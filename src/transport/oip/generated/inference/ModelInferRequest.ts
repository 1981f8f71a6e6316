// Original file: proto/inference/open_inference_grpc.proto

import type { InferParameter as _inference_InferParameter, InferParameter__Output as _inference_InferParameter__Output } from '../inference/InferParameter.js';
import type { InferTensorContents as _inference_InferTensorContents, InferTensorContents__Output as _inference_InferTensorContents__Output } from '../inference/InferTensorContents.js';
import type { Long } from '@grpc/proto-loader';

/**
 * An input tensor; its values are in `contents`, or in raw_input_contents at the same index.
 */
export interface _inference_ModelInferRequest_InferInputTensor {
  'name'?: (string);
  'datatype'?: (string);
  'shape'?: (number | string | Long)[];
  'parameters'?: ({[key: string]: _inference_InferParameter});
  'contents'?: (_inference_InferTensorContents | null);
}

/**
 * An input tensor; its values are in `contents`, or in raw_input_contents at the same index.
 */
export interface _inference_ModelInferRequest_InferInputTensor__Output {
  'name': (string);
  'datatype': (string);
  'shape': (string)[];
  'parameters': ({[key: string]: _inference_InferParameter__Output});
  'contents': (_inference_InferTensorContents__Output | null);
}

/**
 * An output the client wants; absent outputs are not computed.
 */
export interface _inference_ModelInferRequest_InferRequestedOutputTensor {
  'name'?: (string);
  'parameters'?: ({[key: string]: _inference_InferParameter});
}

/**
 * An output the client wants; absent outputs are not computed.
 */
export interface _inference_ModelInferRequest_InferRequestedOutputTensor__Output {
  'name': (string);
  'parameters': ({[key: string]: _inference_InferParameter__Output});
}

export interface ModelInferRequest {
  'modelName'?: (string);
  'modelVersion'?: (string);
  /**
   * Echoed in the response.
   */
  'id'?: (string);
  'parameters'?: ({[key: string]: _inference_InferParameter});
  'inputs'?: (_inference_ModelInferRequest_InferInputTensor)[];
  /**
   * With no outputs named, every output is returned.
   */
  'outputs'?: (_inference_ModelInferRequest_InferRequestedOutputTensor)[];
  /**
   * Little-endian tensor bytes, one entry per input in order (then no input has `contents`).
   * BYTES elements are a 4-byte little-endian length followed by the bytes.
   */
  'rawInputContents'?: (Buffer | Uint8Array | string)[];
}

export interface ModelInferRequest__Output {
  'modelName': (string);
  'modelVersion': (string);
  /**
   * Echoed in the response.
   */
  'id': (string);
  'parameters': ({[key: string]: _inference_InferParameter__Output});
  'inputs': (_inference_ModelInferRequest_InferInputTensor__Output)[];
  /**
   * With no outputs named, every output is returned.
   */
  'outputs': (_inference_ModelInferRequest_InferRequestedOutputTensor__Output)[];
  /**
   * Little-endian tensor bytes, one entry per input in order (then no input has `contents`).
   * BYTES elements are a 4-byte little-endian length followed by the bytes.
   */
  'rawInputContents': (Buffer)[];
}
