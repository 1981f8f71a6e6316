/**
 * The API key file: JSON `{"keys": [{"name", "sha256", "imagesPerSecond"?, "burst"?, "maxInFlight"?,
 * "disabled"?}]}`. Keys are stored only as the hex SHA-256 of their UTF-8 bytes, so the file (a
 * Kubernetes Secret, a config repo) never holds a usable key. Parsing checks every entry and
 * refuses the file with the line and field at fault, so a typo never silently drops a key.
 */
import { createHash, randomBytes } from 'node:crypto';
import { LineCounter, parseDocument } from 'yaml';
import { BigGanError } from '../errors.js';

/** A key's quota: a token bucket in images, and a cap on its images queued or running. */
export interface Quota {
  /** Refill rate of the bucket, images per second; absent: no rate limit. */
  readonly imagesPerSecond?: number;
  /** Bucket size, images (the most a key can send at once after idling); default ceil(imagesPerSecond), at least 1. */
  readonly burst?: number;
  /** Most images of this key queued or running at once (per replica); absent: no cap. */
  readonly maxInFlight?: number;
}

/** One entry of the key file. */
export interface ApiKeyEntry extends Quota {
  /** What logs and metrics call the key (never the key itself). */
  readonly name: string;
  /** Hex SHA-256 of the key's UTF-8 bytes, lower case. */
  readonly sha256: string;
  /** A disabled key is known but refused (403 / PERMISSION_DENIED), e.g. while a bill is unpaid. */
  readonly disabled?: boolean;
}

/** Names are label values in metrics and log fields: short and plain. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const HEX64 = /^[0-9a-f]{64}$/;
const ENTRY_FIELDS = new Set(['name', 'sha256', 'imagesPerSecond', 'burst', 'maxInFlight', 'disabled']);

/** Hex SHA-256 of a key's UTF-8 bytes (what the key file stores). */
export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** A fresh random key: `bgs_` + 32 random bytes in base64url (256 bits). */
export function newKey(): string {
  return `bgs_${randomBytes(32).toString('base64url')}`;
}

/** The key file entry for `key` with `name` and an optional quota. */
export function keyEntry(name: string, key: string, quota: Quota = {}): ApiKeyEntry {
  if (!NAME.test(name))
    throw new BigGanError(
      'INVALID_ARGUMENT',
      `key name ${JSON.stringify(name)}: use 1-64 characters of A-Z a-z 0-9 . _ - (starting with a letter or digit)`,
    );
  return { name, sha256: hashKey(key), ...quota };
}

/** Where a problem is: `FILE:LINE:COL` of a node of the parsed document. */
class Locator {
  private readonly lines = new LineCounter();
  private readonly doc;

  constructor(
    private readonly source: string,
    text: string,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lines, uniqueKeys: false });
  }

  /** The first syntax error's position, when the YAML parser (a JSON superset) found one. */
  syntaxError(): string | undefined {
    const err = this.doc.errors[0];
    if (!err) return undefined;
    const pos = err.linePos?.[0];
    return `${this.source}${pos ? `:${pos.line}:${pos.col}` : ''}: ${err.message.split('\n')[0]}`;
  }

  at(path: readonly (string | number)[]): string {
    for (let n = path.length; n >= 0; n--) {
      const node = this.doc.getIn(path.slice(0, n), true);
      const range = node !== null && typeof node === 'object' && 'range' in node ? node.range : undefined;
      if (Array.isArray(range) && typeof range[0] === 'number') {
        const pos = this.lines.linePos(range[0]);
        return `${this.source}:${pos.line}:${pos.col}`;
      }
    }
    return this.source;
  }
}

