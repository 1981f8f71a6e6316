/**
 * The tfjs engine against the reference fixture: six cases, three weight formats, PNGs, a mixed
 * batch, and no tensor leaks.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFile, copyFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { loadModel } from '../../../src/model/load-model.js';
import { createTfjsEngine } from '../../../src/engine/tfjs/tfjs-engine.js';
import { toRgb8, sampleView } from '../../../src/image/convert.js';
import { decodeImage } from '../../../src/image/encode.js';
import { FIXTURE_DIR, CASE_NAMES, loadCase, maxAbsDiffNchwNhwc, maxPixelDiff } from '../../helpers/fixtures.js';

const FORMATS = [
  ['safetensors', 'model.safetensors'],
  ['torch-legacy', 'pytorch_model.bin'],
  ['torch-zip', 'pytorch_model.zip-format.bin'],
] as const;

let tmp: string;
before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'biggan-fixture-'));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** A model folder holding config.json and one weight file under the name the loader expects. */
async function modelFolder(format: string, file: string): Promise<string> {
  const dir = path.join(tmp, format);
  await import('node:fs/promises').then((fs) => fs.mkdir(dir, { recursive: true }));
  await copyFile(path.join(FIXTURE_DIR, 'config.json'), path.join(dir, 'config.json'));
  // The zip-format file is served under the standard name: the format is detected by content.
  const target = file === 'model.safetensors' ? 'model.safetensors' : 'pytorch_model.bin';
  await copyFile(path.join(FIXTURE_DIR, file), path.join(dir, target));
  return dir;
}

for (const [format, file] of FORMATS) {
  test(`tfjs (wasm) reproduces all fixture cases from ${format} weights within 1e-4`, async () => {
    const loaded = await loadModel(await modelFolder(format, file));
    assert.equal(loaded.format, format);
    const engine = await createTfjsEngine(loaded.folded, { backend: 'wasm', worker: false });
    try {
      const tensorsBefore = tf.memory().numTensors;
      for (const name of CASE_NAMES) {
        const c = loadCase(name);
        const out = await engine.generate({
          size: c.batch,
          z: c.z,
          classVector: c.classVector,
          truncation: Array(c.batch).fill(c.truncation),
        });
        assert.equal(out.data.length, c.batch * c.height * c.width * 3);
        const diff = maxAbsDiffNchwNhwc(c.output, out.data, c.batch, c.height, c.width);
        assert.ok(diff < 1e-4, `${name}: max abs diff ${diff}`);
        if (format === 'safetensors') {
          for (let i = 0; i < c.batch; i++) {
            const ref = await decodeImage(await readFile(c.pngFiles[i]));
            const px = maxPixelDiff(ref.data, toRgb8(sampleView(out.data, i, c.height, c.width)));
            assert.ok(px <= 1, `${name} sample ${i}: PNG differs by ${px}`);
          }
        }
      }
      assert.equal(tf.memory().numTensors, tensorsBefore, 'generate() leaked tensors');
    } finally {
      await engine.dispose();
    }
  });
}

test('one batch mixing every case (six truncations) equals the per-case outputs (engine in a worker thread)', async () => {
  const loaded = await loadModel(await modelFolder('mixed', 'model.safetensors'));
  const engine = await createTfjsEngine(loaded.folded, { backend: 'wasm' });
  assert.equal(engine.inWorker, true);
  try {
    // Take one sample of each case, interleaved, so every sample sits beside other truncations.
    const cases = CASE_NAMES.map(loadCase);
    const picks = cases.map((c) => ({ c, i: c.batch - 1 }));
    const z = new Float32Array(picks.length * 128);
    const cv = new Float32Array(picks.length * 1000);
    picks.forEach(({ c, i }, k) => {
      z.set(c.z.subarray(i * 128, (i + 1) * 128), k * 128);
      cv.set(c.classVector.subarray(i * 1000, (i + 1) * 1000), k * 1000);
    });
    const out = await engine.generate({
      size: picks.length,
      z,
      classVector: cv,
      truncation: picks.map(({ c }) => c.truncation),
    });
    const hw = 128 * 128 * 3;
    picks.forEach(({ c, i }, k) => {
      const ref = c.output.subarray(i * hw, (i + 1) * hw);
      const diff = maxAbsDiffNchwNhwc(ref, out.data.subarray(k * hw, (k + 1) * hw), 1, 128, 128);
      assert.ok(diff < 1e-4, `${c.name} sample ${i} in a mixed batch: max abs diff ${diff}`);
    });
    // The truncations really differ: 0.545 and 0.58 use other statistics rows than 0.4.
    assert.ok(new Set(picks.map(({ c }) => c.truncation)).size >= 5);
    // No leaks in the worker either: the live tensor count is the same after every batch.
    const after1 = engine.tensorsAfterLastBatch;
    await engine.generate({ size: 1, z: z.subarray(0, 128), classVector: cv.subarray(0, 1000), truncation: [0.3] });
    assert.equal(engine.tensorsAfterLastBatch, after1);
    // The service's event loop keeps turning while the worker computes.
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    await engine.generate({ size: picks.length, z, classVector: cv, truncation: picks.map(({ c }) => c.truncation) });
    clearInterval(timer);
    assert.ok(ticks >= 3, `event loop ticked ${ticks} times during a batch`);
  } finally {
    await engine.dispose();
  }
});
