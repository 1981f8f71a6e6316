/**
 * SHA-256 checks of cached model files. Each verified file gets a marker `<file>.verified`
 * recording its hash with the size, mtime and inode it had when it was hashed.
 *
 * Why a marker: hashing a 1 GB weights file takes seconds, and `serve` checks the cache at
 * every start. A file whose size, mtime (ns) and inode still match its marker is trusted
 * without rehashing; any write to it (an append, a truncation, a copy over it) changes at
 * least one of those, and it is hashed again and compared. What the marker cannot see is a
 * change that keeps all three (bit rot, or a deliberate `touch -d`); the `download` command
 * never trusts the marker and always rehashes, so running it re-checks a cache in full.
 */
import { createHash, type Hash } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { BigGanError } from '../errors.js';

/** Suffix of the marker recording a file's verified SHA-256. */
export const VERIFIED_SUFFIX = '.verified';
/** Suffix a file is renamed to when it fails its checksum (kept for inspection, never loaded). */
export const CORRUPT_SUFFIX = '.corrupt';

const READ_CHUNK = 4 * 1024 * 1024;

/** What a marker records. */
interface Marker {
  readonly sha256: string;
  readonly size: number;
  /** mtime in ns, as a decimal string (a JS number loses the ns). */
  readonly mtimeNs: string;
  readonly ino: string;
  /** Whether the hash was compared with a pinned one (false: recorded on first download, trust on first use). */
  readonly pinned: boolean;
}

/** Result of checking a cached file. */
export type CachedCheck =
  | {
      readonly ok: true;
      readonly sha256: string;
      /** False when the marker vouched for it without hashing. */ readonly hashed: boolean;
      /** False when there was nothing to compare with. */ readonly compared: boolean;
    }
  | { readonly ok: false; readonly expected: string; readonly actual: string };

/** Feeds the first `bytes` bytes of `file` (all of it when undefined) into `hash`. */
export async function hashFileInto(file: string, hash: Hash, bytes?: number): Promise<void> {
  if (bytes === 0) return; // `end` is inclusive: there is no range for zero bytes
  const stream = fs.createReadStream(file, {
    highWaterMark: READ_CHUNK,
    ...(bytes !== undefined ? { end: bytes - 1 } : {}),
  });
  for await (const chunk of stream as AsyncIterable<Buffer>) hash.update(chunk);
}

