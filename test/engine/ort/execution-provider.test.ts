/**
 * The execution-provider decision, with fake machine probes: library present or not, GPU
 * visible or not, and every user choice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  planExecutionProvider,
  systemProbes,
  CUDA_LIBRARY,
  TENSORRT_LIBRARY,
  type ExecutionProviderProbes,
} from '../../../src/engine/ort/execution-provider.js';
import { BigGanError } from '../../../src/errors.js';

const BASE = ['libonnxruntime.so.1', 'onnxruntime_binding.node'];

function probes(libs: string[], gpu: boolean): ExecutionProviderProbes & { gpuProbed: number } {
  const p = {
    gpuProbed: 0,
    providerLibraries: () => libs,
    gpuVisible: () => {
      p.gpuProbed++;
      return gpu;
    },
  };
  return p;
}

const providers = (plan: ReturnType<typeof planExecutionProvider>) => plan.attempts.map((a) => a.provider);

test('auto: CPU when the CUDA provider library is not installed (and the GPU is not even probed)', () => {
  const p = probes(BASE, true);
  const plan = planExecutionProvider('auto', p);
  assert.deepEqual(providers(plan), ['cpu']);
  assert.match(plan.reason, /no libonnxruntime_providers_cuda\.so/);
  assert.equal(p.gpuProbed, 0);
});

test('auto: CPU when the library is installed but no GPU is visible', () => {
  const plan = planExecutionProvider('auto', probes([...BASE, CUDA_LIBRARY], false));
  assert.deepEqual(providers(plan), ['cpu']);
  assert.match(plan.reason, /no NVIDIA GPU/);
});

test('auto: CUDA first, CPU as the fallback, when the library is installed and a GPU is visible', () => {
  const plan = planExecutionProvider('auto', probes([...BASE, CUDA_LIBRARY, TENSORRT_LIBRARY], true));
  assert.deepEqual(providers(plan), ['cuda', 'cpu']);
  assert.deepEqual(plan.attempts[0].ortProviders, ['cuda', 'cpu']);
});

test('explicit cpu never probes anything', () => {
  const p = probes([], true);
  assert.deepEqual(providers(planExecutionProvider('cpu', p)), ['cpu']);
  assert.equal(p.gpuProbed, 0);
});

test('explicit cuda without the library is INVALID_CONFIG naming the install switch', () => {
  assert.throws(
    () => planExecutionProvider('cuda', probes(BASE, true)),
    (e: unknown) =>
      e instanceof BigGanError &&
      e.code === 'INVALID_CONFIG' &&
      /ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci/.test(e.message) &&
      /cuDNN 9/.test(e.message),
  );
});

test('explicit cuda without a GPU is INVALID_CONFIG; with both it is CUDA only (no silent fallback)', () => {
  assert.throws(
    () => planExecutionProvider('cuda', probes([...BASE, CUDA_LIBRARY], false)),
    (e: unknown) => e instanceof BigGanError && e.code === 'INVALID_CONFIG' && /no NVIDIA GPU/.test(e.message),
  );
  const plan = planExecutionProvider('cuda', probes([...BASE, CUDA_LIBRARY], true));
  assert.deepEqual(providers(plan), ['cuda']);
});

test('explicit tensorrt needs its own library and passes tensorrt, cuda, cpu to ORT', () => {
  assert.throws(
    () => planExecutionProvider('tensorrt', probes([...BASE, CUDA_LIBRARY], true)),
    /libonnxruntime_providers_tensorrt\.so/,
  );
  const plan = planExecutionProvider('tensorrt', probes([...BASE, CUDA_LIBRARY, TENSORRT_LIBRARY], true));
  assert.deepEqual(plan.attempts[0].ortProviders, ['tensorrt', 'cuda', 'cpu']);
});

test('an unknown choice is INVALID_CONFIG listing the allowed values', () => {
  assert.throws(
    () => planExecutionProvider('rocm' as never, probes([], false)),
    /unknown ONNX Runtime execution provider 'rocm'; allowed: auto, cpu, cuda, tensorrt/,
  );
});

test('the system probes read the installed package', () => {
  const libs = systemProbes.providerLibraries();
  assert.ok(libs.includes('onnxruntime_binding.node'), `bin folder lists ${libs.join(', ')}`);
  assert.equal(typeof systemProbes.gpuVisible(), 'boolean');
});
