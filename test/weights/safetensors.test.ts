import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BigGanError } from '../../src/errors.js';
import { readSafetensors } from '../../src/weights/safetensors.js';
import { writeSafetensors } from '../../src/weights/safetensors-writer.js';
import type { StateDict } from '../../src/weights/state-dict.js';
import { FIXTURE_DIR, bytesOf, f32Bytes, rawSafetensors, rejects } from './helpers.js';

const fixture = readFileSync(`${FIXTURE_DIR}/model.safetensors`);

/** A safetensors file of one tensor per entry, header padded to 8 bytes as the writer pads it. */
function file(entries: { key: string; dtype: string; shape: number[]; data: Uint8Array }[]): Buffer {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let off = 0;
  for (const e of entries) {
    header[e.key] = { dtype: e.dtype, shape: e.shape, data_offsets: [off, off + e.data.length] };
    off += e.data.length;
  }
  let text = JSON.stringify(header);
  text += ' '.repeat((8 - (text.length % 8)) % 8);
  return rawSafetensors(text, Buffer.concat(entries.map((e) => e.data)));
}

test('the fixture reads as 506 float32 tensors, zero-copy', () => {
  const sd = readSafetensors(fixture, 'model.safetensors');
  assert.equal(sd.size, 506);
  assert.deepEqual(sd.get('generator.layers.3.conv_1.weight_orig')?.shape, [32, 32, 3, 3]);
  for (const t of sd.values()) assert.equal(t.data.buffer, fixture.buffer);
});

