/**
 * Element types a weight file may store and their conversion to float32, shared by the
 * safetensors and PyTorch readers. Every reader hands out float32 (the engines compute in float32),
 * so 16-bit formats are widened once at load time.
 */
import { BigGanError } from '../errors.js';

/** A floating-point element type biggan-serve can read. */
export type FloatDType = 'float32' | 'float16' | 'bfloat16';

/** Bytes per element of each readable type. */
export const DTYPE_SIZE: Readonly<Record<FloatDType, number>> = { float32: 4, float16: 2, bfloat16: 2 };

// Loading reinterprets file bytes as native floats; every supported file format (weights, and
// the ONNX raw_data the ort engine writes) is little-endian.
const NATIVE_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Throws unless this machine is little-endian, the byte order of every format biggan-serve
 * reinterprets as native floats; `what` names the format in the message.
 */
export function assertLittleEndianHost(what = 'weight files'): void {
  if (!NATIVE_LE)
    throw new BigGanError('INTERNAL', `biggan-serve reads and writes ${what} only on little-endian machines`);
}

let halfTable: Float32Array | undefined;

/** float16 bit pattern -> float32 value for all 65536 patterns (256 KiB, built on first use). */
function float16Table(): Float32Array {
  if (halfTable) return halfTable;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0)
      t[h] = sign * mant * 2 ** -24; // zero and subnormals: mant * 2^-14 / 1024
    else if (exp === 31) t[h] = mant === 0 ? sign * Infinity : NaN;
    else t[h] = sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  halfTable = t;
  return t;
}

/** A copy of `bytes[begin, end)` in an ArrayBuffer of its own (Buffer#slice would return a view). */
function copyBytes(bytes: Uint8Array, begin: number, end: number): ArrayBuffer {
  const out = new Uint8Array(end - begin);
  out.set(bytes.subarray(begin, end));
  return out.buffer;
}

/** A Uint16Array over `count` 16-bit elements at `offset`: a view when 2-aligned, else a copy. */
function u16(bytes: Uint8Array, offset: number, count: number): Uint16Array {
  const at = bytes.byteOffset + offset;
  if (at % 2 === 0) return new Uint16Array(bytes.buffer, at, count);
  return new Uint16Array(copyBytes(bytes, offset, offset + 2 * count));
}

/**
 * `count` little-endian float32 values at byte `offset` of `bytes`: a zero-copy view when the
 * address is 4-aligned (the view keeps the file's buffer alive), else a copy.
 */
export function float32At(bytes: Uint8Array, offset: number, count: number): Float32Array {
  const at = bytes.byteOffset + offset;
  if (at % 4 === 0) return new Float32Array(bytes.buffer, at, count);
  return new Float32Array(copyBytes(bytes, offset, offset + 4 * count));
}

/**
 * `count` elements of type `dtype` at byte `offset` of `bytes`, as float32. float32 may be a view
 * (see `float32At`); 16-bit types are always widened into a new array.
 */
export function decodeFloats(bytes: Uint8Array, offset: number, count: number, dtype: FloatDType): Float32Array {
  if (dtype === 'float32') return float32At(bytes, offset, count);
  const src = u16(bytes, offset, count);
  const out = new Float32Array(count);
  if (dtype === 'float16') {
    const table = float16Table();
    for (let i = 0; i < count; i++) out[i] = table[src[i]];
  } else {
    // bfloat16 is the top half of a float32: shifting the bits back is exact, NaN payloads included.
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < count; i++) bits[i] = src[i] << 16;
  }
  return out;
}
