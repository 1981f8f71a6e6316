/**
 * The safetensors format: an 8-byte little-endian header length N, N bytes of JSON
 * (`{key: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}`), then the tensors'
 * raw little-endian bytes, offsets counted from the first byte after the header. The header is
 * checked completely before any tensor is touched.
 */
import { invalidWeights } from '../errors.js';
import { DTYPE_SIZE, type FloatDType, decodeFloats } from './dtype.js';
import type { StateDict } from './state-dict.js';

/** safetensors dtype names biggan-serve reads, and the float type each becomes. */
export const SAFETENSORS_DTYPES: Readonly<Record<string, FloatDType>> = {
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
};

// Other dtypes of the format: named in errors as "not supported" rather than "unknown".
const OTHER_DTYPES = new Set([
  'BOOL',
  'U8',
  'I8',
  'F8_E5M2',
  'F8_E4M3',
  'F8_E8M0',
  'F4',
  'F6_E2M3',
  'F6_E3M2',
  'I16',
  'U16',
  'I32',
  'U32',
  'F64',
  'I64',
  'U64',
  'C64',
]);

/** The reference implementation refuses headers over 100 MB; a state_dict header is ~100 KB. */
const MAX_HEADER_BYTES = 100_000_000;

/** One validated header entry. */
export interface SafetensorsEntry {
  readonly key: string;
  readonly dtype: FloatDType;
  readonly shape: readonly number[];
  /** Byte offsets relative to the start of the data section. */
  readonly begin: number;
  readonly end: number;
}

/** A validated header: entries in data order and where the data section starts in the file. */
export interface SafetensorsHeader {
  readonly dataStart: number;
  readonly entries: readonly SafetensorsEntry[];
}

/** Parses and validates the header of the safetensors file in `bytes` (offsets, sizes, dtypes, coverage). */
export function parseSafetensorsHeader(bytes: Uint8Array, source: string): SafetensorsHeader {
  const bad = (msg: string) => invalidWeights(`${source}: invalid safetensors file: ${msg}`);
  if (bytes.length < 8) throw bad(`${bytes.length} bytes is too short for the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getUint32(4, true) * 2 ** 32 + view.getUint32(0, true);
  if (n > bytes.length - 8)
    throw bad(
      `header length ${n} exceeds the ${bytes.length - 8} bytes after the length field (the file may be truncated)`,
    );
  if (n > MAX_HEADER_BYTES) throw bad(`header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  if (n < 2 || bytes[8] !== 0x7b) throw bad("header does not start with '{'");
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw bad(`header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad('header is not a JSON object');
  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  const entries: SafetensorsEntry[] = [];
  for (const [key, raw] of Object.entries(json)) {
    if (key === '__metadata__') continue; // free-form strings (e.g. {format: pt}); nothing to load
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad(`entry '${key}' is not an object`);
    const { dtype: dt, shape, data_offsets: offsets } = raw as Record<string, unknown>;
    if (typeof dt !== 'string') throw bad(`tensor '${key}' has no dtype`);
    const dtype = Object.hasOwn(SAFETENSORS_DTYPES, dt) ? SAFETENSORS_DTYPES[dt] : undefined;
    if (!dtype) {
      throw bad(
        OTHER_DTYPES.has(dt)
          ? `tensor '${key}' has dtype ${dt}; only F32, F16 and BF16 are supported`
          : `tensor '${key}' has unknown dtype ${JSON.stringify(dt)}`,
      );
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      throw bad(`tensor '${key}' has shape ${JSON.stringify(shape)}; expected a list of non-negative integers`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw bad(`tensor '${key}' has data_offsets ${JSON.stringify(offsets)}; expected [begin, end]`);
    }
    const [begin, end] = offsets as number[];
    if (begin > end || end > dataLen)
      throw bad(
        `tensor '${key}' data_offsets [${begin}, ${end}] lie outside the ${dataLen}-byte data section (the file may be truncated)`,
      );
    const numel = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end - begin !== numel * DTYPE_SIZE[dtype]) {
      throw bad(
        `tensor '${key}' has ${end - begin} bytes but shape [${shape.join(', ')}] of ${dt} needs ${numel * DTYPE_SIZE[dtype]}`,
      );
    }
    entries.push({ key, dtype, shape: shape as number[], begin, end });
  }
  // The format requires the tensors to tile the data section exactly: no gaps, no overlaps.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    if (e.begin < expected)
      throw bad(`tensor '${e.key}' [${e.begin}, ${e.end}] overlaps tensor '${entries[i - 1].key}'`);
    if (e.begin > expected)
      throw bad(`gap of ${e.begin - expected} bytes before tensor '${e.key}' at data offset ${expected}`);
    expected = e.end;
  }
  if (expected !== dataLen) throw bad(`the tensors cover ${expected} bytes but the data section has ${dataLen}`);
  return { dataStart, entries };
}

/**
 * Reads the safetensors file held in `bytes` into a StateDict in data order. F32 tensors at
 * 4-aligned addresses are views into `bytes` (no copy); F16 and BF16 are widened to float32.
 */
export function readSafetensors(bytes: Uint8Array, source: string): StateDict {
  const { dataStart, entries } = parseSafetensorsHeader(bytes, source);
  const sd: StateDict = new Map();
  for (const e of entries) {
    const numel = e.shape.reduce((a, b) => a * b, 1);
    sd.set(e.key, { shape: e.shape, data: decodeFloats(bytes, dataStart + e.begin, numel, e.dtype) });
  }
  return sd;
}
