/**
 * Writes a StateDict as F32 safetensors in the fixture's layout: `__metadata__` first, tensors
 * sorted by key, header padded with spaces to a multiple of 8 bytes (so every tensor is 8-byte
 * aligned and loads as a view). Streams tensor by tensor into `<path>.tmp`, then renames, so a
 * reader never sees a half-written file.
 */
import { open, rename, rm } from 'node:fs/promises';
import { BigGanError, invalidWeights } from '../errors.js';
import { assertLittleEndianHost } from './dtype.js';
import type { StateDict } from './state-dict.js';

/** The safetensors header text for `tensors` (F32, sorted keys), padded to a multiple of 8 bytes. */
export function safetensorsHeader(
  tensors: StateDict,
  metadata: Readonly<Record<string, string>> = { format: 'pt' },
): Buffer {
  const parts = [`"__metadata__":${JSON.stringify(metadata)}`];
  let offset = 0;
  for (const key of [...tensors.keys()].sort()) {
    const { shape, data } = tensors.get(key) as { shape: readonly number[]; data: Float32Array };
    const numel = shape.reduce((a, b) => a * b, 1);
    if (data.length !== numel)
      throw invalidWeights(
        `cannot write tensor '${key}': shape [${shape.join(', ')}] needs ${numel} values but it has ${data.length}`,
      );
    parts.push(
      `${JSON.stringify(key)}:{"dtype":"F32","shape":${JSON.stringify(shape)},"data_offsets":[${offset},${offset + 4 * numel}]}`,
    );
    offset += 4 * numel;
  }
  const text = `{${parts.join(',')}}`;
  const len = Buffer.byteLength(text);
  return Buffer.from(text + ' '.repeat((8 - (len % 8)) % 8));
}

/** Writes `tensors` to `path` as F32 safetensors (atomically: `<path>.tmp`, fsync, rename). */
export async function writeSafetensors(
  path: string,
  tensors: StateDict,
  metadata: Readonly<Record<string, string>> = { format: 'pt' },
): Promise<void> {
  assertLittleEndianHost(); // the tensors' in-memory bytes are written as they are
  const header = safetensorsHeader(tensors, metadata);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(header.length));
  const tmp = `${path}.tmp`;
  try {
    const fh = await open(tmp, 'w');
    try {
      const writeAll = async (buf: Uint8Array) => {
        for (let done = 0; done < buf.length;) {
          const { bytesWritten } = await fh.write(buf, done, buf.length - done);
          done += bytesWritten;
        }
      };
      await writeAll(length);
      await writeAll(header);
      for (const key of [...tensors.keys()].sort()) {
        const { data } = tensors.get(key) as { data: Float32Array };
        await writeAll(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)); // no copy
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new BigGanError('IO_ERROR', `cannot write ${path}: ${(e as Error).message}`, { cause: e });
  }
}
