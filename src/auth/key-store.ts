/**
 * The known API keys, replaceable at run time (a reloaded key file swaps them in one step).
 * A presented key is hashed and compared with every stored hash in constant time, so neither the
 * comparison nor an early exit tells an attacker how much of a guess was right.
 */
import { timingSafeEqual } from 'node:crypto';
import { hashKey, type ApiKeyEntry } from './key-file.js';

/** The identity of an authenticated caller, as the service sees it. */
export interface Caller {
  /** The key's name (logs, metrics); never the key. */
  readonly name: string;
  readonly entry: ApiKeyEntry;
}

/** Why authentication failed (the `reason` label of biggan_auth_failures_total). */
export type AuthFailure = 'missing' | 'unknown' | 'disabled';

/** The outcome of checking a presented key. */
export type AuthResult =
  | { readonly ok: true; readonly caller: Caller }
  | { readonly ok: false; readonly reason: AuthFailure; readonly name?: string };

/** The set of valid keys (by hash). */
export class KeyStore {
  private entries: readonly { readonly entry: ApiKeyEntry; readonly hash: Buffer; readonly caller: Caller }[] = [];

  constructor(entries: readonly ApiKeyEntry[] = []) {
    this.replace(entries);
  }

  /** Swaps in a new set of keys (all at once: a request sees either the old set or the new). */
  replace(entries: readonly ApiKeyEntry[]): void {
    this.entries = entries.map((entry) => ({
      entry,
      hash: Buffer.from(entry.sha256, 'hex'),
      caller: Object.freeze({ name: entry.name, entry }),
    }));
  }

  /** Number of keys. */
  get size(): number {
    return this.entries.length;
  }

  /** Names of the keys, in file order. */
  names(): string[] {
    return this.entries.map((e) => e.entry.name);
  }

  /** Checks a presented key (undefined: none was sent). */
  authenticate(key: string | undefined): AuthResult {
    if (key === undefined || key === '') return { ok: false, reason: 'missing' };
    const presented = Buffer.from(hashKey(key), 'hex');
    let found: (typeof this.entries)[number] | undefined;
    // Every entry is compared (no early exit), each comparison in constant time.
    for (const e of this.entries) {
      if (timingSafeEqual(presented, e.hash) && found === undefined) found = e;
    }
    if (!found) return { ok: false, reason: 'unknown' };
    if (found.entry.disabled) return { ok: false, reason: 'disabled', name: found.entry.name };
    return { ok: true, caller: found.caller };
  }
}

/**
 * The key in an `Authorization: Bearer KEY` value (scheme case-insensitive), or undefined.
 * Anything else in Authorization (Basic, a bare token) is not a key.
 */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const m = /^\s*bearer\s+(\S+)\s*$/i.exec(authorization);
  return m ? m[1] : undefined;
}
