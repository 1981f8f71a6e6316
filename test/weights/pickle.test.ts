import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { BigGanError } from '../../src/errors.js';
import { PickleGlobal, TorchTensorRef, unpickle } from '../../src/weights/pickle.js';
import { PickleBuilder, rejects } from './helpers.js';

const DATA = `${process.cwd()}/test/weights/data`;
const opts = { source: 'test.pkl' };

/** Asserts that `fn` throws INVALID_WEIGHTS whose message matches `re`. */
const expectedBenign = (bytesValue: unknown) => {
  const m = new Map<unknown, unknown>([
    ['a', 1],
    ['b', [1.5, null, true, false, 'x'.repeat(300), 2n ** 70n, -5, 70000, -(2 ** 40), [1, 2, 3], [], ['t']]],
    ['c', new Map([['k', bytesValue]])],
  ]);
  return m;
};

test('protocol 2 and 4 pickles written by CPython decode to the same values', () => {
  const p2 = readFileSync(`${DATA}/benign-p2.pkl`);
  const r2 = unpickle(p2, 0, opts);
  assert.equal(r2.end, p2.length);
  assert.deepEqual(r2.value, expectedBenign('é'));
  const p4 = readFileSync(`${DATA}/benign-p4.pkl`);
  const r4 = unpickle(p4, 0, opts);
  assert.equal(r4.end, p4.length);
  assert.deepEqual(r4.value, expectedBenign(new Uint8Array([0, 1])));
  // Tuples are frozen, lists are not: the two stay distinguishable.
  const list = (r4.value as Map<string, unknown[]>).get('b') as unknown[];
  assert.ok(!Object.isFrozen(list) && Object.isFrozen(list[9]));
});

test('CPython exploit pickles (os.system) are refused, naming the global, and nothing runs', () => {
  for (const file of ['evil-posix-system-p2.pkl', 'evil-posix-system-p4.pkl']) {
    rmSync('/tmp/biggan-serve-pwned-py', { force: true });
    rejects(() => unpickle(readFileSync(`${DATA}/${file}`), 0, opts), /refused global 'posix system'/);
    assert.equal(existsSync('/tmp/biggan-serve-pwned-py'), false);
  }
});

test('every global outside the allowlist is refused, by GLOBAL and by STACK_GLOBAL', () => {
  for (const [mod, name] of [
    ['os', 'system'],
    ['builtins', 'eval'],
    ['subprocess', 'Popen'],
    ['torch', 'load'],
    ['collections', 'defaultdict'],
    ['torch._utils', '_rebuild_qtensor'],
  ]) {
    rejects(
      () => unpickle(new PickleBuilder().proto(2).global(mod, name).stop().bytes(), 0, opts),
      new RegExp(`refused global '${mod} ${name}'.*offset 2`),
    );
    const stackGlobal = new PickleBuilder().proto(4).str(mod).str(name).raw(0x93).stop().bytes();
    rejects(() => unpickle(stackGlobal, 0, opts), new RegExp(`refused global '${mod} ${name}'`));
  }
});

test('allowlisted globals are inert tokens and only the known constructors can be called', () => {
  const token = unpickle(new PickleBuilder().proto(2).global('torch', 'FloatStorage').stop().bytes(), 0, opts).value;
  assert.ok(token instanceof PickleGlobal && token.qualified === 'torch.FloatStorage');
  // Calling a storage class is not a constructor we implement.
  rejects(
    () =>
      unpickle(
        new PickleBuilder().proto(2).global('torch', 'FloatStorage').emptyTuple().reduce().stop().bytes(),
        0,
        opts,
      ),
    /torch\.FloatStorage cannot be called/,
  );
  // REDUCE on a non-global (e.g. a string) is refused.
  rejects(
    () => unpickle(new PickleBuilder().proto(2).str('os.system').emptyTuple().reduce().stop().bytes(), 0, opts),
    /cannot call "os.system"/,
  );
  // NEWOBJ and INST build arbitrary objects: refused by name.
  rejects(
    () =>
      unpickle(
        new PickleBuilder().proto(2).global('collections', 'OrderedDict').emptyTuple().raw(0x81).stop().bytes(),
        0,
        opts,
      ),
    /NEWOBJ \(0x81\) is not allowed/,
  );
  rejects(() => unpickle(Buffer.from('(ios\nsystem\n.'), 0, opts), /INST/);
});

