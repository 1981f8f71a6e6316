/**
 * A minimal, read-only ZIP reader for PyTorch checkpoints: end of central directory (ZIP64
 * included: torch always writes its records), central directory, local headers, STORED entries.
 * Entry data are views into the file's bytes; nothing is decompressed or copied.
 */
import * as zlib from 'node:zlib';
import { invalidWeights } from '../errors.js';

/** One stored entry of a ZIP archive. */
export interface ZipEntry {
  readonly name: string;
  /** Byte offset of the entry's data in the archive. */
  readonly offset: number;
  /** Size in bytes (stored: compressed = uncompressed). */
  readonly size: number;
  readonly crc32: number;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;

const METHOD_NAMES: Readonly<Record<number, string>> = {
  8: 'deflate',
  9: 'deflate64',
  12: 'bzip2',
  14: 'lzma',
  93: 'zstd',
  95: 'xz',
};

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** The archive's bytes with the helpers every record reader needs. */
interface ZipBytes {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  /** An invalid-weights error naming the file. */
  readonly bad: (msg: string) => Error;
  /** A little-endian 8-byte value at `at`, refused past 2^53 (no archive here is that large). */
  readonly u64At: (at: number) => number;
}

/** Where the central directory lies, from the end record (or its ZIP64 form). */
interface CentralDirectory {
  readonly count: number;
  readonly size: number;
  readonly offset: number;
}

/** The fields of one central directory entry that the reader uses (sizes and offset as ZIP64 resolved). */
interface CentralEntry {
  readonly name: string;
  readonly nameLen: number;
  readonly flags: number;
  readonly method: number;
  readonly crc32: number;
  readonly csize: number;
  readonly usize: number;
  readonly local: number;
  /** Offset of the next central directory entry. */
  readonly next: number;
}

function zipBytes(bytes: Uint8Array, source: string): ZipBytes {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bad = (msg: string) => invalidWeights(`${source}: ${msg}`);
  const u64At = (at: number) => {
    const hi = view.getUint32(at + 4, true);
    if (hi >= 2 ** 21) throw bad(`ZIP64 value at offset ${at} is too large`);
    return hi * 2 ** 32 + view.getUint32(at, true);
  };
  return { bytes, view, bad, u64At };
}

/** Finds the end-of-central-directory record: at the end, before a comment of up to 64 KiB. */
function findEndRecord({ bytes, view, bad }: ZipBytes): number {
  const len = bytes.length;
  for (let i = len - EOCD_SIZE; i >= Math.max(0, len - EOCD_SIZE - MAX_COMMENT); i--) {
    if (view.getUint32(i, true) === SIG_EOCD && i + EOCD_SIZE + view.getUint16(i + 20, true) === len) return i;
  }
  throw bad('not a complete ZIP file: no end-of-central-directory record (the file may be truncated)');
}

/** Reads the end record (following it to the ZIP64 record where its fields are saturated) and checks the directory fits. */
function readCentralDirectoryLocation(zip: ZipBytes): CentralDirectory {
  const { view, bad, u64At } = zip;
  const eocd = findEndRecord(zip);
  if (view.getUint16(eocd + 4, true) !== 0 || view.getUint16(eocd + 6, true) !== 0)
    throw bad('multi-disk ZIP archives are not supported');
  let count = view.getUint16(eocd + 10, true);
  let cdSize = view.getUint32(eocd + 12, true);
  let cdOffset = view.getUint32(eocd + 16, true);
  let cdLimit = eocd; // the central directory must end before this offset
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    // Saturated fields: the real values are in the ZIP64 record that the locator points to.
    const loc = eocd - 20;
    if (loc < 0 || view.getUint32(loc, true) !== SIG_ZIP64_LOCATOR)
      throw bad('ZIP64 end-of-central-directory locator missing');
    const rec = u64At(loc + 8);
    if (rec + 56 > loc || view.getUint32(rec, true) !== SIG_ZIP64_EOCD)
      throw bad(`ZIP64 end-of-central-directory record not found at offset ${rec}`);
    count = u64At(rec + 32);
    cdSize = u64At(rec + 40);
    cdOffset = u64At(rec + 48);
    cdLimit = rec;
  }
  if (cdOffset + cdSize > cdLimit)
    throw bad(
      `central directory (offset ${cdOffset}, ${cdSize} bytes) runs past its end record at ${cdLimit} (the file may be truncated or corrupt)`,
    );
  if (count * 46 > cdSize) throw bad(`central directory of ${cdSize} bytes cannot hold ${count} entries`);
  return { count, size: cdSize, offset: cdOffset };
}

/**
 * Applies the ZIP64 extended information of the extra field [start, end): 8-byte values, present
 * only for the saturated fields, in this order (uncompressed size, compressed size, local header offset).
 */
function applyZip64Extra(
  { view, bad, u64At }: ZipBytes,
  name: string,
  start: number,
  end: number,
  fields: { usize: number; csize: number; local: number },
): void {
  let q = start;
  while (q + 4 <= end) {
    const id = view.getUint16(q, true);
    const size = view.getUint16(q + 2, true);
    if (q + 4 + size > end) throw bad(`entry '${name}': corrupt extra field`);
    if (id === 0x0001) {
      let r = q + 4;
      const take = () => {
        if (r + 8 > q + 4 + size) throw bad(`entry '${name}': ZIP64 extra field too short`);
        r += 8;
        return u64At(r - 8);
      };
      if (fields.usize === 0xffffffff) fields.usize = take();
      if (fields.csize === 0xffffffff) fields.csize = take();
      if (fields.local === 0xffffffff) fields.local = take();
    }
    q += 4 + size;
  }
}

