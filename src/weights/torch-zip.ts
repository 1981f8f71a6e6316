/**
 * PyTorch's zip `torch.save` format (the default since torch 1.6): an uncompressed ZIP holding
 * `<prefix>/data.pkl` (the state_dict pickle, storages as 5-tuple persistent ids),
 * `<prefix>/data/<key>` (each storage's raw little-endian bytes, 64-byte aligned by torch) and
 * `<prefix>/version`.
 */
import { invalidWeights } from '../errors.js';
import { DTYPE_SIZE, decodeFloats } from './dtype.js';
import { unpickle } from './pickle.js';
import type { StateDict } from './state-dict.js';
import { type TorchStorage, stateDictFromTorchPickle, storageFromPid } from './torch-legacy.js';
import { type ZipEntry, readZipDirectory, zipEntryData } from './zip.js';

/** Reads a zip-format `torch.save` state_dict held in `bytes`; `source` names the file in messages. */
export function readTorchZip(bytes: Uint8Array, source: string): StateDict {
  const entries = readZipDirectory(bytes, source);
  const pickles = [...entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pickles.length !== 1) {
    throw invalidWeights(
      `${source}: not a PyTorch checkpoint: expected exactly one '<folder>/data.pkl' entry, found ${pickles.length === 0 ? 'none' : pickles.join(', ')}`,
    );
  }
  const prefix = pickles[0].slice(0, -'data.pkl'.length);
  const byteorder = entries.get(`${prefix}byteorder`);
  if (byteorder) {
    const order = new TextDecoder().decode(zipEntryData(bytes, byteorder, source)).trim();
    if (order !== 'little')
      throw invalidWeights(`${source}: byte order '${order}' is not supported (only little-endian files)`);
  }

  const storages = new Map<string, TorchStorage>();
  const pkl = zipEntryData(bytes, entries.get(pickles[0]) as ZipEntry, source);
  const { value } = unpickle(pkl, 0, {
    source: `${source} (${pickles[0]})`,
    persistentLoad: (pid) => storageFromPid(pid, 5, storages, source),
  });

  const decoded = new Map<string, Float32Array>();
  return stateDictFromTorchPickle(
    value,
    (s) => {
      let d = decoded.get(s.key);
      if (d) return d;
      const name = `${prefix}data/${s.key}`;
      const entry = entries.get(name);
      if (!entry) throw invalidWeights(`${source}: storage '${s.key}' has no entry '${name}' in the archive`);
      const nbytes = s.numel * DTYPE_SIZE[s.dtype];
      if (entry.size !== nbytes)
        throw invalidWeights(
          `${source}: entry '${name}' has ${entry.size} bytes but storage '${s.key}' needs ${nbytes} (${s.numel} x ${s.dtype})`,
        );
      // Views into the archive: torch aligns each record's data to 64 bytes.
      zipEntryData(bytes, entry, source); // CRC check
      d = decodeFloats(bytes, entry.offset, s.numel, s.dtype);
      decoded.set(s.key, d);
      return d;
    },
    source,
  );
}
