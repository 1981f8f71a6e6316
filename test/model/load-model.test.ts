import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModelFolder } from '../../src/model/load-model.js';
import { FIXTURE_DIR } from '../weights/helpers.js';
import { rejectsWith, withDir } from '../helpers/temp.js';

test('loadModelFolder loads the fixture and reports config and weight problems with their paths', async () => {
  const m = await loadModelFolder(FIXTURE_DIR);
  assert.equal(m.weightFile, join(FIXTURE_DIR, 'model.safetensors'));
  assert.equal(m.format, 'safetensors');
  assert.equal(m.config.channelWidth, 8);
  assert.equal(m.tensors.size, 506);
  await withDir(async (dir) => {
    await rejectsWith(loadModelFolder(dir), 'INVALID_CONFIG', /cannot read .*config\.json/);
    writeFileSync(join(dir, 'config.json'), '{"z_dim": ');
    await rejectsWith(loadModelFolder(dir), 'INVALID_CONFIG', /config\.json: not valid JSON/);
    const wider = { ...JSON.parse(readFileSync(`${FIXTURE_DIR}/config.json`, 'utf8')), channel_width: 16 };
    writeFileSync(join(dir, 'config.json'), JSON.stringify(wider));
    symlinkSync(`${FIXTURE_DIR}/pytorch_model.bin`, join(dir, 'pytorch_model.bin'));
    await rejectsWith(
      loadModelFolder(dir),
      'INVALID_WEIGHTS',
      /pytorch_model\.bin: the weights do not match config\.json \(channel_width 16[^]*keys with the wrong shape: generator\.gen_z\.bias \(expected \[4096\], got \[2048\]\)/,
    );
  });
});
