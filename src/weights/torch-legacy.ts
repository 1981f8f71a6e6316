/**
 * PyTorch's legacy (pre-1.6, non-zip) `torch.save` format, the format of the published
 * `biggan-deep-*` files: five pickles back to back (magic number, protocol 1001, sys info,
 * the state_dict with storages as persistent ids, the storage key list), then each storage's
 * raw bytes. Also holds the state_dict rebuilding that the zip format shares.
 */
import { invalidWeights } from '../errors.js';
import { DTYPE_SIZE, type FloatDType, decodeFloats } from './dtype.js';
import { TorchTensorRef, describePickled, storageDType, unpickle } from './pickle.js';
import type { StateDict } from './state-dict.js';

/** torch.serialization.MAGIC_NUMBER, the first pickle of a legacy file. */
const MAGIC_NUMBER = 0x1950a86a20f9469cfc6cn;
const PROTOCOL_VERSION = 1001;
/** Largest tensor materialised (elements): guards against stride-0 tensors expanding into gigabytes. */
const MAX_TENSOR_ELEMENTS = 2 ** 28;

/** A torch storage named by a persistent id; a view (old torch) points into its root storage. */
export class TorchStorage {
  constructor(
    readonly key: string,
    readonly dtype: FloatDType,
    /** Elements in the storage. */
    readonly numel: number,
    readonly root?: TorchStorage,
    /** For a view: element offset into the root. */
    readonly rootOffset = 0,
  ) {}
}

/**
 * Validates the common head of a storage persistent id, `('storage', <torch XStorage>, key,
 * location, numel, ...)`, and returns the storage it names (cached by key in `seen`).
 */
export function storageFromPid(
  pid: unknown,
  expectedLength: number,
  seen: Map<string, TorchStorage>,
  source: string,
): TorchStorage {
  if (!Array.isArray(pid) || pid.length !== expectedLength || pid[0] !== 'storage') {
    throw invalidWeights(
      `${source}: unsupported persistent id ${describePickled(pid)} (expected a ${expectedLength}-tuple ('storage', type, key, location, numel${expectedLength === 6 ? ', view' : ''}))`,
    );
  }
  const [, type, key, , numel] = pid as unknown[];
  const dtype = storageDType(type);
  if (dtype === undefined)
    throw invalidWeights(
      `${source}: unsupported storage type ${describePickled(type)} (supported: torch.FloatStorage, torch.HalfStorage, torch.BFloat16Storage)`,
    );
  if (typeof key !== 'string' || key.length === 0 || key.length > 64)
    throw invalidWeights(`${source}: storage key must be a short string, got ${describePickled(key)}`);
  if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0)
    throw invalidWeights(`${source}: storage '${key}' has invalid element count ${describePickled(numel)}`);
  const prior = seen.get(key);
  if (prior) {
    if (prior.dtype !== dtype || prior.numel !== numel)
      throw invalidWeights(`${source}: storage '${key}' is declared twice with different types or sizes`);
    return prior;
  }
  const s = new TorchStorage(key, dtype, numel);
  seen.set(key, s);
  return s;
}

/** Row-major strides of `size`, in elements. */
function contiguousStrides(size: readonly number[]): number[] {
  const out = new Array<number>(size.length);
  let s = 1;
  for (let i = size.length - 1; i >= 0; i--) {
    out[i] = s;
    s *= size[i];
  }
  return out;
}

/** Copies a strided view of `src` into a new row-major array of `numel` elements. */
function gather(
  src: Float32Array,
  offset: number,
  size: readonly number[],
  stride: readonly number[],
  numel: number,
): Float32Array {
  const out = new Float32Array(numel);
  const nd = size.length;
  const idx = new Array<number>(nd).fill(0);
  const last = nd - 1;
  let base = offset; // storage index of the current row's first element
  for (let o = 0; o < numel;) {
    const n = size[last];
    const st = stride[last];
    for (let j = 0; j < n; j++) out[o++] = src[base + j * st];
    // Advance the multi-index over all dims but the last, odometer style.
    let d = last - 1;
    while (d >= 0) {
      idx[d]++;
      base += stride[d];
      if (idx[d] < size[d]) break;
      base -= stride[d] * size[d];
      idx[d] = 0;
      d--;
    }
    if (d < 0) break;
  }
  return out;
}

/**
 * Turns an unpickled torch state_dict (an OrderedDict of `_rebuild_tensor_v2` results) into a
 * StateDict, honouring storage offsets and strides. `storageData` returns a storage's float32
 * values (a view where the file allows); contiguous tensors become views of it.
 */