test('the writer reproduces the fixture byte for byte and leaves no temporary file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'biggan-st-'));
  try {
    const path = join(dir, 'model.safetensors');
    await writeSafetensors(path, readSafetensors(fixture, 'model.safetensors'));
    assert.ok(readFileSync(path).equals(fixture));
    assert.equal(existsSync(`${path}.tmp`), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('F16 values (subnormals, infinities, NaN, -0) widen exactly and round-trip through the F32 writer', async () => {
  const bits = [0x0000, 0x8000, 0x0001, 0x03ff, 0x0400, 0x3c00, 0xc000, 0x3555, 0x7bff, 0x7c00, 0xfc00, 0x7e00];
  const want = [0, -0, 2 ** -24, 1023 * 2 ** -24, 2 ** -14, 1, -2, 0.333251953125, 65504, Infinity, -Infinity, NaN];
  const bbits = [0x3f80, 0xc020, 0x4049, 0x0001, 0x7f80, 0xff80, 0x7fc1]; // BF16
  const bwant = new Float32Array(new Uint32Array(bbits.map((b) => b << 16)).buffer);
  // A 1-element F16 tensor first puts the F32 tensor at data offset 2: the unaligned copy path.
  const st = file([
    { key: 'odd', dtype: 'F16', shape: [1], data: new Uint8Array(new Uint16Array([0x3800]).buffer) },
    { key: 'f32', dtype: 'F32', shape: [2], data: f32Bytes([1.5, -3]) },
    { key: 'h', dtype: 'F16', shape: [3, 4], data: new Uint8Array(new Uint16Array(bits).buffer) },
    { key: 'b', dtype: 'BF16', shape: [7], data: new Uint8Array(new Uint16Array(bbits).buffer) },
  ]);
  const sd = readSafetensors(st, 'half.safetensors');
  assert.deepEqual([...(sd.get('odd')?.data ?? [])], [0.5]);
  assert.deepEqual([...(sd.get('f32')?.data ?? [])], [1.5, -3]);
  assert.notEqual(sd.get('f32')?.data.buffer, st.buffer); // unaligned: copied, not viewed
  assert.deepEqual(sd.get('h')?.shape, [3, 4]);
  assert.deepEqual([...(sd.get('h')?.data ?? [])], want);
  assert.ok(Object.is(sd.get('h')?.data[1], -0));
  // BF16 -> F32 keeps every bit, NaN payload included.
  assert.ok(bytesOf(sd.get('b')?.data as Float32Array).equals(bytesOf(bwant)));

  const dir = mkdtempSync(join(tmpdir(), 'biggan-st-'));
  try {
    const path = join(dir, 'w.safetensors');
    await writeSafetensors(path, sd, { format: 'pt', note: 'round trip' });
    const back = readSafetensors(readFileSync(path), path);
    assert.deepEqual([...back.keys()], ['b', 'f32', 'h', 'odd']); // sorted on disk
    for (const [k, t] of sd) {
      assert.deepEqual(back.get(k)?.shape, t.shape);
      assert.ok(bytesOf(back.get(k)?.data as Float32Array).equals(bytesOf(t.data)), k);
    }
    const n = Number(readFileSync(path).readBigUInt64LE(0));
    assert.equal(n % 8, 0);
    assert.match(
      readFileSync(path)
        .subarray(8, 8 + n)
        .toString(),
      /^\{"__metadata__":\{"format":"pt","note":"round trip"\},"b":/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the writer refuses a tensor whose data does not match its shape, leaving nothing behind', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'biggan-st-'));
  try {
    const bad: StateDict = new Map([['x', { shape: [2, 2], data: new Float32Array(3) }]]);
    await assert.rejects(
      writeSafetensors(join(dir, 'x.safetensors'), bad),
      /tensor 'x': shape \[2, 2\] needs 4 values but it has 3/,
    );
    assert.equal(existsSync(join(dir, 'x.safetensors.tmp')), false);
    await assert.rejects(
      writeSafetensors(join(dir, 'no/such/dir.safetensors'), new Map()),
      (e: unknown) => e instanceof BigGanError && e.code === 'IO_ERROR',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('corrupt headers are refused with the precise problem', () => {
  const eight = f32Bytes([1, 2]);
  const entry = (o: object) => JSON.stringify({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 8], ...o } });
  const cases: [Buffer, RegExp][] = [
    [rawSafetensors('{"x": {"dtype": "F32",', eight), /header is not valid UTF-8 JSON/],
    [rawSafetensors('[1, 2]', eight), /does not start with '\{'/],
    [rawSafetensors('{"x": 1}', eight), /entry 'x' is not an object/],
    [
      rawSafetensors(entry({ data_offsets: [0, 16] }), eight),
      /data_offsets \[0, 16\] lie outside the 8-byte data section/,
    ],
    [rawSafetensors(entry({ data_offsets: [4, 0] }), eight), /data_offsets \[4, 0\] lie outside/],
    [rawSafetensors(entry({ shape: [3] }), eight), /has 8 bytes but shape \[3\] of F32 needs 12/],
    [rawSafetensors(entry({ dtype: 'F16' }), eight), /has 8 bytes but shape \[2\] of F16 needs 4/],
    [rawSafetensors(entry({ dtype: 'F64', shape: [1] }), eight), /dtype F64; only F32, F16 and BF16 are supported/],
    [rawSafetensors(entry({ dtype: 'Q7' }), eight), /unknown dtype "Q7"/],
    [rawSafetensors(entry({ shape: [-2] }), eight), /shape \[-2\]; expected a list of non-negative integers/],
    [rawSafetensors(entry({ shape: [2.5] }), eight), /shape \[2.5\]/],
    [rawSafetensors(entry({ data_offsets: [0] }), eight), /data_offsets \[0\]; expected \[begin, end\]/],
    [
      rawSafetensors(
        JSON.stringify({
          a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
          b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
        }),
        eight,
      ),
      /tensor 'b' \[4, 8\] overlaps tensor 'a'/,
    ],
    [
      rawSafetensors(JSON.stringify({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }), eight),
      /gap of 4 bytes before tensor 'a'/,
    ],
    [rawSafetensors(entry({}), f32Bytes([1, 2, 3])), /the tensors cover 8 bytes but the data section has 12/],
    [rawSafetensors(entry({}), eight, 1e9), /header length 1000000000 exceeds the \d+ bytes after the length field/],
    [Buffer.from([1, 2, 3]), /3 bytes is too short/],
  ];
  for (const [bytes, re] of cases) rejects(() => readSafetensors(bytes, 'bad.safetensors'), re);
});

test('the fixture cut anywhere is refused quickly', () => {
  const n = Number(fixture.readBigUInt64LE(0));
  for (const cut of [8, 9, 100, n, n + 7, n + 8, n + 9, fixture.length / 2, fixture.length - 1]) {
    const t0 = Date.now();
    rejects(
      () => readSafetensors(fixture.subarray(0, cut), 'cut.safetensors'),
      /cut\.safetensors: invalid safetensors file: .*(truncated|not valid|cover)/,
    );
    assert.ok(Date.now() - t0 < 1000);
  }
});
