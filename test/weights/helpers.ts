/**
 * Test-only writers for the weight formats: a protocol-2 pickle builder, a legacy torch.save
 * writer, a ZIP writer (stored or with a fake method, optional ZIP64) and a raw safetensors
 * composer. They let tests craft valid, malicious and corrupt files byte by byte.
 */
import * as zlib from 'node:zlib';
import type { StateDict } from '../../src/weights/state-dict.js';
import assert from 'node:assert/strict';
import { BigGanError } from '../../src/errors.js';

/** Builds pickle bytes opcode by opcode. */
export class PickleBuilder {
  private readonly chunks: Buffer[] = [];

  private op(code: number, ...args: Buffer[]): this {
    this.chunks.push(Buffer.from([code]), ...args);
    return this;
  }

  proto(v = 2): this {
    return this.op(0x80, Buffer.from([v]));
  }
  stop(): this {
    return this.op(0x2e);
  }
  mark(): this {
    return this.op(0x28);
  }
  none(): this {
    return this.op(0x4e);
  }
  bool(v: boolean): this {
    return this.op(v ? 0x88 : 0x89);
  }
  emptyTuple(): this {
    return this.op(0x29);
  }
  tuple(): this {
    return this.op(0x74);
  }
  tuple1(): this {
    return this.op(0x85);
  }
  tuple2(): this {
    return this.op(0x86);
  }
  emptyDict(): this {
    return this.op(0x7d);
  }
  emptyList(): this {
    return this.op(0x5d);
  }
  appends(): this {
    return this.op(0x65);
  }
  setitem(): this {
    return this.op(0x73);
  }
  setitems(): this {
    return this.op(0x75);
  }
  reduce(): this {
    return this.op(0x52);
  }
  build(): this {
    return this.op(0x62);
  }
  binpersid(): this {
    return this.op(0x51);
  }
  dup(): this {
    return this.op(0x32);
  }
  raw(...bytes: number[]): this {
    this.chunks.push(Buffer.from(bytes));
    return this;
  }

  /** GLOBAL 'module\nname\n'. */
  global(module: string, name: string): this {
    return this.op(0x63, Buffer.from(`${module}\n${name}\n`));
  }