export function stateDictFromTorchPickle(
  root: unknown,
  storageData: (s: TorchStorage) => Float32Array,
  source: string,
): StateDict {
  if (!(root instanceof Map))
    throw invalidWeights(`${source}: expected a state_dict (a dict of tensors), got ${describePickled(root)}`);
  const sd: StateDict = new Map();
  for (const [key, value] of root) {
    if (typeof key !== 'string')
      throw invalidWeights(`${source}: state_dict key ${describePickled(key)} is not a string`);
    if (!(value instanceof TorchTensorRef))
      throw invalidWeights(`${source}: state_dict entry '${key}' is ${describePickled(value)}, not a tensor`);
    if (!(value.storage instanceof TorchStorage)) throw invalidWeights(`${source}: tensor '${key}' has no storage`);
    const { offset, size, stride } = value;
    const storage = value.storage;
    let numel = 1;
    for (const s of size) numel *= s;
    if (numel > MAX_TENSOR_ELEMENTS)
      throw invalidWeights(
        `${source}: tensor '${key}' has ${numel} elements, more than the ${MAX_TENSOR_ELEMENTS} supported`,
      );
    if (numel === 0) {
      sd.set(key, { shape: [...size], data: new Float32Array(0) });
      continue;
    }
    let maxIndex = offset;
    for (let i = 0; i < size.length; i++) maxIndex += (size[i] - 1) * stride[i];
    if (maxIndex >= storage.numel) {
      throw invalidWeights(
        `${source}: tensor '${key}' (size [${size.join(', ')}], stride [${stride.join(', ')}], offset ${offset}) reaches element ${maxIndex} of storage '${storage.key}', which has only ${storage.numel}`,
      );
    }
    const data = storageData(storage);
    const want = contiguousStrides(size);
    const contiguous = size.every((s, i) => s === 1 || stride[i] === want[i]);
    sd.set(key, {
      shape: [...size],
      data: contiguous ? data.subarray(offset, offset + numel) : gather(data, offset, size, stride, numel),
    });
  }
  return sd;
}

/** Options of `readTorchLegacy`. */
export interface TorchLegacyOptions {
  /**
   * The caller hands `bytes` over: the reader may move the storage bytes inside their
   * ArrayBuffer, using up to 3 spare bytes past `bytes.length`, so that float32 storages become
   * 4-aligned and load as views instead of copies (one in-place memmove instead of a second copy).
   */
  readonly realign?: boolean;
}

/** Reads the pickles of a legacy file one after another from the start of `bytes`. */
class PickleCursor {
  /** Byte offset of the next pickle (after the last one, the start of the storage records). */
  pos = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly source: string,
  ) {}

  next(what: string, persistentLoad?: (pid: unknown) => unknown): unknown {
    const r = unpickle(this.bytes, this.pos, { source: `${this.source} (${what})`, persistentLoad });
    this.pos = r.end;
    return r.value;
  }
}

/** Checks the three header pickles: magic number, protocol version, and sys info (little-endian only). */
function readLegacyHeader(cursor: PickleCursor, source: string): void {
  const magic = cursor.next('magic number');
  if (magic !== MAGIC_NUMBER)
    throw invalidWeights(`${source}: not a PyTorch legacy file (wrong magic number ${describePickled(magic)})`);
  const protocol = cursor.next('protocol version');
  if (protocol !== PROTOCOL_VERSION)
    throw invalidWeights(
      `${source}: unsupported torch legacy protocol ${describePickled(protocol)} (expected ${PROTOCOL_VERSION})`,
    );
  const sysInfo = cursor.next('sys info');
  if (!(sysInfo instanceof Map))
    throw invalidWeights(`${source}: sys info is ${describePickled(sysInfo)}, expected a dict`);
  if (sysInfo.get('little_endian') !== true)
    throw invalidWeights(
      `${source}: the file was written on a big-endian machine; only little-endian files are supported`,
    );
}

/**
 * The persistent-id loader of the main pickle: a 6-tuple pid names a root storage (kept in `roots`);
 * its last item is None, or (view_key, offset, size) for a view into that root (torch < 1.0 wrote these).
 */
function legacyStorageLoader(roots: Map<string, TorchStorage>, source: string): (pid: unknown) => TorchStorage {
  const views = new Map<string, TorchStorage>();
  return (pid) => {
    const root = storageFromPid(pid, 6, roots, source);
    const view = (pid as unknown[])[5];
    if (view === null) return root;
    if (!Array.isArray(view) || view.length !== 3)
      throw invalidWeights(`${source}: unsupported storage view ${describePickled(view)}`);
    const [viewKey, off, n] = view as unknown[];
    if (
      typeof viewKey !== 'string' ||
      !Number.isSafeInteger(off) ||
      !Number.isSafeInteger(n) ||
      (off as number) < 0 ||
      (n as number) < 0 ||
      (off as number) + (n as number) > root.numel
    ) {
      throw invalidWeights(
        `${source}: storage view ${describePickled(view)} does not fit in storage '${root.key}' of ${root.numel} elements`,
      );
    }
    const prior = views.get(viewKey);
    if (prior) return prior;
    const s = new TorchStorage(viewKey, root.dtype, n as number, root, off as number);
    views.set(viewKey, s);
    return s;
  };
}