test('_rebuild_tensor_v2 yields a tensor reference and validates its arguments', () => {
  const build = (size: number[], stride: number[], offset = 0) =>
    new PickleBuilder()
      .proto(2)
      .global('torch._utils', '_rebuild_tensor_v2')
      .mark()
      .str('S')
      .int(offset)
      .intTuple(size)
      .intTuple(stride)
      .bool(false)
      .none()
      .tuple()
      .reduce()
      .stop()
      .bytes();
  const ref = unpickle(build([2, 3], [3, 1], 4), 0, opts).value;
  assert.ok(ref instanceof TorchTensorRef);
  assert.deepEqual([ref.storage, ref.offset, ref.size, ref.stride], ['S', 4, [2, 3], [3, 1]]);
  rejects(() => unpickle(build([2, 3], [1]), 0, opts), /stride must be a tuple of 2 non-negative integers/);
  rejects(() => unpickle(build([2, -3], [3, 1]), 0, opts), /size must be a tuple of non-negative integers/);
});

test('unknown opcodes are named with their byte and offset', () => {
  rejects(() => unpickle(Buffer.from([0x80, 0x02, 0x4e, 0xff]), 0, opts), /unknown pickle opcode 0xff.*offset 3/);
  rejects(() => unpickle(Buffer.from([0x80, 0x02, 0x01]), 0, opts), /unknown pickle opcode 0x01.*offset 2/);
  rejects(() => unpickle(Buffer.from([0x80, 0x09, 0x2e]), 0, opts), /unsupported pickle protocol 9/);
});

test('every prefix of a pickle is reported as truncated, never a RangeError', () => {
  const full = readFileSync(`${DATA}/benign-p4.pkl`);
  for (let n = 0; n < full.length; n++) {
    rejects(() => unpickle(full.subarray(0, n), 0, opts), /truncated|stack underflow|no MARK/);
  }
});

test('stack, memo and malformed structure limits give errors', () => {
  // DUP without bound hits the stack cap instead of exhausting memory.
  const dups = new PickleBuilder().proto(2).none();
  for (let i = 0; i < 20; i++) dups.dup();
  rejects(() => unpickle(dups.stop().bytes(), 0, { ...opts, maxStack: 10 }), /stack exceeds 10 items/);
  const memo = new PickleBuilder().proto(4).none();
  for (let i = 0; i < 20; i++) memo.raw(0x94);
  rejects(() => unpickle(memo.stop().bytes(), 0, { ...opts, maxMemo: 5 }), /memo exceeds 5 entries/);
  rejects(() => unpickle(Buffer.from([0x80, 0x02, 0x68, 0x07, 0x2e]), 0, opts), /memo key 7 was never stored/);
  rejects(() => unpickle(Buffer.from([0x80, 0x02, 0x2e]), 0, opts), /stack underflow/);
  rejects(
    () => unpickle(new PickleBuilder().proto(2).none().none().setitem().stop().bytes(), 0, opts),
    /stack underflow/,
  );
  rejects(
    () => unpickle(new PickleBuilder().proto(2).emptyTuple().none().raw(0x61).stop().bytes(), 0, opts),
    /cannot append to \(\)/,
  );
  rejects(() => unpickle(new PickleBuilder().proto(2).str('s').none().build().stop().bytes(), 0, opts), /cannot BUILD/);
  rejects(
    () => unpickle(new PickleBuilder().proto(2).none().binpersid().stop().bytes(), 0, opts),
    /persistent ids are not expected/,
  );
  rejects(
    () => unpickle(Buffer.from([0x80, 0x02, 0x58, 0xff, 0xff, 0xff, 0x7f, 0x2e]), 0, opts),
    /truncated.*needs 2147483647 more bytes/,
  );
  rejects(() => unpickle(Buffer.from([0x80, 0x02, 0x58, 0x02, 0, 0, 0, 0xc3, 0x28, 0x2e]), 0, opts), /not valid UTF-8/);
});

test('random garbage never escapes as anything but INVALID_WEIGHTS and never hangs', () => {
  let seed = 12345;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) & 0xff;
  const t0 = Date.now();
  for (let i = 0; i < 2000; i++) {
    const b = Buffer.alloc(1 + (i % 64));
    for (let j = 0; j < b.length; j++) b[j] = rand();
    if (i % 2 === 0) b[0] = 0x80; // half of them look like a pickle
    try {
      unpickle(b, 0, opts);
    } catch (e) {
      assert.ok(e instanceof BigGanError && e.code === 'INVALID_WEIGHTS', `unexpected ${String(e)}`);
    }
  }
  assert.ok(Date.now() - t0 < 5000);
});
