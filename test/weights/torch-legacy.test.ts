import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { BigGanError } from '../../src/errors.js';
import { readSafetensors } from '../../src/weights/safetensors.js';
import { readTorchLegacy } from '../../src/weights/torch-legacy.js';
import {
  FIXTURE_DIR,
  PickleBuilder,
  bytesOf,
  f32Bytes,
  legacyPreamble,
  stateDictPickle,
  torchLegacyFile,
  rejects,
} from './helpers.js';

const fixture = readFileSync(`${FIXTURE_DIR}/pytorch_model.bin`);
const reference = readSafetensors(readFileSync(`${FIXTURE_DIR}/model.safetensors`), 'model.safetensors');

test('the fixture legacy file matches the safetensors fixture bit for bit, with and without realigning', () => {
  const plain = readTorchLegacy(fixture, 'pytorch_model.bin');
  // A private copy with 4 spare bytes, as readStateDict hands over.
  const owned = new Uint8Array(new ArrayBuffer(fixture.length + 4), 0, fixture.length);
  owned.set(fixture);
  const realigned = readTorchLegacy(owned, 'pytorch_model.bin', { realign: true });
  assert.equal(plain.size, 506);
  assert.deepEqual([...plain.keys()].sort(), [...reference.keys()].sort());
  let views = 0;
  for (const [key, t] of reference) {
    for (const sd of [plain, realigned]) {
      const got = sd.get(key);
      assert.ok(got, key);
      assert.deepEqual(got.shape, t.shape, key);
      assert.ok(bytesOf(got.data).equals(bytesOf(t.data)), key);
    }
    if ((realigned.get(key) as { data: Float32Array }).data.buffer === owned.buffer) views++;
  }
  // After the in-place shift every float32 tensor is a view into the file's buffer: no copies.
  assert.equal(views, 506);
});

test('a legacy file whose main pickle calls posix.system is refused and runs nothing', () => {
  const marker = `/tmp/biggan-serve-pwned-${process.pid}`;
  rmSync(marker, { force: true });
  const evil = new PickleBuilder()
    .proto(2)
    .global('posix', 'system')
    .str(`touch ${marker}`)
    .tuple1()
    .reduce()
    .stop()
    .bytes();
  const file = Buffer.concat([legacyPreamble(), evil]);
  rejects(() => readTorchLegacy(file, 'evil.bin'), /evil\.bin \(main pickle\): refused global 'posix system'/);
  assert.equal(existsSync(marker), false);
  // The same call hidden inside a tensor's arguments, after valid entries.
  const nested = new PickleBuilder()
    .proto(2)
    .global('collections', 'OrderedDict')
    .emptyTuple()
    .reduce()
    .mark()
    .str('w')
    .global('builtins', 'eval')
    .str('1+1')
    .tuple1()
    .reduce()
    .setitems()
    .stop()
    .bytes();
  rejects(
    () => readTorchLegacy(Buffer.concat([legacyPreamble(), nested]), 'evil2.bin'),
    /refused global 'builtins eval'/,
  );
});

