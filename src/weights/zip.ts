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

/**
 * Reads an archive's central directory. Every entry must be STORED and lie inside the file;
 * compressed, encrypted or multi-disk archives are refused with a message naming the entry.
 */
export function readZipDirectory(bytes: Uint8Array, source: string): Map<string, ZipEntry> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = bytes.length;
  const bad = (msg: string) => invalidWeights(`${source}: ${msg}`);
  const u64At = (at: number) => {
    const hi = view.getUint32(at + 4, true);
    if (hi >= 2 ** 21) throw bad(`ZIP64 value at offset ${at} is too large`);
    return hi * 2 ** 32 + view.getUint32(at, true);
  };

  // The end-of-central-directory record sits at the end, before a comment of up to 64 KiB.
  let eocd = -1;
  for (let i = len - EOCD_SIZE; i >= Math.max(0, len - EOCD_SIZE - MAX_COMMENT); i--) {
    if (view.getUint32(i, true) === SIG_EOCD && i + EOCD_SIZE + view.getUint16(i + 20, true) === len) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw bad('not a complete ZIP file: no end-of-central-directory record (the file may be truncated)');
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

  const entries = new Map<string, ZipEntry>();
  let p = cdOffset;
  const cdEnd = cdOffset + cdSize;
  for (let n = 0; n < count; n++) {
    if (p + 46 > cdEnd || view.getUint32(p, true) !== SIG_CENTRAL)
      throw bad(`corrupt central directory entry ${n} at offset ${p}`);
    const flags = view.getUint16(p + 8, true);
    const method = view.getUint16(p + 10, true);
    const crc32 = view.getUint32(p + 16, true);
    let csize = view.getUint32(p + 20, true);
    let usize = view.getUint32(p + 24, true);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    let local = view.getUint32(p + 42, true);
    const next = p + 46 + nameLen + extraLen + commentLen;
    if (next > cdEnd) throw bad(`central directory entry ${n} at offset ${p} runs past the directory`);
    const name = utf8.decode(bytes.subarray(p + 46, p + 46 + nameLen));
    // ZIP64 extended information: 8-byte values, present only for the saturated fields, in this order.
    let q = p + 46 + nameLen;
    const extraEnd = q + extraLen;
    while (q + 4 <= extraEnd) {
      const id = view.getUint16(q, true);
      const size = view.getUint16(q + 2, true);
      if (q + 4 + size > extraEnd) throw bad(`entry '${name}': corrupt extra field`);
      if (id === 0x0001) {
        let r = q + 4;
        const take = () => {
          if (r + 8 > q + 4 + size) throw bad(`entry '${name}': ZIP64 extra field too short`);
          r += 8;
          return u64At(r - 8);
        };
        if (usize === 0xffffffff) usize = take();
        if (csize === 0xffffffff) csize = take();
        if (local === 0xffffffff) local = take();
      }
      q += 4 + size;
    }
    if (flags & 0x1) throw bad(`entry '${name}' is encrypted`);
    if (method !== 0)
      throw bad(
        `entry '${name}' is compressed (method ${method}${METHOD_NAMES[method] ? `, ${METHOD_NAMES[method]}` : ''}); only stored (uncompressed) entries are supported, as torch.save writes them`,
      );
    if (csize !== usize)
      throw bad(`stored entry '${name}' has compressed size ${csize} but uncompressed size ${usize}`);
    // The local header repeats the name; its extra field (torch pads data to 64 bytes there) may differ.
    if (local + 30 > cdOffset || view.getUint32(local, true) !== SIG_LOCAL)
      throw bad(`entry '${name}': no local header at offset ${local}`);
    const localName = view.getUint16(local + 26, true);
    const localExtra = view.getUint16(local + 28, true);
    const offset = local + 30 + localName + localExtra;
    if (localName !== nameLen || utf8.decode(bytes.subarray(local + 30, local + 30 + localName)) !== name)
      throw bad(`entry '${name}': local header names a different file`);
    if (offset + usize > cdOffset)
      throw bad(
        `entry '${name}' (${usize} bytes at offset ${offset}) runs into the central directory at ${cdOffset} (the file may be truncated or corrupt)`,
      );
    if (entries.has(name)) throw bad(`entry '${name}' appears twice`);
    entries.set(name, { name, offset, size: usize, crc32 });
    p = next;
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
