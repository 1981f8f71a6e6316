// Original file: proto/inference/open_inference_grpc.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Typed tensor values, row-major; the field used depends on the datatype (UINT8 in uint_contents,
 * FP32 in fp32_contents, BYTES in bytes_contents, ...).
 */
export interface InferTensorContents {
  'boolContents'?: (boolean)[];
  'intContents'?: (number)[];
  'int64Contents'?: (number | string | Long)[];
  'uintContents'?: (number)[];
  'uint64Contents'?: (number | string | Long)[];
  'fp32Contents'?: (number | string)[];
  'fp64Contents'?: (number | string)[];
  'bytesContents'?: (Buffer | Uint8Array | string)[];
}

/**
 * Typed tensor values, row-major; the field used depends on the datatype (UINT8 in uint_contents,
 * FP32 in fp32_contents, BYTES in bytes_contents, ...).
 */
export interface InferTensorContents__Output {
  'boolContents': (boolean)[];
  'intContents': (number)[];
  'int64Contents': (string)[];
  'uintContents': (number)[];
  'uint64Contents': (string)[];
  'fp32Contents': (number)[];
  'fp64Contents': (number)[];
  'bytesContents': (Buffer)[];
}
