import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expectedStateDict, parseConfig } from '../../src/model/config.js';
import { detectWeightFormat, findWeightFile, parseStateDict, readStateDict } from '../../src/weights/read.js';
import { validateWeights } from '../../src/model/load-model.js';
import { FIXTURE_DIR, bytesOf } from './helpers.js';
import { rejectsWith, withDir } from '../helpers/temp.js';

const config = parseConfig(JSON.parse(readFileSync(`${FIXTURE_DIR}/config.json`, 'utf8')));

test('all three fixture formats load as the same 506 validated tensors, bit for bit', async () => {
  const st = await readStateDict(`${FIXTURE_DIR}/model.safetensors`);
  const legacy = await readStateDict(`${FIXTURE_DIR}/pytorch_model.bin`);
  const zip = await readStateDict(`${FIXTURE_DIR}/pytorch_model.zip-format.bin`);
  assert.deepEqual([st.format, legacy.format, zip.format], ['safetensors', 'torch-legacy', 'torch-zip']);
  for (const { tensors } of [st, legacy, zip]) {
    assert.equal(tensors.size, 506);
    validateWeights(config, tensors);
  }
  // The torch files keep state_dict order, which is the order the config implies.
  assert.deepEqual([...legacy.tensors.keys()], [...expectedStateDict(config).keys()]);
  assert.deepEqual([...zip.tensors.keys()], [...expectedStateDict(config).keys()]);
  for (const [key, t] of st.tensors) {
    for (const other of [legacy.tensors, zip.tensors]) {
      assert.ok(bytesOf(other.get(key)?.data as Float32Array).equals(bytesOf(t.data)), key);
    }
  }
});

test('the format is detected from content, not from the file name', async () => {
  await withDir(async (dir) => {
    symlinkSync(`${FIXTURE_DIR}/model.safetensors`, join(dir, 'weights.bin'));
    symlinkSync(`${FIXTURE_DIR}/pytorch_model.bin`, join(dir, 'model.safetensors'));
    symlinkSync(`${FIXTURE_DIR}/pytorch_model.zip-format.bin`, join(dir, 'model.pt'));
    assert.equal((await readStateDict(join(dir, 'weights.bin'))).format, 'safetensors');
    assert.equal((await readStateDict(join(dir, 'model.safetensors'))).format, 'torch-legacy');
    assert.equal((await readStateDict(join(dir, 'model.pt'))).format, 'torch-zip');
  });
  assert.equal(detectWeightFormat(Buffer.from('PK\x03\x04rest')), 'torch-zip');
  assert.equal(detectWeightFormat(Buffer.from('\x80\x02\x8a\x0a')), undefined); // a pickle, but not torch's magic
});

test('garbage, empty, missing and non-file paths give clear errors', async () => {
  await withDir(async (dir) => {
    let seed = 99;
    const garbage = Buffer.alloc(4096, 0).map(() => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24);
    garbage[8] = 0x00; // not '{'
    writeFileSync(join(dir, 'garbage.bin'), garbage);
    writeFileSync(join(dir, 'empty.bin'), '');
    writeFileSync(join(dir, 'html.bin'), '<html>404 Not Found</html>');
    for (const name of ['garbage.bin', 'empty.bin', 'html.bin']) {
      await rejectsWith(
        readStateDict(join(dir, name)),
        'INVALID_WEIGHTS',
        new RegExp(`${name}: not a recognised weight file .*expected safetensors, PyTorch zip .* or PyTorch legacy`),
      );
    }
    await rejectsWith(readStateDict(join(dir, 'html.bin')), 'INVALID_WEIGHTS', /looks like an HTML or XML page/);
    writeFileSync(
      join(dir, 'lfs.bin'),
      'version https://git-lfs.github.com/spec/v1\noid sha256:0123\nsize 210804572\n',
    );
    await rejectsWith(
      readStateDict(join(dir, 'lfs.bin')),
      'INVALID_WEIGHTS',
      /lfs\.bin: not a recognised weight file.*Git LFS pointer/,
    );
    await rejectsWith(readStateDict(join(dir, 'nope.bin')), 'IO_ERROR', /cannot open weight file .*nope\.bin/);
    await rejectsWith(readStateDict(dir), 'IO_ERROR', /is not a regular file/);
  });
});

test('a truncated legacy file read from disk (the realigning path) is refused', async () => {
  await withDir(async (dir) => {
    const full = readFileSync(`${FIXTURE_DIR}/pytorch_model.bin`);
    for (const cut of [15, 300, Math.floor(full.length * 0.7), full.length - 3]) {
      writeFileSync(join(dir, 'cut.bin'), full.subarray(0, cut));
      await rejectsWith(readStateDict(join(dir, 'cut.bin')), 'INVALID_WEIGHTS', /cut\.bin.*truncated/);
    }
  });
});

test('a file holding only the legacy magic reports the missing protocol pickle as truncation', () => {
  assert.throws(
    () => parseStateDict(readFileSync(`${FIXTURE_DIR}/pytorch_model.bin`).subarray(0, 15), 'm.bin'),
    /m\.bin \(protocol version\): truncated/,
  );
});

test('findWeightFile prefers model.safetensors, then pytorch_model.bin, then a single candidate', async () => {
  await withDir(async (dir) => {
    await rejectsWith(
      findWeightFile(dir),
      'INVALID_WEIGHTS',
      /no weight file in .*expected model\.safetensors or pytorch_model\.bin/,
    );
    writeFileSync(join(dir, 'b.bin'), 'x');
    assert.equal(await findWeightFile(dir), join(dir, 'b.bin'));
    writeFileSync(join(dir, 'a.safetensors'), 'x');
    await rejectsWith(findWeightFile(dir), 'INVALID_WEIGHTS', /several weight files in .*\(a\.safetensors, b\.bin\)/);
    writeFileSync(join(dir, 'pytorch_model.bin'), 'x');
    assert.equal(await findWeightFile(dir), join(dir, 'pytorch_model.bin'));
    writeFileSync(join(dir, 'model.safetensors'), 'x');
    mkdirSync(join(dir, 'sub.bin'));
    assert.equal(await findWeightFile(dir), join(dir, 'model.safetensors'));
  });
  await rejectsWith(findWeightFile('/nonexistent/biggan'), 'IO_ERROR', /cannot read model folder/);
});
