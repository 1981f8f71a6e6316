/**
 * A restricted, non-executing unpickler for PyTorch state_dict pickles (protocols 2 to 5).
 *
 * Python's pickle can call any importable function (`posix system`, `builtins eval`, ...); this
 * one cannot. GLOBAL resolves only names on a short allowlist to inert tokens, and REDUCE only
 * applies the few allowlisted constructors, implemented here in TypeScript. Every read is bounds
 * checked, the stack, memo and mark depth are capped, and each opcode consumes at least one byte,
 * so hostile or truncated input ends in a BigGanError('INVALID_WEIGHTS'), never a hang or a crash.
 */
import { invalidWeights } from '../errors.js';
import type { FloatDType } from './dtype.js';

/** An allowlisted Python global (`module name`), an inert token: nothing is imported or run. */
export class PickleGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}

  /** `module.name`, for messages. */
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

/** The result of `torch._utils._rebuild_tensor[_v2]`: a strided view of a storage, in elements. */
export class TorchTensorRef {
  constructor(
    /** Whatever the reader's `persistentLoad` returned for the storage. */
    readonly storage: unknown,
    readonly offset: number,
    readonly size: readonly number[],
    readonly stride: readonly number[],
  ) {}
}

/** Globals a state_dict pickle needs; anything else is refused (`module name` as GLOBAL spells it). */
export const ALLOWED_GLOBALS: ReadonlySet<string> = new Set([
  'collections OrderedDict',
  'torch._utils _rebuild_tensor_v2',
  'torch._utils _rebuild_tensor',
  'torch._utils _rebuild_parameter',
  'torch FloatStorage',
  'torch HalfStorage',
  'torch BFloat16Storage',
]);

const STORAGE_DTYPES: Readonly<Record<string, FloatDType>> = {
  FloatStorage: 'float32',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
};

/** The element type of an allowlisted torch storage class token, or undefined for anything else. */
export function storageDType(g: unknown): FloatDType | undefined {
  if (!(g instanceof PickleGlobal) || g.module !== 'torch') return undefined;
  return Object.hasOwn(STORAGE_DTYPES, g.name) ? STORAGE_DTYPES[g.name] : undefined;
}

/** Options of one `unpickle` call. */
export interface UnpickleOptions {
  /** Names the stream in messages, e.g. `/models/x/pytorch_model.bin (main pickle)`. */
  readonly source: string;
  /** Resolves BINPERSID/PERSID ids (torch storages); without it persistent ids are refused. */
  readonly persistentLoad?: ((pid: unknown) => unknown) | undefined;
  /** Most items on the stack at once (default 4 Mi). */
  readonly maxStack?: number;
  /** Most memo entries (default 4 Mi). */
  readonly maxMemo?: number;
}

/** One unpickled object and the offset just past its STOP opcode. */
export interface UnpickleResult {
  readonly value: unknown;
  readonly end: number;
}

const MAX_MARKS = 1 << 16;
const MAX_LINE = 1024; // GLOBAL / PERSID text lines: module and class names are short
const MAX_LONG_BYTES = 1024; // LONG4: a state_dict has no integer anywhere near 8192 bits

