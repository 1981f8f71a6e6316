/**
 * The one entry point for weights: detect a file's format by its first bytes (never its name),
 * read it with the matching reader, and find the weight file of a model folder.
 */
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BigGanError, invalidWeights } from '../errors.js';
import { assertLittleEndianHost } from './dtype.js';
import { readSafetensors } from './safetensors.js';
import type { StateDict, WeightFormat } from './state-dict.js';
import { readTorchLegacy } from './torch-legacy.js';
import { readTorchZip } from './torch-zip.js';

/** What a weight file may be, for messages. */
export const ACCEPTED_FORMATS =
  'safetensors, PyTorch zip (torch.save since 1.6) or PyTorch legacy (torch.save before 1.6)';

// Protocol-2 pickle of torch's magic number 0x1950a86a20f9469cfc6c, then STOP.
const TORCH_LEGACY_MAGIC = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e];
const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
/** Spare bytes allocated past a file's end so the legacy reader can align its data in place. */
const REALIGN_SLACK = 4;

const startsWith = (b: Uint8Array, magic: number[]) => b.length >= magic.length && magic.every((x, i) => b[i] === x);

/** The format of a weight file from its first bytes, or undefined if it is none of the accepted ones. */
export function detectWeightFormat(head: Uint8Array): WeightFormat | undefined {
  if (startsWith(head, TORCH_LEGACY_MAGIC)) return 'torch-legacy';
  if (startsWith(head, ZIP_MAGIC)) return 'torch-zip';
  if (head.length >= 9 && head[8] === 0x7b) return 'safetensors'; // 8-byte header length, then '{'
  return undefined;
}

/** Names the two usual non-weight files that end up under a weight file's name. */
function misdownloadHint(bytes: Uint8Array): string {
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 64)).trimStart();
  if (head.startsWith('version https://git-lfs'))
    return ': this is a Git LFS pointer, not the weights (fetch the LFS object)';
  if (head.startsWith('<')) return ': this looks like an HTML or XML page (a failed download?)';
  return '';
}

/** A loaded weight file. */
export interface LoadedWeights {
  readonly format: WeightFormat;
  readonly tensors: StateDict;
}

/**
 * Parses a whole weight file held in memory. `source` names it in messages. With `owned`, the
 * caller hands `bytes` over (its ArrayBuffer may be modified; see `TorchLegacyOptions.realign`).
 */
export function parseStateDict(bytes: Uint8Array, source: string, owned = false): LoadedWeights {
  assertLittleEndianHost();
  const format = detectWeightFormat(bytes);
  if (!format) {
    throw invalidWeights(
      `${source}: not a recognised weight file (${bytes.length} bytes; expected ${ACCEPTED_FORMATS})${misdownloadHint(bytes)}`,
    );
  }
  try {
    const tensors =
      format === 'safetensors'
        ? readSafetensors(bytes, source)
        : format === 'torch-zip'
          ? readTorchZip(bytes, source)
          : readTorchLegacy(bytes, source, { realign: owned });
    return { format, tensors };
  } catch (e) {
    if (e instanceof BigGanError) throw e;
    // Readers check bounds themselves; this only keeps a missed case from escaping as a RangeError.
    throw invalidWeights(`${source}: malformed ${format} file (${(e as Error).message})`, e);
  }
}

/** Reads a whole file into one buffer with `slack` spare bytes of capacity past its end. */
async function readWholeFile(path: string, slack: number): Promise<Uint8Array> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw new BigGanError('IO_ERROR', `cannot open weight file ${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const info = await fh.stat();
    if (!info.isFile()) throw new BigGanError('IO_ERROR', `weight file ${path} is not a regular file`);
    if (info.size + slack > 2 ** 32)
      throw invalidWeights(`${path}: ${info.size} bytes is more than the 4 GiB a weight file may have`);
    // allocUnsafeSlow: a buffer of its own (never the shared pool), so byteOffset is 0 and views align.
    const buf = Buffer.allocUnsafeSlow(info.size + slack);
    let done = 0;
    while (done < info.size) {
      const { bytesRead } = await fh.read(buf, done, Math.min(info.size - done, 1 << 30), done);
      if (bytesRead === 0)
        throw new BigGanError(
          'IO_ERROR',
          `weight file ${path} shrank while being read (${done} of ${info.size} bytes)`,
        );
      done += bytesRead;
    }
    return new Uint8Array(buf.buffer, buf.byteOffset, info.size);
  } catch (e) {
    if (e instanceof BigGanError) throw e;
    throw new BigGanError('IO_ERROR', `cannot read weight file ${path}: ${(e as Error).message}`, { cause: e });
  } finally {
    await fh.close();
  }
}

/** Reads a weight file of any accepted format (detected by content) into one buffer and a StateDict. */
export async function readStateDict(path: string): Promise<LoadedWeights> {
  const bytes = await readWholeFile(path, REALIGN_SLACK);
  return parseStateDict(bytes, path, true);
}

const PREFERRED_FILES = ['model.safetensors', 'pytorch_model.bin'];

/**
 * The weight file of a model folder: `model.safetensors`, else `pytorch_model.bin`, else the one
 * `*.safetensors` or `*.bin` file there. Errors if there is none or several candidates.
 */
export async function findWeightFile(dir: string): Promise<string> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    throw new BigGanError('IO_ERROR', `cannot read model folder ${dir}: ${(e as Error).message}`, { cause: e });
  }
  const candidates: string[] = [];
  for (const name of names.sort()) {
    if (!name.endsWith('.safetensors') && !name.endsWith('.bin')) continue;
    // stat follows symlinks (Hugging Face caches link to blobs).
    const isFile = await stat(join(dir, name)).then(
      (s) => s.isFile(),
      () => false,
    );
    if (isFile) candidates.push(name);
  }
  const preferred = PREFERRED_FILES.find((n) => candidates.includes(n));
  if (preferred) return join(dir, preferred);
  if (candidates.length === 1) return join(dir, candidates[0]);
  if (candidates.length === 0) {
    throw invalidWeights(
      `no weight file in ${dir}: expected model.safetensors or pytorch_model.bin (or a single *.safetensors / *.bin file)`,
    );
  }
  throw invalidWeights(
    `several weight files in ${dir} (${candidates.join(', ')}): rename the one to use to model.safetensors or pytorch_model.bin, or move the others away`,
  );
}
