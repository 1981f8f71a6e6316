import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { readSafetensors } from '../../src/weights/safetensors.js';
import { readTorchZip } from '../../src/weights/torch-zip.js';
import { type ZipEntry, readZipDirectory, zipEntryData } from '../../src/weights/zip.js';
import { FIXTURE_DIR, PickleBuilder, bytesOf, f32Bytes, torchZipFile, zipFile, rejects } from './helpers.js';

const fixture = readFileSync(`${FIXTURE_DIR}/pytorch_model.zip-format.bin`);

test('the fixture zip file matches the safetensors fixture bit for bit, as views', () => {
  const reference = readSafetensors(readFileSync(`${FIXTURE_DIR}/model.safetensors`), 'model.safetensors');
  const sd = readTorchZip(fixture, 'zip.bin');
  assert.equal(sd.size, 506);
  for (const [key, t] of reference) {
    const got = sd.get(key);
    assert.ok(got, key);
    assert.deepEqual(got.shape, t.shape, key);
    assert.ok(bytesOf(got.data).equals(bytesOf(t.data)), key);
    assert.equal(got.data.buffer, fixture.buffer, `${key} should be a view into the file`);
  }
});

test('the zip reader lists the fixture (torch writes ZIP64 end records) and a forced-ZIP64 archive', () => {
  const entries = readZipDirectory(fixture, 'zip.bin');
  assert.equal(entries.size, 508);
  const version = entries.get('pytorch_model.zip-format/version');
  assert.ok(version);
  assert.equal(Buffer.from(zipEntryData(fixture, version, 'zip.bin')).toString(), '3\n');
  const z64 = zipFile(
    [
      { name: 'a/x', data: Buffer.from('hello') },
      { name: 'a/y', data: Buffer.from('world!') },
    ],
    { zip64: true },
  );
  const e64 = readZipDirectory(z64, 'z64.zip');
  assert.deepEqual([...e64.keys()], ['a/x', 'a/y']);
  assert.equal(Buffer.from(zipEntryData(z64, e64.get('a/y') as ZipEntry, 'z64.zip')).toString(), 'world!');
});

test('compressed, encrypted, corrupt and truncated archives give clear errors', () => {
  rejects(
    () => readZipDirectory(zipFile([{ name: 'a/data.pkl', data: Buffer.from('x'), method: 8 }]), 'd.zip'),
    /entry 'a\/data\.pkl' is compressed \(method 8, deflate\)/,
  );
  rejects(
    () => readZipDirectory(zipFile([{ name: 'a/b', data: Buffer.from('x'), flags: 1 }]), 'e.zip'),
    /entry 'a\/b' is encrypted/,
  );
  const good = zipFile([{ name: 'a/b', data: Buffer.from('payload') }]);
  const flipped = Buffer.from(good);
  flipped[flipped.indexOf('payload')] ^= 1;
  rejects(
    () => zipEntryData(flipped, readZipDirectory(flipped, 'c.zip').get('a/b') as ZipEntry, 'c.zip'),
    /entry 'a\/b' is corrupt \(CRC-32/,
  );
  for (const cut of [4, 30, 100, fixture.length / 2, fixture.length - 30, fixture.length - 1]) {
    rejects(() => readTorchZip(fixture.subarray(0, cut), 'cut.bin'), /cut\.bin: not a complete ZIP file.*truncated/);
  }
  // The central directory is intact but the data before it is cut out.
  const tail = Buffer.concat([fixture.subarray(0, 1000), fixture.subarray(fixture.length - 30000)]);
  rejects(() => readTorchZip(tail, 'tail.bin'), /tail\.bin: central directory .*runs past|no local header|truncated/);
});

test('a zip-format file whose data.pkl calls posix.system is refused and runs nothing', () => {
  const marker = `/tmp/biggan-serve-pwned-zip-${process.pid}`;
  rmSync(marker, { force: true });
  const evil = new PickleBuilder()
    .proto(2)
    .global('posix', 'system')
    .str(`touch ${marker}`)
    .tuple1()
    .reduce()
    .stop()
    .bytes();
  const file = zipFile([
    { name: 'archive/data.pkl', data: evil },
    { name: 'archive/version', data: Buffer.from('3\n') },
  ]);
  rejects(() => readTorchZip(file, 'evil.bin'), /evil\.bin \(archive\/data\.pkl\): refused global 'posix system'/);
  assert.equal(existsSync(marker), false);
});

test('zip-format storages: strides, half storages, ZIP64, size checks and missing entries', () => {
  const a = f32Bytes([0, 1, 2, 3, 4, 5]);
  const half = new Uint8Array(new Uint16Array([0x3c00, 0x7c00]).buffer); // 1, +inf
  const specs = [
    { key: 'm', storage: '0', storageBytes: a, size: [2, 3] },
    { key: 't', storage: '0', storageBytes: a, size: [3, 2], stride: [1, 3] },
    { key: 'h', storage: '1', storageType: 'HalfStorage', elementSize: 2, storageBytes: half, size: [2] },
  ];
  for (const zip64 of [false, true]) {
    const sd = readTorchZip(torchZipFile(specs, 'model', { zip64 }), 'ok.bin');
    assert.deepEqual([...(sd.get('t')?.data ?? [])], [0, 3, 1, 4, 2, 5]);
    assert.deepEqual([...(sd.get('h')?.data ?? [])], [1, Infinity]);
  }
  // Storage 0's record is shorter than its declared numel.
  const short = torchZipFile([{ key: 'm', storage: '0', storageBytes: a, size: [2, 3] }]);
  const patched = zipFile([
    {
      name: 'archive/data.pkl',
      data: zipEntryData(short, readZipDirectory(short, 's').get('archive/data.pkl') as ZipEntry, 's'),
    },
    { name: 'archive/data/0', data: a.subarray(0, 20) },
  ]);
  rejects(() => readTorchZip(patched, 'short.bin'), /entry 'archive\/data\/0' has 20 bytes but storage '0' needs 24/);
  const missing = zipFile([
    {
      name: 'archive/data.pkl',
      data: zipEntryData(short, readZipDirectory(short, 's').get('archive/data.pkl') as ZipEntry, 's'),
    },
  ]);
  rejects(() => readTorchZip(missing, 'missing.bin'), /storage '0' has no entry 'archive\/data\/0'/);
  rejects(
    () => readTorchZip(zipFile([{ name: 'x/y.txt', data: Buffer.from('hi') }]), 'other.zip'),
    /not a PyTorch checkpoint.*found none/,
  );
  const bigEndian = zipFile([
    { name: 'a/data.pkl', data: Buffer.from('.') },
    { name: 'a/byteorder', data: Buffer.from('big') },
  ]);
  rejects(() => readTorchZip(bigEndian, 'be.bin'), /byte order 'big' is not supported/);
});
