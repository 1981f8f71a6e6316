/** Small helpers shared by tests that load model folders: expected errors and temporary folders. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BigGanError } from '../../src/errors.js';

/** Asserts that `p` rejects with a BigGanError of `code` whose message matches `re`. */
export async function rejectsWith(p: Promise<unknown>, code: string, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof BigGanError, `expected BigGanError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, re);
    return true;
  });
}

/** Runs `fn` with a fresh temporary folder, removed afterwards. */
export async function withDir(fn: (dir: string) => Promise<void>, prefix = 'biggan-test-'): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
