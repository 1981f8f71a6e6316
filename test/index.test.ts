/** The package's `main` entry exists after the build and exports the public API. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { FIXTURE_DIR } from './helpers/fixtures.js';

test('package.json main loads the public API (server, config, model, engine, latents, images, errors)', async () => {
  const pkg: { main: string } = JSON.parse(readFileSync('package.json', 'utf8'));
  const api: typeof import('../src/index.js') = await import(pathToFileURL(path.resolve(pkg.main)).href);
  for (const fn of [
    api.startServer,
    api.parseServerConfig,
    api.loadModel,
    api.createEngine,
    api.sampleLatents,
    api.classVector,
    api.encodeImage,
    api.presetConfig,
  ]) {
    assert.equal(typeof fn, 'function');
  }
  assert.equal(api.parseServerConfig(['--http-port', '0'], {}).config.http.port, 0);
  assert.equal(api.presetConfig('biggan-deep-256').outputDim, 256);
  assert.equal(new api.BigGanError('INVALID_ARGUMENT', 'x').code, 'INVALID_ARGUMENT');
  const { folded } = await api.loadModel(FIXTURE_DIR);
  assert.equal(folded.config.channelWidth, 8);
});
