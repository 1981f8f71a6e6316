/**
 * On a GPU the CPU heuristics step aside: the per-model default keeps the flag's batch size (a 512
 * model asked for 32 gets 32, not 8), activations count against GPU memory and not against the
 * host --memory-budget (512 at batch 32: ~21 GiB of activations that would otherwise refuse the
 * model under a normal container limit), and the GPU estimate is checked against GPU 0's memory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  estimateModelMemory,
  gpuMemoryWarnings,
  GPU_OVERHEAD_BYTES,
  MODEL_OVERHEAD_BYTES,
} from '../../../src/service/repository/memory.js';
import { defaultServing } from '../../../src/service/repository/model-source.js';
import { parameterCount, presetConfig } from '../../../src/model/config.js';
import { expectedDevice } from '../../../src/engine/device.js';
import { gpuMemoryBytes } from '../../../src/engine/gpu.js';
import { CUDA_LIBRARY } from '../../../src/engine/ort/execution-provider.js';

const GiB = 2 ** 30;
const MiB = 2 ** 20;

test('defaultServing: resolution scaling on cpu only; on gpu the flags stand', () => {
  const base = { maxBatchSize: 32, maxQueueDelayMs: 5, maxQueueSize: 256 };
  assert.deepEqual(
    [128, 256, 512].map((r) => defaultServing(r, base, 'cpu').maxBatchSize),
    [32, 16, 8],
  );
  assert.deepEqual(
    [128, 256, 512].map((r) => defaultServing(r, base, 'gpu').maxBatchSize),
    [32, 32, 32],
  );
  assert.deepEqual(defaultServing(512, base, 'gpu'), base);
});

test('estimate on gpu: host memory holds weights and overhead only, GPU memory the activations', () => {
  const c = presetConfig('biggan-deep-512');
  const cpu = estimateModelMemory(c, 32, 'cpu');
  const gpu = estimateModelMemory(c, 32, 'gpu');
  assert.ok(
    cpu.totalBytes > 16 * GiB,
    `cpu: 512 at batch 32 counts its activations on the host (${cpu.totalBytes / GiB} GiB)`,
  );
  assert.equal(cpu.gpuBytes, undefined);
  assert.equal(gpu.activationBytes, cpu.activationBytes, 'the same activations, elsewhere');
  assert.equal(gpu.totalBytes, gpu.weightsBytes + MODEL_OVERHEAD_BYTES);
  assert.ok(gpu.totalBytes < 1 * GiB, `gpu: host side under 1 GiB (${gpu.totalBytes / GiB} GiB)`);
  assert.equal(gpu.gpuBytes, parameterCount(c) * 4 + gpu.activationBytes + GPU_OVERHEAD_BYTES);
  assert.ok(gpu.gpuBytes! > 16 * GiB && gpu.gpuBytes! < 40 * GiB, 'fits an 80 GB GPU');
});

test('gpuMemoryWarnings: a model or a set of models over GPU 0 is named; nothing when unknown or on cpu', () => {
  const m = (name: string, gpuMiB?: number) => ({
    name,
    memory: {
      weightsBytes: 0,
      activationBytes: 0,
      totalBytes: 0,
      ...(gpuMiB !== undefined ? { gpuBytes: gpuMiB * MiB } : {}),
    },
  });
  assert.deepEqual(gpuMemoryWarnings([m('a', 100)], undefined), []);
  assert.deepEqual(gpuMemoryWarnings([m('a')], 10 * MiB), []);
  assert.deepEqual(gpuMemoryWarnings([m('a', 500), m('b', 400)], 1000 * MiB), []);
  const one = gpuMemoryWarnings([m('big', 2000)], 1000 * MiB);
  assert.equal(one.length, 1);
  assert.match(
    one[0],
    /model big needs an estimated 1\.95 GiB of GPU memory, more than GPU 0 has \(1000 MiB\); lower its maxBatchSize/,
  );
  const together = gpuMemoryWarnings([m('a', 600), m('b', 600)], 1000 * MiB);
  assert.deepEqual(together.length, 1);
  assert.match(together[0], /the 2 models need an estimated 1\.17 GiB of GPU memory together/);
});

test('gpuMemoryBytes reads nvidia-smi (MiB) and is undefined when it cannot', () => {
  assert.equal(
    gpuMemoryBytes(() => '81559\n'),
    81559 * MiB,
  );
  assert.equal(
    gpuMemoryBytes(() => '81559\n81559\n'),
    81559 * MiB,
    'GPU 0 only',
  );
  assert.equal(
    gpuMemoryBytes(() => 'N/A'),
    undefined,
  );
  assert.equal(
    gpuMemoryBytes(() => {
      throw new Error('nvidia-smi: not found');
    }),
    undefined,
  );
});

test('expectedDevice: explicit GPU backends, auto with the provider and a GPU, else cpu', () => {
  const probes = (libs: string[], gpu: boolean) => ({ providerLibraries: () => libs, gpuVisible: () => gpu });
  const installed = ['libonnxruntime.so.1', CUDA_LIBRARY];
  assert.equal(expectedDevice('ort', 'cuda', probes([], false)), 'gpu');
  assert.equal(expectedDevice('auto', 'tensorrt', probes([], false)), 'gpu');
  assert.equal(expectedDevice('ort', 'cpu', probes(installed, true)), 'cpu');
  assert.equal(expectedDevice('auto', undefined, probes(installed, true)), 'gpu');
  assert.equal(expectedDevice('ort', undefined, probes(installed, false)), 'cpu');
  assert.equal(expectedDevice('auto', undefined, probes(['libonnxruntime.so.1'], true)), 'cpu');
  // tfjs-node-gpu does not install here, so tfjs stays on the cpu even with a GPU visible.
  assert.equal(expectedDevice('tfjs', undefined, probes([], true)), 'cpu');
  assert.equal(expectedDevice('tfjs', 'wasm', probes([], true)), 'cpu');
});
