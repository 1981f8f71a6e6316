/**
 * Safe files in the output folder: every file is written under a temporary name (a dot file ending
 * in `.tmp`, never `.tar`), fsynced, renamed over its final name and the folder fsynced, so a
 * SIGKILL or power cut at any moment leaves either the old file, the new one or nothing, never a
 * part. Write errors (disk full, read-only folder) become one clear IO_ERROR and the temporary file
 * is removed.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BigGanError } from '../errors.js';

/** Suffix of every temporary file (a killed run's leftovers are found by it). */
export const TEMP_SUFFIX = '.tmp';

/** A temporary name for `name`, unique per host and process (parts may share a network folder). */
export function tempName(name: string): string {
  return `.${name}.${os.hostname()}-${process.pid}${TEMP_SUFFIX}`;
}

/** True for a temporary file made by `tempName` for `name` (any host, any process). */
export function isTempOf(file: string, name: string): boolean {
  return file.startsWith(`.${name}.`) && file.endsWith(TEMP_SUFFIX);
}

/** Turns a file-system error into one clear message naming the path and what to do. */
export function ioError(what: string, file: string, err: unknown): BigGanError {
  const e = err as NodeJS.ErrnoException;
  const hints: Record<string, string> = {
    ENOSPC: 'no space left on the device; free space or choose another --out',
    EDQUOT: 'disk quota exceeded; free space or choose another --out',
    EFBIG: 'file too large for this file system or the process file-size limit',
    EACCES: 'permission denied; choose a folder you may write to',
    EPERM: 'operation not permitted; choose a folder you may write to',
    EROFS: 'read-only file system; choose a writable --out',
    ENOTDIR: 'a part of the path is a file, not a folder',
    EEXIST: 'already exists and is not a folder',
  };
  const why = (e && e.code && hints[e.code]) ?? e?.message ?? String(err);
  return new BigGanError('IO_ERROR', `cannot ${what} ${file}: ${why}${e?.code ? ` (${e.code})` : ''}`, { cause: err });
}

/** Fsyncs a folder so a rename inside it survives a crash (not supported everywhere: ignored then). */
export async function syncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'ENOTSUP' && code !== 'EBADF')
      throw ioError('sync folder', dir, err);
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/** Creates the output folder and proves it writable with a small fsynced probe file. */
export async function prepareFolder(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw ioError('create folder', dir, err);
  }
  // Written in place (not renamed), so a merge sweeping leftovers can remove it at any moment.
  const probe = path.join(dir, tempName('write-probe'));
  try {
    const fh = await open(probe, 'w', 0o644);
    try {
      await fh.writeFile('probe\n');
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw ioError('write into folder', dir, err);
  } finally {
    await rm(probe, { force: true }).catch(() => undefined);
  }
}

/** Writes `data` to `dir/name` through a temporary file, fsync and rename. */
export async function writeFileAtomic(dir: string, name: string, data: Buffer | string): Promise<void> {
  const tmp = path.join(dir, tempName(name));
  try {
    const fh = await open(tmp, 'w', 0o644);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path.join(dir, name));
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw ioError('write', path.join(dir, name), err);
  }
  await syncDir(dir);
}

/** Size and SHA-256 (lowercase hex) of a file, streamed; undefined when it does not exist. */
export async function fileDigest(file: string): Promise<{ bytes: number; sha256: string } | undefined> {
  try {
    const { size } = await stat(file);
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
    return { bytes: size, sha256: hash.digest('hex') };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError('read', file, err);
  }
}

/** The folder's file names (empty when the folder does not exist). */
export async function listFolder(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw ioError('list', dir, err);
  }
}