/** The last pickle: the list of storage keys, in the order their records follow. */
function readStorageKeys(cursor: PickleCursor, source: string): string[] {
  const keys = cursor.next('storage keys');
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string'))
    throw invalidWeights(`${source}: storage key list is ${describePickled(keys)}, expected a list of strings`);
  return keys as string[];
}

/**
 * Walks the storage records from byte `start`: each an 8-byte little-endian element count, then
 * count * element size bytes. Returns each storage's data offset in `bytes` and the end of the records.
 */
function locateStorageRecords(
  bytes: Uint8Array,
  start: number,
  keys: readonly string[],
  roots: ReadonlyMap<string, TorchStorage>,
  source: string,
): { dataAt: Map<string, number>; end: number } {
  const dataAt = new Map<string, number>(); // storage key -> byte offset of its data in `bytes`
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = start;
  for (const key of keys) {
    const storage = roots.get(key);
    if (!storage)
      throw invalidWeights(`${source}: the storage key list names '${key}', which the state_dict does not use`);
    if (dataAt.has(key)) throw invalidWeights(`${source}: storage '${key}' appears twice in the storage key list`);
    if (bytes.length - pos < 8)
      throw invalidWeights(
        `${source}: truncated: the size of storage '${key}' should be at byte offset ${pos} but the file ends at ${bytes.length}`,
      );
    const lo = view.getUint32(pos, true);
    const hi = view.getUint32(pos + 4, true);
    const count = hi * 2 ** 32 + lo;
    if (count !== storage.numel)
      throw invalidWeights(
        `${source}: storage '${key}' holds ${count} elements in the file but the state_dict declares ${storage.numel}`,
      );
    pos += 8;
    const nbytes = count * DTYPE_SIZE[storage.dtype];
    if (bytes.length - pos < nbytes)
      throw invalidWeights(
        `${source}: truncated: storage '${key}' needs ${nbytes} bytes at offset ${pos} but the file ends at ${bytes.length}`,
      );
    dataAt.set(key, pos);
    pos += nbytes;
  }
  for (const key of roots.keys()) {
    if (!dataAt.has(key))
      throw invalidWeights(`${source}: storage '${key}' is used by the state_dict but has no data in the file`);
  }
  return { dataAt, end: pos };
}

/**
 * Moves the storage records [start, end) forward by up to 3 bytes (into the spare bytes past
 * `bytes.length`) so that float32 data become 4-aligned, updating `dataAt`. Every float32 record is
 * 8 + 4n bytes, so one shift usually aligns all of them at once. Returns the bytes to decode from.
 */
function realignFloat32Records(
  bytes: Uint8Array,
  start: number,
  end: number,
  dataAt: Map<string, number>,
  roots: ReadonlyMap<string, TorchStorage>,
): Uint8Array {
  const firstFloat = [...roots.values()].find((s) => s.dtype === 'float32' && s.numel > 0);
  if (!firstFloat) return bytes;
  const shift = (4 - ((bytes.byteOffset + (dataAt.get(firstFloat.key) as number)) % 4)) % 4;
  if (shift === 0 || bytes.byteOffset + bytes.length + shift > bytes.buffer.byteLength) return bytes;
  const data = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length + shift);
  data.copyWithin(start + shift, start, end);
  for (const [k, off] of dataAt) dataAt.set(k, off + shift);
  return data;
}

/** A storage's float32 values: root storages decoded once (cached), views as subarrays of their root. */
function storageDecoder(data: Uint8Array, dataAt: ReadonlyMap<string, number>): (s: TorchStorage) => Float32Array {
  const decoded = new Map<string, Float32Array>();
  const rootData = (s: TorchStorage): Float32Array => {
    let d = decoded.get(s.key);
    if (!d) {
      d = decodeFloats(data, dataAt.get(s.key) as number, s.numel, s.dtype);
      decoded.set(s.key, d);
    }
    return d;
  };
  return (s) => (s.root ? rootData(s.root).subarray(s.rootOffset, s.rootOffset + s.numel) : rootData(s));
}

/** Reads a legacy-format `torch.save` state_dict held in `bytes`; `source` names the file in messages. */
export function readTorchLegacy(bytes: Uint8Array, source: string, options: TorchLegacyOptions = {}): StateDict {
  const cursor = new PickleCursor(bytes, source);
  readLegacyHeader(cursor, source);
  const roots = new Map<string, TorchStorage>(); // root storages by key
  const main = cursor.next('main pickle', legacyStorageLoader(roots, source));
  const keys = readStorageKeys(cursor, source);
  const sectionStart = cursor.pos;
  const { dataAt, end } = locateStorageRecords(bytes, sectionStart, keys, roots, source);
  const data = options.realign ? realignFloat32Records(bytes, sectionStart, end, dataAt, roots) : bytes;
  return stateDictFromTorchPickle(main, storageDecoder(data, dataAt), source);
}
