/**
 * Every folder of src/ (and every file at its top) is named in the layer table of
 * eslint.config.js: a folder missing from it would escape the import-direction rule unnoticed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

interface Layer {
  readonly name: string;
  readonly file?: boolean;
}

interface LayerTable {
  readonly LAYERS: readonly Layer[];
  readonly ROOTS: readonly string[];
  readonly CONFIG_FOLDER: string;
}

async function table(): Promise<LayerTable> {
  return (await import(pathToFileURL(path.resolve('eslint.config.js')).href)) as LayerTable;
}

/** The entries of `src` (folders, and top-level .ts files without extension) the table does not name. */
function unranked(entries: readonly { name: string; folder: boolean }[], t: LayerTable): string[] {
  const folders = new Set([...t.LAYERS.filter((l) => !l.file).map((l) => l.name), ...t.ROOTS, t.CONFIG_FOLDER]);
  const files = new Set([...t.LAYERS.filter((l) => l.file).map((l) => l.name), ...t.ROOTS]);
  return entries
    .filter((e) => !(e.folder ? folders : files).has(e.name))
    .map((e) => (e.folder ? `src/${e.name}/` : `src/${e.name}.ts`));
}

function srcEntries(): { name: string; folder: boolean }[] {
  return readdirSync('src', { withFileTypes: true })
    .filter((d) => d.isDirectory() || d.name.endsWith('.ts'))
    .map((d) => ({ name: d.isDirectory() ? d.name : d.name.replace(/\.ts$/, ''), folder: d.isDirectory() }));
}

test('every folder and top-level file of src/ is in the layer table of eslint.config.js', async () => {
  const entries = srcEntries();
  assert.ok(
    entries.some((e) => e.name === 'transport' && e.folder),
    'src/ was read',
  );
  assert.deepEqual(unranked(entries, await table()), []);
});

test('a folder missing from the table is reported by name', async () => {
  const missing = unranked(
    [...srcEntries(), { name: 'jobs', folder: true }, { name: 'stray', folder: false }],
    await table(),
  );
  assert.deepEqual(missing, ['src/jobs/', 'src/stray.ts']);
});
