/**
 * A minimal ONNX protobuf encoder: just the parts of onnx.proto (ModelProto, GraphProto,
 * NodeProto, AttributeProto, TensorProto, ValueInfoProto) that the generator graph needs.
 *
 * A full-width model is ~200 MB of weights, so the encoder never concatenates: it computes every
 * message's size first, then writes once into a single preallocated Uint8Array. Tensor payloads
 * are written straight from the caller's typed arrays (no intermediate copies).
 */
import { assertLittleEndianHost } from '../../weights/dtype.js';

/** ONNX TensorProto.DataType values used here. */
export type OnnxElemType = 'float' | 'int64';

const DATA_TYPE: Record<OnnxElemType, number> = { float: 1, int64: 7 };

/** An attribute of a node (AttributeProto with type INT, INTS, FLOAT or STRING). */
export type OnnxAttribute =
  | { readonly name: string; readonly type: 'int'; readonly value: number }
  | { readonly name: string; readonly type: 'ints'; readonly value: readonly number[] }
  | { readonly name: string; readonly type: 'float'; readonly value: number }
  | { readonly name: string; readonly type: 'string'; readonly value: string };

/** A NodeProto. */
export interface OnnxNode {
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name?: string;
  /** Operator domain; '' (the default) is the standard ai.onnx domain. */
  readonly domain?: string;
  readonly attributes?: readonly OnnxAttribute[];
}

/**
 * A TensorProto stored with raw_data (little-endian). `data` may be a list of float32 chunks that
 * are written back to back: row-concatenated weight matrices then cost no JS-side copy.
 */
export interface OnnxTensor {
  readonly name: string;
  readonly dims: readonly number[];
  readonly data: Float32Array | BigInt64Array | readonly Float32Array[];
}

/** A ValueInfoProto of tensor type; a string dimension is symbolic (dim_param). */
export interface OnnxValueInfo {
  readonly name: string;
  readonly elemType: OnnxElemType;
  readonly shape: readonly (number | string)[];
}

/** A GraphProto. */
export interface OnnxGraph {
  readonly name: string;
  readonly nodes: readonly OnnxNode[];
  readonly initializers: readonly OnnxTensor[];
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
  /** Declared shapes of intermediate values (shape inference cannot always carry symbolic dims). */
  readonly valueInfo?: readonly OnnxValueInfo[];
}

/** ModelProto-level settings. */
export interface OnnxModelOptions {
  /** Default 8 (ONNX 1.10+, understood by every current ONNX Runtime). */
  readonly irVersion?: number;
  /** Default [{ domain: '', version: 17 }]. */
  readonly opsets?: readonly { readonly domain: string; readonly version: number }[];
  /** Default 'biggan-serve'. */
  readonly producerName?: string;
}

// ---- wire-format primitives -------------------------------------------------------------------

const WIRE_VARINT = 0;
const WIRE_FIXED32 = 5;
const WIRE_LEN = 2;

const utf8 = new TextEncoder();