  /** BINUNICODE. */
  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    const n = Buffer.alloc(4);
    n.writeUInt32LE(b.length);
    return this.op(0x58, n, b);
  }

  /** The smallest integer opcode for a non-negative int32 (BININT1/BININT2/BININT) or LONG1 beyond. */
  int(v: number | bigint): this {
    if (typeof v === 'number' && v >= 0 && v < 256) return this.op(0x4b, Buffer.from([v]));
    if (typeof v === 'number' && v >= 0 && v < 65536) {
      const b = Buffer.alloc(2);
      b.writeUInt16LE(v);
      return this.op(0x4d, b);
    }
    if (typeof v === 'number' && v >= -(2 ** 31) && v < 2 ** 31) {
      const b = Buffer.alloc(4);
      b.writeInt32LE(v);
      return this.op(0x4a, b);
    }
    // LONG1: little-endian two's complement, as short as possible.
    let x = BigInt(v);
    const out: number[] = [];
    for (;;) {
      out.push(Number(x & 0xffn));
      x >>= 8n;
      if ((x === 0n && !(out[out.length - 1] & 0x80)) || (x === -1n && out[out.length - 1] & 0x80)) break;
    }
    return this.op(0x8a, Buffer.from([out.length]), Buffer.from(out));
  }

  /** A tuple of ints, e.g. a tensor's size. */
  intTuple(xs: readonly number[]): this {
    this.mark();
    for (const x of xs) this.int(x);
    return this.tuple();
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** One tensor of a hand-made torch file; tensors naming the same `storage` share it. */
export interface TorchTensorSpec {
  readonly key: string;
  readonly storage: string;
  /** torch storage class name, e.g. FloatStorage, HalfStorage, BFloat16Storage. */
  readonly storageType?: string;
  /** The storage's raw little-endian bytes (first spec of a storage wins). */
  readonly storageBytes: Uint8Array;
  readonly elementSize?: number;
  readonly size: readonly number[];
  readonly stride?: readonly number[];
  readonly offset?: number;
}

function contiguous(size: readonly number[]): number[] {
  const out: number[] = [];
  let s = 1;
  for (let i = size.length - 1; i >= 0; i--) {
    out[i] = s;
    s *= size[i];
  }
  return out;
}

/** The OrderedDict pickle torch writes for a state_dict; `pid(storageKey)` pushes each persistent id tuple. */
export function stateDictPickle(
  specs: readonly TorchTensorSpec[],
  pid: (p: PickleBuilder, s: TorchTensorSpec) => void,
): Buffer {
  const p = new PickleBuilder().proto(2).global('collections', 'OrderedDict').emptyTuple().reduce().mark();
  for (const s of specs) {
    p.str(s.key).global('torch._utils', '_rebuild_tensor_v2').mark();
    pid(p, s);
    p.binpersid()
      .int(s.offset ?? 0)
      .intTuple(s.size)
      .intTuple(s.stride ?? contiguous(s.size))
      .bool(false)
      .global('collections', 'OrderedDict')
      .emptyTuple()
      .reduce()
      .tuple()
      .reduce();
  }
  // torch's `_metadata` BUILD, which readers ignore.
  return p.setitems().emptyDict().str('_metadata').emptyDict().setitem().build().stop().bytes();
}

/** Protocol-2 pickle of torch's magic number, as a legacy file starts. */
export const LEGACY_MAGIC = new PickleBuilder().proto(2).int(0x1950a86a20f9469cfc6cn).stop().bytes();

/** The legacy file's protocol and sys-info pickles. */
export function legacyPreamble(littleEndian = true): Buffer {
  const proto = new PickleBuilder().proto(2).int(1001).stop().bytes();
  const info = new PickleBuilder()
    .proto(2)
    .emptyDict()
    .mark()
    .str('protocol_version')
    .int(1001)
    .str('little_endian')
    .bool(littleEndian)
    .str('type_sizes')
    .emptyDict()
    .mark()
    .str('short')
    .int(2)
    .str('int')
    .int(4)
    .str('long')
    .int(4)
    .setitems()
    .setitems()
    .stop()
    .bytes();
  return Buffer.concat([LEGACY_MAGIC, proto, info]);
}

/** A whole legacy-format torch.save file for `specs`. */
export function torchLegacyFile(specs: readonly TorchTensorSpec[]): Buffer {
  const storages = new Map<string, TorchTensorSpec>();
  for (const s of specs) if (!storages.has(s.storage)) storages.set(s.storage, s);
  const numel = (s: TorchTensorSpec) => s.storageBytes.length / (s.elementSize ?? 4);
  const main = stateDictPickle(specs, (p, s) => {
    const root = storages.get(s.storage) as TorchTensorSpec;
    p.mark()
      .str('storage')
      .global('torch', root.storageType ?? 'FloatStorage')
      .str(s.storage)
      .str('cpu')
      .int(numel(root))
      .none()
      .tuple();
  });
  const keys = new PickleBuilder().proto(2).emptyList().mark();
  for (const k of storages.keys()) keys.str(k);
  const parts: Uint8Array[] = [legacyPreamble(), main, keys.appends().stop().bytes()];
  for (const s of storages.values()) {
    const count = Buffer.alloc(8);
    count.writeBigUInt64LE(BigInt(numel(s)));
    parts.push(count, s.storageBytes);
  }
  return Buffer.concat(parts);
}

/** A legacy file of a float32 StateDict, one storage per tensor (what torch.save wrote for the published files). */
export function torchLegacyFromStateDict(sd: StateDict): Buffer {
  let i = 0;
  return torchLegacyFile(
    [...sd].map(([key, t]) => ({
      key,
      storage: String(1000 + i++),
      storageBytes: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
      size: t.shape,
    })),
  );
}

/** One entry of a hand-made ZIP. */
export interface ZipSpec {
  readonly name: string;
  readonly data: Uint8Array;
  /** Compression method written in the headers (the data are stored as given). */
  readonly method?: number;
  readonly flags?: number;
}

/** A ZIP archive; `zip64` writes saturated fields with ZIP64 extras and records; data 64-byte aligned like torch. */
export function zipFile(entries: readonly ZipSpec[], opts: { zip64?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let pos = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const headerLen = 30 + name.length;
    const pad = (64 - ((pos + headerLen + 4) % 64)) % 64;
    const extra = Buffer.alloc(4 + pad);
    extra.writeUInt16LE(0x4246, 0); // torch's padding extra field id ("FB")
    extra.writeUInt16LE(pad, 2);
    const crc = zlib.crc32(e.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(e.flags ?? 0, 6);
    local.writeUInt16LE(e.method ?? 0, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(e.data.length, 18);
    local.writeUInt32LE(e.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(extra.length, 28);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(45, 4);
    c.writeUInt16LE(45, 6);
    c.writeUInt16LE(e.flags ?? 0, 8);
    c.writeUInt16LE(e.method ?? 0, 10);
    c.writeUInt32LE(crc, 16);
    let cextra = Buffer.alloc(0);
    if (opts.zip64) {
      c.writeUInt32LE(0xffffffff, 20);
      c.writeUInt32LE(0xffffffff, 24);
      c.writeUInt32LE(0xffffffff, 42);
      cextra = Buffer.alloc(28);
      cextra.writeUInt16LE(1, 0);
      cextra.writeUInt16LE(24, 2);
      cextra.writeBigUInt64LE(BigInt(e.data.length), 4);
      cextra.writeBigUInt64LE(BigInt(e.data.length), 12);
      cextra.writeBigUInt64LE(BigInt(pos), 20);
    } else {
      c.writeUInt32LE(e.data.length, 20);
      c.writeUInt32LE(e.data.length, 24);
      c.writeUInt32LE(pos, 42);
    }
    c.writeUInt16LE(name.length, 28);
    c.writeUInt16LE(cextra.length, 30);
    central.push(c, name, cextra);
    parts.push(local, name, extra, Buffer.from(e.data));
    pos += headerLen + extra.length + e.data.length;
  }
  const cd = Buffer.concat(central);
  const cdOffset = pos;
  const tail: Buffer[] = [cd];
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  if (opts.zip64) {
    const rec = Buffer.alloc(56);
    rec.writeUInt32LE(0x06064b50, 0);
    rec.writeBigUInt64LE(44n, 4);
    rec.writeUInt16LE(45, 12);
    rec.writeUInt16LE(45, 14);
    rec.writeBigUInt64LE(BigInt(entries.length), 24);
    rec.writeBigUInt64LE(BigInt(entries.length), 32);
    rec.writeBigUInt64LE(BigInt(cd.length), 40);
    rec.writeBigUInt64LE(BigInt(cdOffset), 48);
    const loc = Buffer.alloc(20);
    loc.writeUInt32LE(0x07064b50, 0);
    loc.writeBigUInt64LE(BigInt(cdOffset + cd.length), 8);
    loc.writeUInt32LE(1, 16);
    tail.push(rec, loc);
    eocd.writeUInt16LE(0xffff, 8);
    eocd.writeUInt16LE(0xffff, 10);
    eocd.writeUInt32LE(0xffffffff, 12);
    eocd.writeUInt32LE(0xffffffff, 16);
  } else {
    eocd.writeUInt16LE(entries.length, 8);
    eocd.writeUInt16LE(entries.length, 10);
    eocd.writeUInt32LE(cd.length, 12);
    eocd.writeUInt32LE(cdOffset, 16);
  }
  tail.push(eocd);
  return Buffer.concat([...parts, ...tail]);
}

/** A zip-format torch.save file for `specs` under `<prefix>/`. */
export function torchZipFile(
  specs: readonly TorchTensorSpec[],
  prefix = 'archive',
  opts: { zip64?: boolean } = {},
): Buffer {
  const storages = new Map<string, TorchTensorSpec>();
  for (const s of specs) if (!storages.has(s.storage)) storages.set(s.storage, s);
  const pkl = stateDictPickle(specs, (p, s) => {
    const root = storages.get(s.storage) as TorchTensorSpec;
    p.mark()
      .str('storage')
      .global('torch', root.storageType ?? 'FloatStorage')
      .str(s.storage)
      .str('cpu')
      .int(root.storageBytes.length / (root.elementSize ?? 4))
      .tuple();
  });
  return zipFile(
    [
      { name: `${prefix}/data.pkl`, data: pkl },
      ...[...storages.values()].map((s) => ({ name: `${prefix}/data/${s.storage}`, data: s.storageBytes })),
      { name: `${prefix}/version`, data: Buffer.from('3\n') },
    ],
    opts,
  );
}

/** A safetensors file from a header given as text (not validated) and a data section. */
export function rawSafetensors(header: string, data: Uint8Array = new Uint8Array(0), declaredLength?: number): Buffer {
  const h = Buffer.from(header);
  const n = Buffer.alloc(8);
  n.writeBigUInt64LE(BigInt(declaredLength ?? h.length));
  return Buffer.concat([n, h, data]);
}

/** Float32 values as little-endian bytes. */
export function f32Bytes(values: readonly number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

/** Bytes of a Float32Array view (no copy). */
export function bytesOf(a: Float32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** The fixture folder, from the repository root (tests run with cwd = repo root). */
export const FIXTURE_DIR = `${process.cwd()}/test/fixtures/tiny-128`;

/** Asserts that `fn` throws BigGanError INVALID_WEIGHTS with a message matching `re`. */
export function rejects(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof BigGanError, `expected BigGanError, got ${String(e)}`);
    assert.equal(e.code, 'INVALID_WEIGHTS');
    assert.match(e.message, re);
    return true;
  });
}
