/**
 * Tensors of the Open Inference Protocol as this server reads and writes them, whatever carried
 * them: JSON `data` (flat or nested, row-major), little-endian bytes (the REST binary extension
 * and gRPC `raw_input_contents`) or gRPC typed `contents`. Values come out as plain numbers, or
 * bigints for 64-bit integers (seeds reach 2^64-1, past a double's 2^53).
 */
import { invalidArgument } from '../../errors.js';
// FP32 values are read as the shortest decimal that rounds to the same float32, as the native gRPC
// codec reads proto floats: so an FP32 truncation of 0.4 picks the batch-norm row REST's 0.4 picks.
import { float32Decimal } from '../grpc/codec.js';

/** Every datatype of the protocol, with its element size in bytes (BYTES: variable). */
export const DATATYPE_BYTES: Readonly<Record<string, number>> = Object.freeze({
  BOOL: 1,
  UINT8: 1,
  UINT16: 2,
  UINT32: 4,
  UINT64: 8,
  INT8: 1,
  INT16: 2,
  INT32: 4,
  INT64: 8,
  FP16: 2,
  FP32: 4,
  FP64: 8,
  BYTES: 0,
});

/** A decoded input tensor. */
export interface Tensor {
  readonly name: string;
  readonly datatype: string;
  /** Dimensions, each >= 0. */
  readonly shape: readonly number[];
  /** Row-major elements: numbers, bigints for INT64/UINT64, Buffers for BYTES. */
  readonly values: readonly (number | bigint | Buffer)[];
}

/** Product of the dimensions. */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Checks and returns a shape: integers >= 0 (a wire int64 arrives as a string over gRPC). */
export function parseShape(raw: unknown, tensor: string): number[] {
  if (!Array.isArray(raw)) throw invalidArgument(`${tensor}.shape`, 'must be a list of dimensions');
  return raw.map((d: unknown, i) => {
    const n = typeof d === 'string' && /^-?[0-9]{1,15}$/.test(d) ? Number(d) : d;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
      throw invalidArgument(`${tensor}.shape[${i}]`, `must be an integer >= 0, got ${JSON.stringify(d)}`);
    }
    return n;
  });
}

/** Checks a datatype name. */
export function checkDatatype(datatype: unknown, tensor: string): string {
  if (typeof datatype !== 'string' || !(datatype in DATATYPE_BYTES)) {
    throw invalidArgument(
      `${tensor}.datatype`,
      `must be one of ${Object.keys(DATATYPE_BYTES).join(', ')}, got ${JSON.stringify(datatype)}`,
    );
  }
  return datatype;
}

/** Flattens nested JSON arrays (row-major), depth-first. */
function flatten(data: unknown, out: unknown[]): void {
  if (Array.isArray(data)) for (const d of data) flatten(d, out);
  else out.push(data);
}

/** One JSON element as a value of `datatype`; throws naming the tensor and index. */
function jsonElement(v: unknown, datatype: string, tensor: string, i: number): number | bigint | Buffer {
  const bad = (what: string) =>
    invalidArgument(
      `${tensor}.data[${i}]`,
      `must be ${what} (datatype ${datatype}), got ${JSON.stringify(v)?.slice(0, 40)}`,
    );
  if (datatype === 'BYTES') {
    if (typeof v !== 'string') throw bad('a string');
    return Buffer.from(v, 'utf8');
  }
  if (datatype === 'BOOL') {
    if (typeof v !== 'boolean') throw bad('true or false');
    return v ? 1 : 0;
  }
  if (datatype === 'INT64' || datatype === 'UINT64') {
    // A decimal string keeps a seed above 2^53 exact; JSON numbers above it are already rounded.
    if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
    if (typeof v === 'string' && /^-?[0-9]{1,20}$/.test(v)) return BigInt(v);
    throw bad('an integer');
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) throw bad('a finite number');
  if (datatype.startsWith('FP')) return datatype === 'FP32' ? float32Decimal(v) : v;
  if (!Number.isInteger(v)) throw bad('an integer');
  return v;
}

/** The elements of JSON `data`, flat or nested. */
export function fromJson(data: unknown, datatype: string, tensor: string): (number | bigint | Buffer)[] {
  if (data === undefined)
    throw invalidArgument(`${tensor}.data`, 'is required (or binary_data_size with the binary extension)');
  const flat: unknown[] = [];
  flatten(data, flat);
  return flat.map((v, i) => jsonElement(v, datatype, tensor, i));
}

/** The elements of little-endian bytes holding `datatype` values. */
export function fromBytes(bytes: Buffer, datatype: string, tensor: string): (number | bigint | Buffer)[] {
  if (datatype === 'BYTES') return splitBytesElements(bytes, tensor);
  const size = DATATYPE_BYTES[datatype];
  if (bytes.length % size !== 0) {
    throw invalidArgument(
      tensor,
      `holds ${bytes.length} bytes, not a whole number of ${datatype} elements (${size} bytes each)`,
    );
  }
  const n = bytes.length / size;
  const out: (number | bigint)[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = readElement(bytes, i * size, datatype);
  return out;
}

function readElement(b: Buffer, at: number, datatype: string): number | bigint {
  switch (datatype) {
    case 'BOOL':
    case 'UINT8':
      return b.readUInt8(at);
    case 'INT8':
      return b.readInt8(at);
    case 'UINT16':
      return b.readUInt16LE(at);
    case 'INT16':
      return b.readInt16LE(at);
    case 'UINT32':
      return b.readUInt32LE(at);
    case 'INT32':
      return b.readInt32LE(at);
    case 'UINT64':
      return b.readBigUInt64LE(at);
    case 'INT64':
      return b.readBigInt64LE(at);
    case 'FP32':
      return float32Decimal(b.readFloatLE(at));
    case 'FP64':
      return b.readDoubleLE(at);
    default:
      return Number.NaN; // FP16: refused by the tensor rules (no input takes it)
  }
}

/** BYTES elements: each a 4-byte little-endian length followed by that many bytes. */
export function splitBytesElements(bytes: Buffer, tensor: string): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length;) {
    if (at + 4 > bytes.length)
      throw invalidArgument(tensor, `BYTES element ${out.length} has a truncated 4-byte length`);
    const len = bytes.readUInt32LE(at);
    if (at + 4 + len > bytes.length)
      throw invalidArgument(tensor, `BYTES element ${out.length} says ${len} bytes, past the end of the data`);
    out.push(bytes.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  return out;
}

/** BYTES elements as the binary form: each a 4-byte little-endian length followed by its bytes. */
export function joinBytesElements(elements: readonly Buffer[]): Buffer[] {
  const parts: Buffer[] = [];
  for (const e of elements) {
    const len = Buffer.allocUnsafe(4);
    len.writeUInt32LE(e.length, 0);
    parts.push(len, e);
  }
  return parts;
}