/** SHA-256 of a file, hex. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await hashFileInto(file, hash);
  return hash.digest('hex');
}

/** SHA-256 of a file, hex, without yielding (for the synchronous cache check at start-up). */
export function sha256FileSync(file: string): string {
  const hash = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(READ_CHUNK);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

/**
 * Records that `file` (as it is on disk now) has `sha256`, in the marker of `markerOf` (default
 * `file`; a download records its final name before renaming onto it). Atomic (temp + rename).
 */
export async function writeMarker(file: string, sha256: string, pinned: boolean, markerOf = file): Promise<void> {
  const st = await fsp.stat(file, { bigint: true });
  const marker: Marker = {
    sha256,
    size: Number(st.size),
    mtimeNs: st.mtimeNs.toString(),
    ino: st.ino.toString(),
    pinned,
  };
  const tmp = `${markerOf}${VERIFIED_SUFFIX}.${process.pid}.tmp`;
  await fsp.writeFile(tmp, JSON.stringify(marker) + '\n');
  await fsp.rename(tmp, markerOf + VERIFIED_SUFFIX);
}

function writeMarkerSync(file: string, sha256: string, pinned: boolean): void {
  const st = fs.statSync(file, { bigint: true });
  const marker: Marker = {
    sha256,
    size: Number(st.size),
    mtimeNs: st.mtimeNs.toString(),
    ino: st.ino.toString(),
    pinned,
  };
  const tmp = `${file}${VERIFIED_SUFFIX}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(marker) + '\n');
  fs.renameSync(tmp, file + VERIFIED_SUFFIX);
}

function readMarker(file: string): Marker | undefined {
  try {
    const v: unknown = JSON.parse(fs.readFileSync(file + VERIFIED_SUFFIX, 'utf8'));
    if (typeof v !== 'object' || v === null) return undefined;
    const m = v as Partial<Record<keyof Marker, unknown>>;
    if (
      typeof m.sha256 === 'string' &&
      /^[0-9a-f]{64}$/.test(m.sha256) &&
      typeof m.size === 'number' &&
      typeof m.mtimeNs === 'string' &&
      typeof m.ino === 'string' &&
      typeof m.pinned === 'boolean'
    ) {
      return { sha256: m.sha256, size: m.size, mtimeNs: m.mtimeNs, ino: m.ino, pinned: m.pinned };
    }
  } catch {
    // missing or unreadable: no marker
  }
  return undefined;
}

/** Whether the marker still describes the file as it is (same size, mtime and inode). */
function markerFits(m: Marker, st: fs.BigIntStats): boolean {
  return m.size === Number(st.size) && m.mtimeNs === st.mtimeNs.toString() && m.ino === st.ino.toString();
}

/** The hash a cached file must have: the pinned one, else the one recorded when it was downloaded. */
function expectedHash(pin: string | undefined, marker: Marker | undefined): string | undefined {
  return pin ?? marker?.sha256;
}

/**
 * Checks a cached file against `pin` (else the hash its marker recorded at download time).
 * `trustMarker`: skip hashing when the marker still fits the file (the start-up path).
 * Records a fresh marker after a successful hash; a cache that cannot be written (a read-only
 * volume) is only hashed again at the next check.
 */
export async function checkCachedFile(
  file: string,
  pin: string | undefined,
  opts: { trustMarker: boolean },
): Promise<CachedCheck> {
  const marker = readMarker(file);
  const st = await fsp.stat(file, { bigint: true });
  if (opts.trustMarker && marker && markerFits(marker, st) && (pin === undefined || marker.sha256 === pin)) {
    return { ok: true, sha256: marker.sha256, hashed: false, compared: marker.pinned || pin !== undefined };
  }
  const actual = await sha256File(file);
  const result = settle(actual, pin, marker);
  if (result.ok) await writeMarker(file, actual, pin !== undefined).catch(() => undefined); // read-only cache: hashed again next time
  return result;
}

/** `checkCachedFile` for synchronous callers (the cache check `serve` runs before anything else). */
export function checkCachedFileSync(file: string, pin: string | undefined): CachedCheck {
  const marker = readMarker(file);
  const st = fs.statSync(file, { bigint: true });
  if (marker && markerFits(marker, st) && (pin === undefined || marker.sha256 === pin)) {
    return { ok: true, sha256: marker.sha256, hashed: false, compared: marker.pinned || pin !== undefined };
  }
  const actual = sha256FileSync(file);
  const result = settle(actual, pin, marker);
  if (result.ok) {
    try {
      writeMarkerSync(file, actual, pin !== undefined);
    } catch {
      // read-only cache: hashed again next time
    }
  }
  return result;
}

/** Compares `actual` with the pinned hash, else the one recorded at download time. */
function settle(actual: string, pin: string | undefined, marker: Marker | undefined): CachedCheck {
  const expected = expectedHash(pin, marker);
  if (expected !== undefined && expected !== actual) return { ok: false, expected, actual };
  return { ok: true, sha256: actual, hashed: true, compared: expected !== undefined };
}

/**
 * Moves a file that failed its checksum to `<file>.corrupt` (replacing an older one) and drops
 * its marker, so nothing loads it; returns where it went.
 */
export async function quarantine(file: string): Promise<string> {
  const aside = file + CORRUPT_SUFFIX;
  await fsp.rename(file, aside);
  await fsp.rm(file + VERIFIED_SUFFIX, { force: true });
  return aside;
}

/** `quarantine` for synchronous callers. */
export function quarantineSync(file: string): string {
  const aside = file + CORRUPT_SUFFIX;
  fs.renameSync(file, aside);
  fs.rmSync(file + VERIFIED_SUFFIX, { force: true });
  return aside;
}

/** The error for a file whose SHA-256 is not the expected one: names the file and both hashes. */
export function checksumError(file: string, expected: string, actual: string, what: string): BigGanError {
  const code = path.basename(file).startsWith('config') ? 'INVALID_CONFIG' : 'INVALID_WEIGHTS';
  return new BigGanError(code, `${file}: SHA-256 mismatch, expected ${expected}, got ${actual}; ${what}`);
}
