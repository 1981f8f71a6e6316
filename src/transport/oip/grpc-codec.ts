/**
 * inference.ModelInferRequest / ModelInferResponse (types generated from our
 * proto/inference/open_inference_grpc.proto, decoded with PROTO_LOADER_OPTIONS: camelCase fields,
 * int64 as decimal strings) to and from the transport-neutral infer request and result. Inputs
 * come as `raw_input_contents` (little-endian bytes, one entry per input) or typed `contents`; the
 * answer uses the same form the request used.
 */
import { invalidArgument } from '../../errors.js';
import { float32Decimal } from '../grpc/codec.js';
import { checkDatatype, fromBytes, joinBytesElements, parseShape, type Tensor } from './tensor.js';
import { MODEL_VERSION, type InferRequest, type InferResult, type OutputTensor } from './infer.js';
import type { ModelInferRequest__Output } from './generated/inference/ModelInferRequest.js';
import type { ModelInferResponse__Output } from './generated/inference/ModelInferResponse.js';
import type { InferTensorContents__Output } from './generated/inference/InferTensorContents.js';

export type ModelInferRequestMessage = ModelInferRequest__Output;
export type ModelInferResponseMessage = ModelInferResponse__Output;

/** The typed field that holds each datatype's values. */
const CONTENTS_FIELD: Readonly<Record<string, keyof InferTensorContents__Output>> = {
  BOOL: 'boolContents',
  INT8: 'intContents',
  INT16: 'intContents',
  INT32: 'intContents',
  INT64: 'int64Contents',
  UINT8: 'uintContents',
  UINT16: 'uintContents',
  UINT32: 'uintContents',
  UINT64: 'uint64Contents',
  FP32: 'fp32Contents',
  FP64: 'fp64Contents',
  BYTES: 'bytesContents',
};

/** The values of typed `contents` for `datatype`. */
function fromContents(
  contents: InferTensorContents__Output | null,
  datatype: string,
  tensor: string,
): Tensor['values'] {
  const field = CONTENTS_FIELD[datatype];
  if (field === undefined)
    throw invalidArgument(
      `${tensor}.datatype`,
      `${datatype} cannot be sent as typed contents; send raw_input_contents`,
    );
  const values = (contents?.[field] ?? []) as readonly (number | string | boolean | Buffer)[];
  if (datatype === 'INT64' || datatype === 'UINT64') return values.map((v) => BigInt(v as string));
  if (datatype === 'FP32') return values.map((v) => float32Decimal(v as number));
  if (datatype === 'BOOL') return values.map((v) => (v ? 1 : 0));
  return values as Tensor['values'];
}

/** The decoded request; a wire-level mistake is INVALID_ARGUMENT naming the field. */
export function toInferRequest(msg: ModelInferRequestMessage): InferRequest & { raw: boolean } {
  const raw = msg.rawInputContents.length > 0;
  if (raw && msg.rawInputContents.length !== msg.inputs.length) {
    throw invalidArgument(
      'raw_input_contents',
      `must hold one entry per input (${msg.inputs.length}), got ${msg.rawInputContents.length}`,
    );
  }
  const inputs = msg.inputs.map((t, i): Tensor => {
    const name = t.name;
    if (name === '') throw invalidArgument(`inputs[${i}].name`, 'must be a non-empty string');
    const datatype = checkDatatype(t.datatype, name);
    const shape = parseShape(t.shape, name);
    if (raw && t.contents !== null)
      throw invalidArgument(`${name}.contents`, 'must be empty when raw_input_contents is used');
    return {
      name,
      datatype,
      shape,
      values: raw ? fromBytes(msg.rawInputContents[i], datatype, name) : fromContents(t.contents, datatype, name),
    };
  });
  if (inputs.length === 0) throw invalidArgument('inputs', 'must be a non-empty list of input tensors');
  return {
    modelName: msg.modelName,
    modelVersion: msg.modelVersion,
    ...(msg.id !== '' ? { id: msg.id } : {}),
    inputs,
    ...(msg.outputs.length > 0 ? { outputs: msg.outputs.map((o) => ({ name: o.name })) } : {}),
    raw,
  };
}

const EMPTY_CONTENTS: InferTensorContents__Output = {
  boolContents: [],
  intContents: [],
  int64Contents: [],
  uintContents: [],
  uint64Contents: [],
  fp32Contents: [],
  fp64Contents: [],
  bytesContents: [],
};

/** An output's bytes in the raw form. */
function rawBytes(t: OutputTensor): Buffer {
  return t.name === 'image' ? t.raw : Buffer.concat(joinBytesElements(t.elements));
}

/** The response: raw_output_contents when `raw`, else typed contents (UINT8 in uint_contents). */
export function toInferResponse(result: InferResult, id: string | undefined, raw: boolean): ModelInferResponseMessage {
  const outputs = result.outputs.map((t) => ({
    name: t.name,
    datatype: t.datatype,
    shape: t.shape.map(String),
    parameters: {},
    contents: raw
      ? null
      : t.name === 'image'
        ? { ...EMPTY_CONTENTS, uintContents: Array.from(t.raw) }
        : { ...EMPTY_CONTENTS, bytesContents: t.elements },
  }));
  return {
    modelName: result.model.name,
    modelVersion: MODEL_VERSION,
    id: id ?? '',
    parameters: {},
    outputs,
    rawOutputContents: raw ? result.outputs.map(rawBytes) : [],
  };
}

/** Bytes the response's tensors take on the wire (the rest of the message is small). */
export function responseTensorBytes(msg: ModelInferResponseMessage): number {
  const raw = msg.rawOutputContents.reduce((a, b) => a + b.length, 0);
  // Typed UINT8 values are varints: 1 byte below 128, 2 above.
  const typed = msg.outputs.reduce(
    (a, o) =>
      a +
      (o.contents
        ? o.contents.uintContents.reduce((s, v) => s + (v < 128 ? 1 : 2), 0) +
          o.contents.bytesContents.reduce((s, b) => s + b.length + 5, 0)
        : 0),
    0,
  );
  return raw + typed;
}
