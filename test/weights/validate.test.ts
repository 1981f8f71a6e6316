import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BigGanError } from '../../src/errors.js';
import { expectedStateDict, presetConfig } from '../../src/model/config.js';
import { randomStateDict } from '../../src/model/random-weights.js';
import { validateStateDict } from '../../src/weights/validate.js';
import { validateWeights } from '../../src/model/load-model.js';

const config = presetConfig('biggan-deep-128', 8);

test('a complete state_dict of the right shapes passes', () => {
  assert.doesNotThrow(() =>
    validateStateDict(expectedStateDict(config), randomStateDict(config, 1), 'weights', 'config.json'),
  );
  assert.doesNotThrow(() => validateWeights(config, randomStateDict(config, 1)));
});

test('one error lists every missing, unexpected and mis-shaped key', () => {
  const sd = randomStateDict(config, 2);
  sd.delete('embeddings.weight');
  sd.delete('generator.layers.8.gamma');
  sd.set('generator.extra', { shape: [1], data: new Float32Array(1) });
  sd.set('module.generator.bn.weight', { shape: [8], data: new Float32Array(8) });
  sd.set('generator.bn.bias', { shape: [7], data: new Float32Array(7) });
  sd.set('generator.layers.0.conv_0.weight_orig', { shape: [32, 128], data: new Float32Array(32 * 128) });
  assert.throws(
    () => validateWeights(config, sd, 'model.bin'),
    (e: unknown) => {
      assert.ok(e instanceof BigGanError && e.code === 'INVALID_WEIGHTS');
      assert.match(
        e.message,
        /^model\.bin: the weights do not match config\.json \(channel_width 8, 10 layers, 128 px\)/,
      );
      assert.match(e.message, /2 missing keys: embeddings\.weight, generator\.layers\.8\.gamma/);
      assert.match(e.message, /2 unexpected keys: generator\.extra, module\.generator\.bn\.weight/);
      assert.match(
        e.message,
        /2 keys with the wrong shape: .*generator\.layers\.0\.conv_0\.weight_orig \(expected \[32, 128, 1, 1\], got \[32, 128\]\)/,
      );
      assert.match(e.message, /generator\.bn\.bias \(expected \[8\], got \[7\]\)/);
      return true;
    },
  );
});

test('NaN and Inf are rejected, naming each key and the first bad element', () => {
  const sd = randomStateDict(config, 3);
  (sd.get('generator.gen_z.bias') as { data: Float32Array }).data[5] = NaN;
  (sd.get('generator.bn.running_vars') as { data: Float32Array }).data[0] = -Infinity;
  assert.throws(
    () => validateStateDict(expectedStateDict(config), sd, 'w', 'x'),
    /w: the weights do not match x:[^]*2 tensors with NaN or Inf: generator\.gen_z\.bias \(element 5 is NaN\), generator\.bn\.running_vars \(element 0 is -Infinity\)/,
  );
});
