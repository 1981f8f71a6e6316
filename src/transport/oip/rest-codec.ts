/**
 * The REST form of infer requests and answers: JSON, and Triton's binary tensor data extension
 * (a JSON header of `Inference-Header-Content-Length` bytes, then the binary tensors in order,
 * little-endian, BYTES elements as a 4-byte length + bytes). A binary answer's tensors are copied
 * as bytes after the header: image pixels never pass through JSON.
 */
import { invalidArgument } from '../../errors.js';
import { checkDatatype, fromBytes, fromJson, joinBytesElements, parseShape, type Tensor } from './tensor.js';
import {
  MODEL_VERSION,
  type InferRequest,
  type InferResult,
  type OutputTensor,
  type RequestedOutput,
} from './infer.js';

/** The header of binary requests and answers: bytes of the JSON header at the body's start. */
export const HEADER_LENGTH = 'inference-header-content-length';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A `parameters` object (absent: empty); values are strings, numbers or booleans. */
function parameters(v: unknown, field: string): Json {
  if (v === undefined) return {};
  if (!isObject(v)) throw invalidArgument(field, 'must be an object of name: value');
  return v;
}

/** The body's JSON header and the binary bytes after it. */
export function splitBinaryBody(body: Buffer, headerLength: string): { header: unknown; rest: Buffer } {
  const n = /^[0-9]{1,12}$/.test(headerLength.trim()) ? Number(headerLength.trim()) : Number.NaN;
  if (!Number.isSafeInteger(n) || n > body.length) {
    throw invalidArgument(
      'Inference-Header-Content-Length',
      `must be the byte length of the JSON header, 0-${body.length}, got ${JSON.stringify(headerLength.slice(0, 20))}`,
    );
  }
  let header: unknown;
  try {
    header = JSON.parse(body.subarray(0, n).toString('utf8'));
  } catch (err) {
    throw invalidArgument(
      'Inference-Header-Content-Length',
      `the first ${n} bytes are not a JSON header: ${(err as Error).message}`,
    );
  }
  return { header, rest: body.subarray(n) };
}

/** One input: `data` in JSON, or `binary_data_size` bytes taken from `binary`. */
function input(v: unknown, i: number, binary: { bytes: Buffer; at: number }): Tensor {
  if (!isObject(v)) throw invalidArgument(`inputs[${i}]`, 'must be an object with name, shape, datatype and data');
  if (typeof v.name !== 'string' || v.name === '')
    throw invalidArgument(`inputs[${i}].name`, 'must be a non-empty string');
  const name = v.name;
  const datatype = checkDatatype(v.datatype, name);
  const shape = parseShape(v.shape, name);
  const size = parameters(v.parameters, `${name}.parameters`).binary_data_size;
  if (size === undefined) return { name, datatype, shape, values: fromJson(v.data, datatype, name) };
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0 || binary.at + size > binary.bytes.length) {
    throw invalidArgument(
      `${name}.parameters.binary_data_size`,
      `must be a byte count within the ${binary.bytes.length - binary.at} binary bytes left, got ${JSON.stringify(size)}`,
    );
  }
  const bytes = binary.bytes.subarray(binary.at, binary.at + size);
  binary.at += size;
  return { name, datatype, shape, values: fromBytes(bytes, datatype, name) };
}

/** Whether a requested output wants binary data: its own `binary_data`, else `binary_data_output`. */
function output(v: unknown, i: number, binaryAll: boolean): RequestedOutput {
  if (!isObject(v) || typeof v.name !== 'string')
    throw invalidArgument(`outputs[${i}]`, 'must be an object with a name');
  const own = parameters(v.parameters, `outputs[${i}].parameters`).binary_data;
  return { name: v.name, binary: typeof own === 'boolean' ? own : binaryAll };
}

/** A REST infer request (its JSON, or a binary body's header and bytes). */
export function parseInferBody(
  json: unknown,
  binary: Buffer,
  model: { name: string; version: string },
): InferRequest & { binaryAll: boolean } {
  if (!isObject(json)) throw invalidArgument('body', 'must be an inference request object {"inputs": [...]}');
  if (json.id !== undefined && typeof json.id !== 'string') throw invalidArgument('id', 'must be a string');
  const binaryAll = parameters(json.parameters, 'parameters').binary_data_output === true;
  if (!Array.isArray(json.inputs) || json.inputs.length === 0)
    throw invalidArgument('inputs', 'must be a non-empty list of input tensors');
  const cursor = { bytes: binary, at: 0 };
  const inputs = json.inputs.map((v, i) => input(v, i, cursor));
  if (cursor.at !== binary.length) {
    throw invalidArgument(
      'binary_data_size',
      `the inputs' binary_data_size add up to ${cursor.at} bytes, but ${binary.length} follow the header`,
    );
  }
  if (json.outputs !== undefined && !Array.isArray(json.outputs))
    throw invalidArgument('outputs', 'must be a list of {name}');
  return {
    modelName: model.name,
    modelVersion: model.version,
    ...(json.id !== undefined ? { id: json.id as string } : {}),
    inputs,
    ...(json.outputs !== undefined
      ? { outputs: (json.outputs as unknown[]).map((v, i) => output(v, i, binaryAll)) }
      : {}),
    binaryAll,
  };
}

/** An output's bytes in the binary form. */
function outputBytes(t: OutputTensor): Buffer[] {
  return t.name === 'image' ? [t.raw] : joinBytesElements(t.elements);
}

/** An output's JSON `data`: pixels as numbers, PNGs as base64 strings (PNG bytes are not UTF-8 text). */
function outputJson(t: OutputTensor): number[] | string[] {
  return t.name === 'image' ? Array.from(t.raw) : t.elements.map((e) => e.toString('base64'));
}

/** The answer: `json` alone, or `header` + `binary` when an output is binary. */
export type RestAnswer = { readonly json: Json } | { readonly header: Buffer; readonly binary: Buffer[] };

/** Builds the REST answer; `binary(name)` says which outputs go as binary data. */
export function inferAnswer(
  result: InferResult,
  id: string | undefined,
  binary: (name: string) => boolean,
): RestAnswer {
  const chunks: Buffer[] = [];
  const outputs = result.outputs.map((t) => {
    const base = { name: t.name, datatype: t.datatype, shape: t.shape };
    if (!binary(t.name)) return { ...base, data: outputJson(t) };
    const parts = outputBytes(t);
    chunks.push(...parts);
    return { ...base, parameters: { binary_data_size: parts.reduce((a, p) => a + p.length, 0) } };
  });
  const json = {
    model_name: result.model.name,
    model_version: MODEL_VERSION,
    ...(id !== undefined ? { id } : {}),
    outputs,
  };
  if (chunks.length === 0) return { json };
  return { header: Buffer.from(JSON.stringify(json), 'utf8'), binary: chunks };
}