/** Bytes of an unsigned varint (value < 2^53) or of a negative int64 (always 10). */
function varintSize(v: number): number {
  if (v < 0) return 10;
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

function tagSize(field: number): number {
  return varintSize(field << 3);
}

/** A protobuf message as a flat list of fields, with its byte size cached after the first pass. */
type Field =
  | { readonly f: number; readonly k: 'varint'; readonly v: number }
  | { readonly f: number; readonly k: 'float'; readonly v: number }
  | { readonly f: number; readonly k: 'bytes'; readonly v: Uint8Array }
  | { readonly f: number; readonly k: 'chunks'; readonly v: readonly Uint8Array[]; readonly n: number }
  | { readonly f: number; readonly k: 'packed'; readonly v: readonly number[] }
  | { readonly f: number; readonly k: 'msg'; readonly v: Message };

interface Message {
  readonly fields: Field[];
  size?: number;
}

function packedBody(v: readonly number[]): number {
  let n = 0;
  for (const x of v) n += varintSize(x);
  return n;
}

/** Computes (and caches) every nested message's size: the first of the two passes. */
function messageSize(m: Message): number {
  if (m.size !== undefined) return m.size;
  let n = 0;
  for (const fd of m.fields) {
    n += tagSize(fd.f);
    switch (fd.k) {
      case 'varint':
        n += varintSize(fd.v);
        break;
      case 'float':
        n += 4;
        break;
      case 'bytes':
        n += varintSize(fd.v.length) + fd.v.length;
        break;
      case 'chunks':
        n += varintSize(fd.n) + fd.n;
        break;
      case 'packed': {
        const body = packedBody(fd.v);
        n += varintSize(body) + body;
        break;
      }
      case 'msg': {
        const body = messageSize(fd.v);
        n += varintSize(body) + body;
        break;
      }
    }
  }
  m.size = n;
  return n;
}

/** Writes into one preallocated buffer: the second pass. */
class Writer {
  private pos = 0;
  private readonly view: DataView;

  constructor(readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get offset(): number {
    return this.pos;
  }

  varint(v: number): void {
    if (v < 0) {
      // int64 two's complement: always 10 bytes.
      let b = BigInt.asUintN(64, BigInt(v));
      for (let i = 0; i < 9; i++) {
        this.buf[this.pos++] = Number(b & 0x7fn) | 0x80;
        b >>= 7n;
      }
      this.buf[this.pos++] = Number(b);
      return;
    }
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }

  tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  message(m: Message): void {
    for (const fd of m.fields) {
      switch (fd.k) {
        case 'varint':
          this.tag(fd.f, WIRE_VARINT);
          this.varint(fd.v);
          break;
        case 'float':
          this.tag(fd.f, WIRE_FIXED32);
          this.view.setFloat32(this.pos, fd.v, true);
          this.pos += 4;
          break;
        case 'bytes':
          this.tag(fd.f, WIRE_LEN);
          this.varint(fd.v.length);
          this.buf.set(fd.v, this.pos);
          this.pos += fd.v.length;
          break;
        case 'chunks':
          this.tag(fd.f, WIRE_LEN);
          this.varint(fd.n);
          for (const c of fd.v) {
            this.buf.set(c, this.pos);
            this.pos += c.length;
          }
          break;
        case 'packed':
          this.tag(fd.f, WIRE_LEN);
          this.varint(packedBody(fd.v));
          for (const x of fd.v) this.varint(x);
          break;
        case 'msg':
          this.tag(fd.f, WIRE_LEN);
          this.varint(messageSize(fd.v));
          this.message(fd.v);
          break;
      }
    }
  }
}

// ---- ONNX messages (field numbers from onnx/onnx.proto) ---------------------------------------

const str = (f: number, s: string): Field => ({ f, k: 'bytes', v: utf8.encode(s) });
const msg = (f: number, fields: Field[]): Field => ({ f, k: 'msg', v: { fields } });

const ATTR_TYPE = { float: 1, int: 2, string: 3, ints: 7 } as const;

function attributeFields(a: OnnxAttribute): Field[] {
  const fields: Field[] = [str(1, a.name)];
  switch (a.type) {
    case 'float':
      fields.push({ f: 2, k: 'float', v: a.value });
      break;
    case 'int':
      fields.push({ f: 3, k: 'varint', v: a.value });
      break;
    case 'string':
      fields.push(str(4, a.value));
      break;
    case 'ints':
      fields.push({ f: 8, k: 'packed', v: a.value });
      break;
  }
  fields.push({ f: 20, k: 'varint', v: ATTR_TYPE[a.type] });
  return fields;
}

function nodeFields(n: OnnxNode): Field[] {
  const fields: Field[] = [];
  for (const i of n.inputs) fields.push(str(1, i));
  for (const o of n.outputs) fields.push(str(2, o));
  if (n.name) fields.push(str(3, n.name));
  fields.push(str(4, n.opType));
  for (const a of n.attributes ?? []) fields.push(msg(5, attributeFields(a)));
  if (n.domain) fields.push(str(7, n.domain));
  return fields;
}

function checkInteger(v: number, what: string): void {
  if (!Number.isSafeInteger(v)) throw new RangeError(`${what} must be a safe integer, got ${v}`);
}

function tensorFields(t: OnnxTensor): Field[] {
  assertLittleEndianHost('ONNX tensors (raw_data is little-endian)');
  t.dims.forEach((d) => checkInteger(d, `tensor ${t.name} dim`));
  const count = t.dims.reduce((a, b) => a * b, 1);
  const chunks = Array.isArray(t.data) ? (t.data as readonly Float32Array[]) : [t.data as Float32Array | BigInt64Array];
  const length = chunks.reduce((a, c) => a + c.length, 0);
  if (count !== length)
    throw new RangeError(`tensor ${t.name}: dims [${t.dims.join(', ')}] hold ${count} values, data has ${length}`);
  const type = chunks.length > 0 && chunks[0] instanceof BigInt64Array ? DATA_TYPE.int64 : DATA_TYPE.float;
  // raw_data aliases the caller's arrays: written once, straight into the output buffer.
  const bytes = chunks.map((c) => new Uint8Array(c.buffer, c.byteOffset, c.byteLength));
  return [
    { f: 1, k: 'packed', v: t.dims },
    { f: 2, k: 'varint', v: type },
    str(8, t.name),
    { f: 9, k: 'chunks', v: bytes, n: bytes.reduce((a, c) => a + c.length, 0) },
  ];
}

function valueInfoFields(v: OnnxValueInfo): Field[] {
  const dims = v.shape.map((d) =>
    typeof d === 'string' ? msg(1, [str(2, d)]) : msg(1, [{ f: 1, k: 'varint', v: d }]),
  );
  const tensorType = msg(1, [{ f: 1, k: 'varint', v: DATA_TYPE[v.elemType] }, msg(2, dims)]);
  return [str(1, v.name), msg(2, [tensorType])];
}

function graphFields(g: OnnxGraph): Field[] {
  return [
    ...g.nodes.map((n) => msg(1, nodeFields(n))),
    str(2, g.name),
    ...g.initializers.map((t) => msg(5, tensorFields(t))),
    ...g.inputs.map((v) => msg(11, valueInfoFields(v))),
    ...g.outputs.map((v) => msg(12, valueInfoFields(v))),
    ...(g.valueInfo ?? []).map((v) => msg(13, valueInfoFields(v))),
  ];
}

/**
 * Serialises a ModelProto into one freshly allocated Uint8Array (exactly the model's size).
 * Peak extra memory is that one buffer plus small per-node bookkeeping.
 */
export function encodeModel(graph: OnnxGraph, opts: OnnxModelOptions = {}): Uint8Array {
  const opsets = opts.opsets ?? [{ domain: '', version: 17 }];
  const model: Message = {
    fields: [
      { f: 1, k: 'varint', v: opts.irVersion ?? 8 },
      str(2, opts.producerName ?? 'biggan-serve'),
      msg(7, graphFields(graph)),
      ...opsets.map((o) => msg(8, [str(1, o.domain), { f: 2, k: 'varint', v: o.version }])),
    ],
  };
  const size = messageSize(model);
  const w = new Writer(new Uint8Array(size));
  w.message(model);
  if (w.offset !== size) throw new Error(`ONNX encoder wrote ${w.offset} bytes, expected ${size}`);
  return w.buf;
}

/** Shorthand attribute constructors. */
export const attr = {
  int: (name: string, value: number): OnnxAttribute => ({ name, type: 'int', value }),
  ints: (name: string, value: readonly number[]): OnnxAttribute => ({ name, type: 'ints', value }),
  float: (name: string, value: number): OnnxAttribute => ({ name, type: 'float', value }),
  string: (name: string, value: string): OnnxAttribute => ({ name, type: 'string', value }),
};