test('storage offsets, strides, shared storages and 16-bit storages are honoured', () => {
  // Storage A holds 0..11; "t" is its [3, 4] transpose view (non-contiguous), "row" a slice at offset 4.
  const a = f32Bytes(Array.from({ length: 12 }, (_, i) => i));
  const half = new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x0001, 0x7bff]).buffer); // 1, -2, 2^-24, 65504
  const bf16 = new Uint8Array(new Uint16Array([0x3f80, 0xc020, 0x4049]).buffer); // 1, -2.5, 3.140625
  const file = torchLegacyFile([
    { key: 'm', storage: 'A', storageBytes: a, size: [3, 4] },
    { key: 't', storage: 'A', storageBytes: a, size: [4, 3], stride: [1, 4] },
    { key: 'row', storage: 'A', storageBytes: a, size: [4], offset: 4 },
    { key: 'h', storage: 'H', storageType: 'HalfStorage', elementSize: 2, storageBytes: half, size: [2, 2] },
    { key: 'b', storage: 'B', storageType: 'BFloat16Storage', elementSize: 2, storageBytes: bf16, size: [3] },
    { key: 'z', storage: 'Z', storageBytes: new Uint8Array(0), size: [0, 5] },
  ]);
  const sd = readTorchLegacy(file, 'strided.bin');
  assert.deepEqual([...(sd.get('m')?.data ?? [])], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  assert.deepEqual(sd.get('t')?.shape, [4, 3]);
  assert.deepEqual([...(sd.get('t')?.data ?? [])], [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
  assert.deepEqual([...(sd.get('row')?.data ?? [])], [4, 5, 6, 7]);
  assert.deepEqual([...(sd.get('h')?.data ?? [])], [1, -2, 2 ** -24, 65504]);
  assert.deepEqual([...(sd.get('b')?.data ?? [])], [1, -2.5, 3.140625]);
  assert.deepEqual(sd.get('z')?.shape, [0, 5]);
  assert.equal(sd.get('z')?.data.length, 0);
});

test('a tensor reaching past its storage, a wrong count or a missing storage is refused', () => {
  const a = f32Bytes([1, 2, 3, 4]);
  rejects(
    () =>
      readTorchLegacy(torchLegacyFile([{ key: 'x', storage: 'A', storageBytes: a, size: [2, 2], offset: 1 }]), 'f.bin'),
    /tensor 'x'.*reaches element 4 of storage 'A', which has only 4/,
  );
  rejects(
    () =>
      readTorchLegacy(torchLegacyFile([{ key: 'x', storage: 'A', storageBytes: a, size: [3], stride: [2] }]), 'f.bin'),
    /reaches element 4/,
  );
  // The file says 4 elements but the header promises 5: patch the 8-byte count of the one record.
  const file = torchLegacyFile([{ key: 'x', storage: 'A', storageBytes: a, size: [4] }]);
  const countAt = file.length - 16 - 8;
  assert.equal(file.readBigUInt64LE(countAt), 4n);
  file.writeBigUInt64LE(5n, countAt);
  rejects(
    () => readTorchLegacy(file, 'f.bin'),
    /storage 'A' holds 5 elements in the file but the state_dict declares 4/,
  );
  // The storage key list leaves out a storage the state_dict uses.
  const main = stateDictPickle([{ key: 'x', storage: 'A', storageBytes: a, size: [4] }], (p) => {
    p.mark().str('storage').global('torch', 'FloatStorage').str('A').str('cpu').int(4).none().tuple();
  });
  const noKeys = new PickleBuilder().proto(2).emptyList().stop().bytes();
  rejects(
    () => readTorchLegacy(Buffer.concat([legacyPreamble(), main, noKeys]), 'f.bin'),
    /storage 'A' is used by the state_dict but has no data/,
  );
  // A storage type outside the allowlist is refused at GLOBAL, naming it.
  rejects(
    () =>
      readTorchLegacy(
        torchLegacyFile([
          {
            key: 'x',
            storage: 'A',
            storageType: 'DoubleStorage',
            elementSize: 8,
            storageBytes: new Uint8Array(8),
            size: [1],
          },
        ]),
        'f.bin',
      ),
    /refused global 'torch DoubleStorage'/,
  );
  // A big-endian writer.
  const be = Buffer.from(torchLegacyFile([{ key: 'x', storage: 'A', storageBytes: a, size: [4] }]));
  const info = be.indexOf(Buffer.from('little_endian'));
  be[info + 'little_endian'.length] = 0x89; // NEWTRUE -> NEWFALSE
  rejects(() => readTorchLegacy(be, 'be.bin'), /big-endian/);
});

test('the fixture cut at any stage reports truncation quickly', () => {
  const dataStart = fixture.indexOf(Buffer.from('generator.conv_to_rgb.weight_v')) + 200; // somewhere in the storage data
  const cuts = [
    16,
    20,
    60,
    200,
    5000,
    40000,
    dataStart,
    Math.floor(fixture.length / 2),
    fixture.length - 100,
    fixture.length - 1,
  ];
  for (const cut of cuts) {
    const t0 = Date.now();
    rejects(() => readTorchLegacy(fixture.subarray(0, cut), 'cut.bin'), /cut\.bin.*truncated/);
    assert.ok(Date.now() - t0 < 2000, `cut at ${cut} took ${Date.now() - t0} ms`);
  }
});

test('random byte corruption of the pickles gives INVALID_WEIGHTS or a valid load, nothing else', () => {
  const copy = Buffer.from(fixture);
  let seed = 7;
  const rand = (n: number) => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) % n;
  for (let i = 0; i < 60; i++) {
    const at = rand(3000);
    const old = copy[at];
    copy[at] = rand(256);
    try {
      readTorchLegacy(copy, 'fuzz.bin');
    } catch (e) {
      assert.ok(e instanceof BigGanError && e.code === 'INVALID_WEIGHTS', `byte ${at}: ${String(e)}`);
    }
    copy[at] = old;
  }
});
