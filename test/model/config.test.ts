import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  presetConfig,
  parseConfig,
  parameterCount,
  expectedStateDict,
  modulePlan,
  configToJson,
  macsPerImage,
  stateDictElementCount,
} from '../../src/model/config.js';
import { BigGanError } from '../../src/errors.js';

const fixtureConfig = () =>
  JSON.parse(readFileSync(path.join(process.cwd(), 'test/fixtures/tiny-128/config.json'), 'utf8'));

test('parameter counts of the published presets come from the config alone', () => {
  const before = process.memoryUsage().arrayBuffers;
  assert.equal(parameterCount(presetConfig('biggan-deep-128')), 50_388_609);
  assert.equal(parameterCount(presetConfig('biggan-deep-256')), 55_880_833);
  assert.equal(parameterCount(presetConfig('biggan-deep-512')), 56_163_905);
  // Counting allocates no weights: far less than one 200 MB model's worth of buffers.
  assert.ok(process.memoryUsage().arrayBuffers - before < 10 * 2 ** 20);
});

test('state_dict sizes match the published dumps (201.0 / 223.4 / 224.7 MiB) and key counts', () => {
  const mib = (n: number) => Math.round(((n * 4) / 2 ** 20) * 10) / 10;
  assert.equal(mib(stateDictElementCount(presetConfig('biggan-deep-128'))), 201.0);
  assert.equal(mib(stateDictElementCount(presetConfig('biggan-deep-256'))), 223.4);
  assert.equal(mib(stateDictElementCount(presetConfig('biggan-deep-512'))), 224.7);
  assert.equal(expectedStateDict(presetConfig('biggan-deep-128')).size, 506);
  assert.equal(expectedStateDict(presetConfig('biggan-deep-256')).size, 602);
  assert.equal(expectedStateDict(presetConfig('biggan-deep-512')).size, 698);
});

test('the fixture config parses and counts 1,437,129 parameters', () => {
  const c = parseConfig(fixtureConfig());
  assert.equal(c.channelWidth, 8);
  assert.equal(c.outputDim, 128);
  assert.equal(parameterCount(c), 1_437_129);
  assert.equal(configToJson(c), readFileSync(path.join(process.cwd(), 'test/fixtures/tiny-128/config.json'), 'utf8'));
});

test('module plan inserts attention before config layer 8 (module 8) at 64x64 with 2ch channels', () => {
  const plan = modulePlan(presetConfig('biggan-deep-128'));
  assert.equal(plan.length, 11);
  assert.deepEqual(plan[8], { kind: 'attention', module: 8, channels: 256, res: 64 });
  assert.deepEqual(plan[3], { kind: 'block', module: 3, inC: 2048, midC: 512, outC: 1024, upsample: true, inRes: 8 });
  const p256 = modulePlan(presetConfig('biggan-deep-256'));
  assert.equal(p256.length, 13);
  assert.deepEqual(
    p256.find((m) => m.kind === 'attention'),
    { kind: 'attention', module: 8, channels: 512, res: 64 },
  );
  assert.equal(modulePlan(presetConfig('biggan-deep-512')).length, 15);
});

test('expected keys follow the reference names and shapes', () => {
  const sd = expectedStateDict(presetConfig('biggan-deep-128'));
  assert.deepEqual(sd.get('generator.gen_z.weight_orig')?.shape, [32768, 256]);
  assert.deepEqual(sd.get('generator.layers.3.conv_1.weight_v')?.shape, [9 * 512]);
  assert.deepEqual(sd.get('generator.layers.8.snconv1x1_g.weight_orig')?.shape, [128, 256, 1, 1]);
  assert.deepEqual(sd.get('generator.layers.10.conv_3.weight_orig')?.shape, [128, 64, 1, 1]);
  assert.equal(sd.get('generator.bn.running_means')?.role, 'buffer');
  assert.equal(sd.get('generator.layers.8.gamma')?.role, 'parameter');
  assert.equal(sd.has('generator.layers.8.snconv1x1_g.bias'), false);
});

test('FLOPs per image of the 128 model with 3 kept rgb channels is about 17.9 GFLOP', () => {
  const gflop = (2 * macsPerImage(presetConfig('biggan-deep-128'))) / 1e9;
  assert.ok(gflop > 17.8 && gflop < 18.0, `got ${gflop}`);
});

test('invalid configs are refused with the field named', () => {
  const bad = (patch: Record<string, unknown>, field: RegExp) => {
    assert.throws(
      () => parseConfig({ ...fixtureConfig(), ...patch }),
      (e: unknown) => e instanceof BigGanError && e.code === 'INVALID_CONFIG' && field.test(e.message),
    );
  };
  bad({ z_dim: 0 }, /z_dim/);
  bad({ layers: [] }, /layers/);
  bad(
    {
      layers: [
        [false, 16, 16],
        [true, 8, 8],
      ],
    },
    /layers\[1\]/,
  );
  bad({ attention_layer_position: 99 }, /attention_layer_position/);
  bad({ eps: -1 }, /eps/);
  bad({ output_dim: 256 }, /output_dim/);
  assert.throws(() => parseConfig('nope'), /JSON object/);
});
