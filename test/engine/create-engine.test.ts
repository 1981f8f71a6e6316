/** createEngine when onnxruntime-node cannot load: auto falls back loudly, an explicit ort refuses. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine } from '../../src/engine/create-engine.js';
import { loadModel } from '../../src/model/load-model.js';
import { BigGanError } from '../../src/errors.js';
import { FIXTURE_DIR } from '../helpers/fixtures.js';

const ortBroken = async (): Promise<string> => 'simulated: libonnxruntime.so not found';

test('auto: falls back to tfjs with a warning that names the reason, keeping a tfjs --backend', async () => {
  const warnings: string[] = [];
  const engine = await createEngine((await loadModel(FIXTURE_DIR)).folded, {
    engine: 'auto',
    backend: 'cpu',
    ortUnusable: ortBroken,
    warn: (m) => warnings.push(m),
  });
  try {
    assert.equal(engine.name, 'tfjs');
    assert.equal(engine.backend, 'cpu');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /libonnxruntime\.so not found/);
    assert.match(warnings[0], /falling back to the tfjs engine/);
  } finally {
    await engine.dispose();
  }
});

test('an explicit --engine ort fails instead of falling back', async () => {
  const warnings: string[] = [];
  await assert.rejects(
    createEngine((await loadModel(FIXTURE_DIR)).folded, {
      engine: 'ort',
      ortUnusable: ortBroken,
      warn: (m) => warnings.push(m),
    }),
    (err: unknown) =>
      err instanceof BigGanError &&
      err.code === 'INVALID_CONFIG' &&
      /--engine ort/.test(err.message) &&
      /libonnxruntime/.test(err.message),
  );
  assert.deepEqual(warnings, []);
});