// Opcodes that exist in pickle but build arbitrary objects or are never in a state_dict.
const REFUSED_OPCODES: Readonly<Record<number, string>> = {
  0x69: 'INST',
  0x6f: 'OBJ',
  0x81: 'NEWOBJ',
  0x92: 'NEWOBJ_EX',
  0x82: 'EXT1',
  0x83: 'EXT2',
  0x84: 'EXT4',
  0x49: 'INT',
  0x4c: 'LONG',
  0x46: 'FLOAT',
  0x53: 'STRING',
  0x56: 'UNICODE',
  0x67: 'GET',
  0x70: 'PUT',
  0x8f: 'EMPTY_SET',
  0x90: 'ADDITEMS',
  0x91: 'FROZENSET',
  0x96: 'BYTEARRAY8',
  0x97: 'NEXT_BUFFER',
  0x98: 'READONLY_BUFFER',
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A short, cycle-safe description of an unpickled value for error messages. */
export function describePickled(v: unknown, depth = 0): string {
  if (v === null) return 'None';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}...` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v instanceof PickleGlobal) return v.qualified;
  if (v instanceof TorchTensorRef) return `tensor[${v.size.join(', ')}]`;
  if (v instanceof Uint8Array) return `bytes(${v.length})`;
  if (v instanceof Map) return `dict(${v.size} items)`;
  if (Array.isArray(v)) {
    const [open, close] = Object.isFrozen(v) ? ['(', ')'] : ['[', ']'];
    if (depth >= 2) return `${open}...${close}`;
    const items = v.slice(0, 6).map((x) => describePickled(x, depth + 1));
    if (v.length > 6) items.push('...');
    return `${open}${items.join(', ')}${close}`;
  }
  return typeof v;
}

function isTuple(v: unknown): v is readonly unknown[] {
  return Array.isArray(v) && Object.isFrozen(v);
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}

/**
 * Unpickles the one object that starts at `start` in `bytes`, stopping at its STOP opcode.
 * Integers are numbers (bigint beyond 2^53), tuples frozen arrays, lists arrays, dicts and
 * OrderedDicts Maps, bytes copied Uint8Arrays.
 */
// eslint-disable-next-line max-lines-per-function -- one switch over the opcodes sharing the VM's stack and memo: the frame's single exception
export function unpickle(bytes: Uint8Array, start: number, options: UnpickleOptions): UnpickleResult {
  const { source } = options;
  const maxStack = options.maxStack ?? 1 << 22;
  const maxMemo = options.maxMemo ?? 1 << 22;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.length;
  let pos = start;
  let opPos = start; // offset of the opcode being run, for messages
  let opName = '';
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();

  const fail = (msg: string) => invalidWeights(`${source}: ${msg} (opcode ${opName} at byte offset ${opPos})`);
  const need = (n: number) => {
    if (n > end - pos) {
      throw invalidWeights(
        `${source}: truncated pickle: opcode ${opName} at byte offset ${opPos} needs ${n} more bytes but the data ends at offset ${end}`,
      );
    }
  };
  const u8 = () => {
    need(1);
    return bytes[pos++];
  };
  const u16 = () => {
    need(2);
    pos += 2;
    return view.getUint16(pos - 2, true);
  };
  const u32 = () => {
    need(4);
    pos += 4;
    return view.getUint32(pos - 4, true);
  };
  const u64 = () => {
    need(8);
    const lo = view.getUint32(pos, true);
    const hi = view.getUint32(pos + 4, true);
    pos += 8;
    if (hi >= 2 ** 21) throw fail(`length ${hi} * 2^32 + ${lo} is too large`);
    return hi * 2 ** 32 + lo;
  };
  const take = (n: number) => {
    need(n);
    pos += n;
    return bytes.subarray(pos - n, pos);
  };
  const text = (n: number) => {
    const raw = take(n);
    try {
      return utf8.decode(raw);
    } catch {
      throw fail('string is not valid UTF-8');
    }
  };
  const line = () => {
    const limit = Math.min(end, pos + MAX_LINE);
    let i = pos;
    while (i < limit && bytes[i] !== 0x0a) i++;
    if (i >= limit) {
      if (limit === end)
        throw invalidWeights(
          `${source}: truncated pickle: opcode ${opName} at byte offset ${opPos} has no end of line before the data ends at offset ${end}`,
        );
      throw fail(`text argument is longer than ${MAX_LINE} bytes`);
    }
    const s = text(i - pos);
    pos = i + 1;
    return s;
  };
  const push = (v: unknown) => {
    if (stack.length >= maxStack) throw fail(`stack exceeds ${maxStack} items`);
    stack.push(v);
  };
  const pop = () => {
    const floor = marks.length ? marks[marks.length - 1] : 0;
    if (stack.length <= floor) throw fail('stack underflow');
    return stack.pop();
  };
  const top = () => {
    const floor = marks.length ? marks[marks.length - 1] : 0;
    if (stack.length <= floor) throw fail('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = () => {
    const m = marks.pop();
    if (m === undefined) throw fail('no MARK on the stack');
    return stack.splice(m);
  };
  const memoPut = (key: number) => {
    if (!memo.has(key) && memo.size >= maxMemo) throw fail(`memo exceeds ${maxMemo} entries`);
    memo.set(key, top());
  };
  const memoGet = (key: number) => {
    if (!memo.has(key)) throw fail(`memo key ${key} was never stored`);
    push(memo.get(key));
  };
  const long = (raw: Uint8Array): number | bigint => {
    if (raw.length === 0) return 0;
    let v = 0n;
    for (let i = raw.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(raw[i]);
    if (raw[raw.length - 1] & 0x80) v -= 1n << BigInt(8 * raw.length); // two's complement
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  const global = (module: string, name: string) => {
    const key = `${module} ${name}`;
    if (!ALLOWED_GLOBALS.has(key)) {
      throw fail(
        `refused global '${key}': a weight file may only reference collections.OrderedDict, torch._utils tensor rebuild functions and torch Float/Half/BFloat16Storage (this file may be malicious; nothing was executed)`,
      );
    }
    push(new PickleGlobal(module, name));
  };
  const setItems = (target: unknown, items: unknown[]) => {
    if (!(target instanceof Map)) throw fail(`cannot set items on ${describePickled(target)}`);
    if (items.length % 2 !== 0) throw fail('odd number of items for a dict');
    for (let i = 0; i < items.length; i += 2) target.set(items[i], items[i + 1]);
  };
  const appendTo = (target: unknown, items: unknown[]) => {
    if (!Array.isArray(target) || Object.isFrozen(target)) throw fail(`cannot append to ${describePickled(target)}`);
    for (const x of items) target.push(x);
  };
  const reduce = (fn: unknown, args: unknown): unknown => {
    if (!(fn instanceof PickleGlobal)) throw fail(`cannot call ${describePickled(fn)}`);
    if (!isTuple(args)) throw fail(`arguments of ${fn.qualified} must be a tuple, got ${describePickled(args)}`);
    switch (`${fn.module} ${fn.name}`) {
      case 'collections OrderedDict': {
        const m = new Map<unknown, unknown>();
        if (args.length === 0) return m;
        const pairs = args[0];
        if (args.length === 1 && Array.isArray(pairs) && pairs.every((p) => Array.isArray(p) && p.length === 2)) {
          for (const [k, v] of pairs as unknown[][]) m.set(k, v);
          return m;
        }
        throw fail(`unsupported OrderedDict arguments ${describePickled(args)}`);
      }
      case 'torch._utils _rebuild_tensor':
      case 'torch._utils _rebuild_tensor_v2': {
        const [storage, offset, size, stride] = args;
        const minArgs = fn.name === '_rebuild_tensor' ? 4 : 6;
        if (args.length < minArgs || args.length > minArgs + 1)
          throw fail(`${fn.qualified} takes ${minArgs} arguments, got ${args.length}`);
        if (!isInt(offset) || offset < 0)
          throw fail(`tensor storage_offset must be a non-negative integer, got ${describePickled(offset)}`);
        if (!isTuple(size) || !size.every((s) => isInt(s) && s >= 0))
          throw fail(`tensor size must be a tuple of non-negative integers, got ${describePickled(size)}`);
        if (!isTuple(stride) || stride.length !== size.length || !stride.every((s) => isInt(s) && s >= 0)) {
          throw fail(
            `tensor stride must be a tuple of ${size.length} non-negative integers, got ${describePickled(stride)}`,
          );
        }
        return new TorchTensorRef(storage, offset, size as number[], stride as number[]);
      }
      case 'torch._utils _rebuild_parameter': {
        if (args.length !== 3 || !(args[0] instanceof TorchTensorRef))
          throw fail(`unsupported _rebuild_parameter arguments ${describePickled(args)}`);
        return args[0];
      }
      default:
        throw fail(`${fn.qualified} cannot be called`);
    }
  };

  while (true) {
    opPos = pos;
    if (pos >= end) {
      opName = 'STOP';
      throw invalidWeights(
        `${source}: truncated pickle: the data ends at offset ${end} before the STOP opcode (pickle started at offset ${start})`,
      );
    }
    const op = bytes[pos++];
    opName = `0x${op.toString(16).padStart(2, '0')}`;
    switch (op) {
      case 0x80: {
        // PROTO
        opName = 'PROTO';
        const v = u8();
        if (v > 5) throw fail(`unsupported pickle protocol ${v}`);
        break;
      }
      case 0x95: {
        // FRAME: framing is only a read-ahead hint; the opcodes inside follow directly
        opName = 'FRAME';
        const n = u64();
        if (n > end - pos)
          throw fail(`truncated pickle: a frame of ${n} bytes runs past the end of the data at offset ${end}`);
        break;
      }
      case 0x2e: // STOP
        opName = 'STOP';
        return { value: pop(), end: pos };
      case 0x28: // MARK
        opName = 'MARK';
        if (marks.length >= MAX_MARKS) throw fail(`more than ${MAX_MARKS} nested MARKs`);
        marks.push(stack.length);
        break;
      case 0x30: // POP: as in CPython, an empty frame above a MARK pops the mark instead
        opName = 'POP';
        if (marks.length && stack.length === marks[marks.length - 1]) popMark();
        else pop();
        break;
      case 0x31:
        opName = 'POP_MARK';
        popMark();
        break;
      case 0x32:
        opName = 'DUP';
        push(top());
        break;
      case 0x4e:
        opName = 'NONE';
        push(null);
        break;
      case 0x88:
        opName = 'NEWTRUE';
        push(true);
        break;
      case 0x89:
        opName = 'NEWFALSE';
        push(false);
        break;
      case 0x4a:
        opName = 'BININT';
        need(4);
        push(view.getInt32(pos, true));
        pos += 4;
        break;
      case 0x4b:
        opName = 'BININT1';
        push(u8());
        break;
      case 0x4d:
        opName = 'BININT2';
        push(u16());
        break;
      case 0x8a:
        opName = 'LONG1';
        push(long(take(u8())));
        break;
      case 0x8b: {
        opName = 'LONG4';
        need(4);
        const n = view.getInt32(pos, true);
        pos += 4;
        if (n < 0 || n > MAX_LONG_BYTES) throw fail(`integer of ${n} bytes is not supported`);
        push(long(take(n)));
        break;
      }
      case 0x47:
        opName = 'BINFLOAT';
        need(8);
        push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x58:
        opName = 'BINUNICODE';
        push(text(u32()));
        break;
      case 0x8c:
        opName = 'SHORT_BINUNICODE';
        push(text(u8()));
        break;
      case 0x8d:
        opName = 'BINUNICODE8';
        push(text(u64()));
        break;
      case 0x54: {
        opName = 'BINSTRING';
        need(4);
        const n = view.getInt32(pos, true);
        pos += 4;
        if (n < 0) throw fail(`negative string length ${n}`);
        push(text(n));
        break;
      }
      case 0x55:
        opName = 'SHORT_BINSTRING';
        push(text(u8()));
        break;
      // Bytes are copied: a reader may later move the file's data around in place.
      case 0x42:
        opName = 'BINBYTES';
        push(new Uint8Array(take(u32())));
        break;
      case 0x43:
        opName = 'SHORT_BINBYTES';
        push(new Uint8Array(take(u8())));
        break;
      case 0x8e:
        opName = 'BINBYTES8';
        push(new Uint8Array(take(u64())));
        break;
      case 0x29:
        opName = 'EMPTY_TUPLE';
        push(Object.freeze([]));
        break;
      case 0x85:
        opName = 'TUPLE1';
        push(Object.freeze([pop()]));
        break;
      case 0x86: {
        opName = 'TUPLE2';
        const b = pop();
        push(Object.freeze([pop(), b]));
        break;
      }
      case 0x87: {
        opName = 'TUPLE3';
        const c = pop();
        const b = pop();
        push(Object.freeze([pop(), b, c]));
        break;
      }
      case 0x74:
        opName = 'TUPLE';
        push(Object.freeze(popMark()));
        break;
      case 0x5d:
        opName = 'EMPTY_LIST';
        push([]);
        break;
      case 0x6c:
        opName = 'LIST';
        push(popMark());
        break;
      case 0x61: {
        opName = 'APPEND';
        const v = pop();
        appendTo(top(), [v]);
        break;
      }
      case 0x65: {
        opName = 'APPENDS';
        const items = popMark();
        appendTo(top(), items);
        break;
      }
      case 0x7d:
        opName = 'EMPTY_DICT';
        push(new Map());
        break;
      case 0x64: {
        opName = 'DICT';
        const m = new Map<unknown, unknown>();
        setItems(m, popMark());
        push(m);
        break;
      }
      case 0x73: {
        opName = 'SETITEM';
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        opName = 'SETITEMS';
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x71:
        opName = 'BINPUT';
        memoPut(u8());
        break;
      case 0x72:
        opName = 'LONG_BINPUT';
        memoPut(u32());
        break;
      case 0x94:
        opName = 'MEMOIZE';
        memoPut(memo.size);
        break;
      case 0x68:
        opName = 'BINGET';
        memoGet(u8());
        break;
      case 0x6a:
        opName = 'LONG_BINGET';
        memoGet(u32());
        break;
      case 0x63: {
        opName = 'GLOBAL';
        const module = line();
        global(module, line());
        break;
      }
      case 0x93: {
        opName = 'STACK_GLOBAL';
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw fail('module and name must be strings');
        global(module, name);
        break;
      }
      case 0x52: {
        opName = 'REDUCE';
        const args = pop();
        const fn = pop();
        push(reduce(fn, args));
        break;
      }
      case 0x62: {
        opName = 'BUILD';
        const state = pop();
        const target = top();
        // OrderedDict state is torch's `_metadata` (per-module versions): not needed to load weights.
        if (!(target instanceof Map))
          throw fail(`cannot BUILD ${describePickled(target)} with state ${describePickled(state)}`);
        break;
      }
      case 0x51:
      case 0x50: {
        opName = op === 0x51 ? 'BINPERSID' : 'PERSID';
        const pid = op === 0x51 ? pop() : line();
        if (!options.persistentLoad) throw fail('persistent ids are not expected in this pickle');
        push(options.persistentLoad(pid));
        break;
      }
      default: {
        const name = REFUSED_OPCODES[op];
        if (name) {
          opName = name;
          throw fail(`pickle opcode ${name} (0x${op.toString(16)}) is not allowed in a weight file`);
        }
        throw fail(`unknown pickle opcode 0x${op.toString(16).padStart(2, '0')}`);
      }
    }
  }
}