/** Reads central directory entry number `n` at offset `p`, which must end by `cdEnd`. */
function readCentralEntry(zip: ZipBytes, n: number, p: number, cdEnd: number): CentralEntry {
  const { bytes, view, bad } = zip;
  if (p + 46 > cdEnd || view.getUint32(p, true) !== SIG_CENTRAL)
    throw bad(`corrupt central directory entry ${n} at offset ${p}`);
  const nameLen = view.getUint16(p + 28, true);
  const extraLen = view.getUint16(p + 30, true);
  const commentLen = view.getUint16(p + 32, true);
  const next = p + 46 + nameLen + extraLen + commentLen;
  if (next > cdEnd) throw bad(`central directory entry ${n} at offset ${p} runs past the directory`);
  const name = utf8.decode(bytes.subarray(p + 46, p + 46 + nameLen));
  const fields = {
    csize: view.getUint32(p + 20, true),
    usize: view.getUint32(p + 24, true),
    local: view.getUint32(p + 42, true),
  };
  applyZip64Extra(zip, name, p + 46 + nameLen, p + 46 + nameLen + extraLen, fields);
  return {
    name,
    nameLen,
    flags: view.getUint16(p + 8, true),
    method: view.getUint16(p + 10, true),
    crc32: view.getUint32(p + 16, true),
    ...fields,
    next,
  };
}

/** Refuses encrypted, compressed and inconsistent entries: only STORED ones are read. */
function checkStored({ bad }: ZipBytes, e: CentralEntry): void {
  if (e.flags & 0x1) throw bad(`entry '${e.name}' is encrypted`);
  if (e.method !== 0)
    throw bad(
      `entry '${e.name}' is compressed (method ${e.method}${METHOD_NAMES[e.method] ? `, ${METHOD_NAMES[e.method]}` : ''}); only stored (uncompressed) entries are supported, as torch.save writes them`,
    );
  if (e.csize !== e.usize)
    throw bad(`stored entry '${e.name}' has compressed size ${e.csize} but uncompressed size ${e.usize}`);
}

/**
 * The offset of an entry's data, after its local header. The local header repeats the name; its
 * extra field (torch pads data to 64 bytes there) may differ. The data must end before the directory.
 */
function localDataOffset({ bytes, view, bad }: ZipBytes, e: CentralEntry, cdOffset: number): number {
  if (e.local + 30 > cdOffset || view.getUint32(e.local, true) !== SIG_LOCAL)
    throw bad(`entry '${e.name}': no local header at offset ${e.local}`);
  const localName = view.getUint16(e.local + 26, true);
  const localExtra = view.getUint16(e.local + 28, true);
  const offset = e.local + 30 + localName + localExtra;
  if (localName !== e.nameLen || utf8.decode(bytes.subarray(e.local + 30, e.local + 30 + localName)) !== e.name)
    throw bad(`entry '${e.name}': local header names a different file`);
  if (offset + e.usize > cdOffset)
    throw bad(
      `entry '${e.name}' (${e.usize} bytes at offset ${offset}) runs into the central directory at ${cdOffset} (the file may be truncated or corrupt)`,
    );
  return offset;
}

/**
 * Reads an archive's central directory. Every entry must be STORED and lie inside the file;
 * compressed, encrypted or multi-disk archives are refused with a message naming the entry.
 */
export function readZipDirectory(bytes: Uint8Array, source: string): Map<string, ZipEntry> {
  const zip = zipBytes(bytes, source);
  const cd = readCentralDirectoryLocation(zip);
  const entries = new Map<string, ZipEntry>();
  let p = cd.offset;
  const cdEnd = cd.offset + cd.size;
  for (let n = 0; n < cd.count; n++) {
    const e = readCentralEntry(zip, n, p, cdEnd);
    checkStored(zip, e);
    const offset = localDataOffset(zip, e, cd.offset);
    if (entries.has(e.name)) throw zip.bad(`entry '${e.name}' appears twice`);
    entries.set(e.name, { name: e.name, offset, size: e.usize, crc32: e.crc32 });
    p = e.next;
  }
  return entries;
}

/** CRC-32 (ZIP's polynomial), zlib's native one (Node >= 20.15, the engines floor in package.json). */
function crc32(data: Uint8Array): number {
  return zlib.crc32(data) >>> 0;
}

/** An entry's data as a view into `bytes`, after checking its CRC-32 (detects corrupt downloads). */
export function zipEntryData(bytes: Uint8Array, entry: ZipEntry, source: string): Uint8Array {
  const data = bytes.subarray(entry.offset, entry.offset + entry.size);
  const crc = crc32(data);
  if (crc !== entry.crc32) {
    throw invalidWeights(
      `${source}: entry '${entry.name}' is corrupt (CRC-32 ${crc.toString(16).padStart(8, '0')}, expected ${entry.crc32.toString(16).padStart(8, '0')})`,
    );
  }
  return data;
}