/** `LINE:COL` (1-based) of a character offset. */
function lineCol(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `${before.length}:${before[before.length - 1].length + 1}`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Parses and checks a key file's text. Throws one INVALID_CONFIG BigGanError naming the file,
 * line, column and field at fault (e.g. `keys.json:4:17: keys[1].sha256: must be 64 lower-case
 * hex digits ...`).
 */
export function parseKeyFile(text: string, source = 'key file'): ApiKeyEntry[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    // V8 names the offset ("... at position 31"); else the YAML parser (a JSON superset) may place it.
    const at = /at position (\d+)/.exec((err as Error).message);
    const where = at
      ? `${source}:${lineCol(text, Number(at[1]))}`
      : new Locator(source, text).syntaxError()?.split(': ')[0];
    throw new BigGanError(
      'INVALID_CONFIG',
      `${where ?? source}: not valid JSON (${(err as Error).message.split('\n')[0]})`,
    );
  }
  const loc = new Locator(source, text);
  // Annotated, so TypeScript narrows after `if (...) fail(...)`.
  const fail: (path: (string | number)[], message: string) => never = (path, message) => {
    const field = path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i > 0 ? '.' : ''}${p}`)).join('');
    throw new BigGanError('INVALID_CONFIG', `${loc.at(path)}: ${field || 'the file'}: ${message}`);
  };
  if (!isRecord(data)) return fail([], 'must be an object {"keys": [...]}');
  const root = data;
  for (const k of Object.keys(root)) if (k !== 'keys') fail([k], 'unknown field; the file holds only "keys"');
  if (!Array.isArray(root.keys)) fail(['keys'], 'must be a list of {"name", "sha256", ...} entries');
  const names = new Set<string>();
  const hashes = new Set<string>();
  const entries: unknown[] = root.keys;
  return entries.map((raw, i): ApiKeyEntry => {
    if (!isRecord(raw)) return fail(['keys', i], 'must be an object with "name" and "sha256"');
    for (const k of Object.keys(raw))
      if (!ENTRY_FIELDS.has(k)) fail(['keys', i, k], `unknown field; allowed: ${[...ENTRY_FIELDS].join(', ')}`);
    const { name, sha256, imagesPerSecond, burst, maxInFlight, disabled } = raw;
    if (typeof name !== 'string' || !NAME.test(name))
      fail(['keys', i, 'name'], 'must be 1-64 characters of A-Z a-z 0-9 . _ - (it appears in logs and metric labels)');
    if (names.has(name)) fail(['keys', i, 'name'], `${JSON.stringify(name)} is used by an earlier entry`);
    if (typeof sha256 !== 'string' || !HEX64.test(sha256)) {
      fail(
        ['keys', i, 'sha256'],
        'must be 64 lower-case hex digits: the SHA-256 of the key (`biggan-serve keys new NAME` prints an entry), never the key itself',
      );
    }
    if (hashes.has(sha256)) fail(['keys', i, 'sha256'], 'the same key is listed twice');
    const positive = (field: string, v: unknown, integer: boolean): number | undefined => {
      if (v === undefined) return undefined;
      if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) {
        return fail(
          ['keys', i, field],
          `must be a ${integer ? 'positive integer' : 'positive number'} (or left out for no limit)`,
        );
      }
      return v;
    };
    const rate = positive('imagesPerSecond', imagesPerSecond, false);
    const size = positive('burst', burst, true);
    const inFlight = positive('maxInFlight', maxInFlight, true);
    if (size !== undefined && rate === undefined)
      fail(['keys', i, 'burst'], 'needs imagesPerSecond (the rate that refills the burst)');
    if (disabled !== undefined && typeof disabled !== 'boolean') fail(['keys', i, 'disabled'], 'must be true or false');
    names.add(name);
    hashes.add(sha256);
    return {
      name,
      sha256,
      ...(rate !== undefined ? { imagesPerSecond: rate } : {}),
      ...(size !== undefined ? { burst: size } : {}),
      ...(inFlight !== undefined ? { maxInFlight: inFlight } : {}),
      ...(disabled === true ? { disabled: true } : {}),
    };
  });
}
