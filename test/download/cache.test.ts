import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultCacheDir, isModelCached, modelDir } from '../../src/download/cache.js';
import { tempDir } from './fake-host.js';

describe('defaultCacheDir', () => {
  it('uses $BIGGAN_CACHE first', () => {
    assert.equal(
      defaultCacheDir({ BIGGAN_CACHE: '/data/models', XDG_CACHE_HOME: '/xdg', HOME: '/home/u' }),
      '/data/models',
    );
  });

  it('resolves a relative $BIGGAN_CACHE against the working folder', () => {
    assert.equal(defaultCacheDir({ BIGGAN_CACHE: 'models' }), path.resolve('models'));
  });

  it('falls back to $XDG_CACHE_HOME/biggan-serve, ignoring a relative XDG_CACHE_HOME', () => {
    assert.equal(defaultCacheDir({ XDG_CACHE_HOME: '/xdg', HOME: '/home/u' }), path.join('/xdg', 'biggan-serve'));
    assert.equal(
      defaultCacheDir({ XDG_CACHE_HOME: 'rel', HOME: '/home/u' }),
      path.join('/home/u', '.cache', 'biggan-serve'),
    );
  });

  it('falls back to ~/.cache/biggan-serve, empty variables counting as unset', () => {
    assert.equal(
      defaultCacheDir({ BIGGAN_CACHE: '', XDG_CACHE_HOME: '', HOME: '/home/u' }),
      path.join('/home/u', '.cache', 'biggan-serve'),
    );
    assert.equal(defaultCacheDir({}), path.join(os.homedir(), '.cache', 'biggan-serve'));
  });
});

describe('modelDir', () => {
  it('is <cache>/<name>', () => {
    assert.equal(modelDir('/c', 'biggan-deep-256'), path.join('/c', 'biggan-deep-256'));
  });
});

describe('isModelCached', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir();
  });
  after(async () => {
    await fs.promises.rm(dir, { recursive: true, force: true });
  });

  it('needs both files and no .partial', () => {
    const put = (f: string) => fs.writeFileSync(path.join(dir, f), 'x');
    assert.equal(isModelCached(path.join(dir, 'missing')), false);
    assert.equal(isModelCached(dir), false);
    put('config.json');
    assert.equal(isModelCached(dir), false);
    put('pytorch_model.bin.partial');
    assert.equal(isModelCached(dir), false);
    put('pytorch_model.bin');
    assert.equal(isModelCached(dir), false, 'a leftover .partial means unfinished');
    fs.rmSync(path.join(dir, 'pytorch_model.bin.partial'));
    assert.equal(isModelCached(dir), true);
    put('config.json.partial');
    assert.equal(isModelCached(dir), false);
    fs.rmSync(path.join(dir, 'config.json.partial'));
    fs.writeFileSync(path.join(dir, 'pytorch_model.bin'), '');
    assert.equal(isModelCached(dir), false, 'an empty weights file is not a model');
  });
});
