/**
 * Loading the key file into a KeyStore and keeping it current: `reload()` (on SIGHUP or a file
 * change) swaps in the new keys only when the whole file is valid; an invalid file keeps the old
 * keys and reports why. At start-up an invalid file is an error (the server does not start).
 */
import { readFileSync } from 'node:fs';
import { BigGanError } from '../errors.js';
import { parseKeyFile, type ApiKeyEntry } from './key-file.js';
import { KeyStore } from './key-store.js';
import { watchFiles, type FileWatch } from './file-watch.js';

/** Reads and parses a key file; throws INVALID_CONFIG (file:line:col: field: why) or IO_ERROR. */
export function readKeyFile(file: string): ApiKeyEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new BigGanError('IO_ERROR', `cannot read the API key file ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return parseKeyFile(text, file);
}

/** What a reload reports. */
export interface KeyReloadEvents {
  /** The file was valid: `names` are the keys now in force. */
  onReloaded?(names: readonly string[]): void;
  /** The file was invalid or unreadable: the old keys stay. */
  onRejected?(message: string): void;
}

/** A KeyStore fed from a file, re-read on change. */
export class KeyFile {
  readonly store: KeyStore;
  private watch: FileWatch | undefined;
  private last = '';

  /** Reads `file` now (throws on an invalid file: start-up fails). */
  constructor(
    readonly file: string,
    private readonly events: KeyReloadEvents = {},
  ) {
    const entries = readKeyFile(file);
    this.store = new KeyStore(entries);
    this.last = JSON.stringify(entries);
  }

  /** Re-reads the file; returns true when the keys in force changed. */
  reload(): boolean {
    let entries: ApiKeyEntry[];
    try {
      entries = readKeyFile(this.file);
    } catch (err) {
      this.events.onRejected?.(
        `${err instanceof Error ? err.message : String(err)}; keeping the ${this.store.size} keys loaded before`,
      );
      return false;
    }
    const text = JSON.stringify(entries);
    if (text === this.last) return false; // a touch or an unrelated file in the folder
    this.last = text;
    this.store.replace(entries);
    this.events.onReloaded?.(this.store.names());
    return true;
  }

  /** Starts re-reading on file changes. */
  startWatching(): void {
    this.watch ??= watchFiles([this.file], () => this.reload());
  }

  close(): void {
    this.watch?.close();
    this.watch = undefined;
  }
}
