/**
 * The ort engine against the tiny-128 reference fixture: every case within 1e-4, a batch mixing
 * all six cases (different truncations) equal to the per-case outputs, the plain (unoptimised)
 * graph forms, serialised concurrent calls, input checks, provider fallback and dispose.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { loadModel } from '../../../src/model/load-model.js';
import type { FoldedGenerator } from '../../../src/model/folded-weights.js';
import { createOrtEngine, ortAvailable, type OrtEngine } from '../../../src/engine/ort/ort-engine.js';
import { buildOnnxModel, ONNX_IO } from '../../../src/engine/ort/graph-builder.js';
import { statWeights } from '../../../src/model/batch-norm-stats.js';
import { BigGanError } from '../../../src/errors.js';
import { FIXTURE_DIR, CASE_NAMES, loadCase, maxAbsDiffNchwNhwc, type FixtureCase } from '../../helpers/fixtures.js';

let folded: FoldedGenerator;
let engine: OrtEngine;
let cases: FixtureCase[];

before(async () => {
  folded = (await loadModel(FIXTURE_DIR)).folded;
  engine = await createOrtEngine(folded, { threads: 2, executionProvider: 'cpu' });
  cases = CASE_NAMES.map(loadCase);
});
after(async () => {
  await engine.dispose();
});

test('ortAvailable: onnxruntime-node loads and creates a session here', async () => {
  assert.equal(await ortAvailable(), true);
});

test('the engine reports its name, provider, threads, worker mode and startup times', () => {
  assert.equal(engine.name, 'ort');
  assert.equal(engine.backend, 'cpu');
  assert.equal(engine.threads, 2);
  assert.equal(engine.inWorker, true);
  assert.equal(engine.config.outputDim, 128);
  assert.ok(engine.startup.buildMs > 0 && engine.startup.sessionMs > 0);
});

test('all six fixture cases within 1e-4 (NHWC output vs NCHW reference)', async () => {
  assert.equal(cases.length, 6);
  for (const c of cases) {
    const out = await engine.generate({
      size: c.batch,
      z: c.z,
      classVector: c.classVector,
      truncation: Array(c.batch).fill(c.truncation),
    });
    assert.deepEqual([out.size, out.height, out.width], [c.batch, c.height, c.width]);
    assert.equal(out.data.length, c.batch * c.height * c.width * 3);
    const diff = maxAbsDiffNchwNhwc(c.output, out.data, c.batch, c.height, c.width);
    assert.ok(diff < 1e-4, `${c.name}: max abs diff ${diff}`);
  }
});

test('one batch mixing all six cases (six truncations) equals the per-case references', async () => {
  const size = cases.reduce((a, c) => a + c.batch, 0);
  const z = new Float32Array(size * 128);
  const classVector = new Float32Array(size * 1000);
  const truncation: number[] = [];
  // Interleave samples so that neighbours in the batch have different truncations.
  const order = cases
    .flatMap((c, ci) => Array.from({ length: c.batch }, (_, i) => ({ ci, i })))
    .sort((a, b) => a.i - b.i || a.ci - b.ci);
  order.forEach(({ ci, i }, b) => {
    const c = cases[ci];
    z.set(c.z.subarray(i * 128, (i + 1) * 128), b * 128);
    classVector.set(c.classVector.subarray(i * 1000, (i + 1) * 1000), b * 1000);
    truncation.push(c.truncation);
  });
  assert.ok(new Set(truncation).size === 6);
  const out = await engine.generate({ size, z, classVector, truncation });
  const px = 128 * 128 * 3;
  order.forEach(({ ci, i }, b) => {
    const c = cases[ci];
    const ref = c.output.subarray(i * 3 * 128 * 128, (i + 1) * 3 * 128 * 128);
    const diff = maxAbsDiffNchwNhwc(ref, out.data.subarray(b * px, (b + 1) * px), 1, 128, 128);
    assert.ok(diff < 1e-4, `${c.name} sample ${i} at batch position ${b}: max abs diff ${diff}`);
  });
});

test('the plain graph forms (Resize + 3x3, direct to_rgb, one attention chunk, no layout hints) compute the same images', async () => {
  const plain = { upsampleConv: 'resize', toRgb: 'direct', attentionChunks: 1, blockedLayoutHints: false } as const;
  const session = await ort.InferenceSession.create(buildOnnxModel(folded, plain), { intraOpNumThreads: 2 });
  try {
    for (const name of ['offgrid-0.545', 'mix-offgrid-0.55']) {
      const c = cases.find((x) => x.name === name)!;
      const res = await session.run({
        [ONNX_IO.z]: new ort.Tensor('float32', c.z, [c.batch, 128]),
        [ONNX_IO.classVector]: new ort.Tensor('float32', c.classVector, [c.batch, 1000]),
        [ONNX_IO.statWeights]: new ort.Tensor('float32', statWeights(Array(c.batch).fill(c.truncation), 51), [
          c.batch,
          51,
        ]),
      });
      const diff = maxAbsDiffNchwNhwc(c.output, res[ONNX_IO.image].data as Float32Array, c.batch, 128, 128);
      assert.ok(diff < 1e-4, `${name}: max abs diff ${diff}`);
    }
  } finally {
    await session.release();
  }
});

test('a run in the worker leaves the event loop free; the in-thread mode computes the same images', async () => {
  const c = cases.find((x) => x.name === 'interp')!;
  const batch = { size: c.batch, z: c.z, classVector: c.classVector, truncation: Array(c.batch).fill(c.truncation) };
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  const started = performance.now();
  const out = await engine.generate(batch);
  const ms = performance.now() - started;
  clearInterval(timer);
  // A blocked loop would fire the interval at most once or twice during the whole run.
  assert.ok(ticks >= Math.min(5, ms / 20), `${ticks} timer ticks during a ${ms.toFixed(0)} ms run`);
  assert.ok(maxAbsDiffNchwNhwc(c.output, out.data, c.batch, 128, 128) < 1e-4);

  const inThread = await createOrtEngine(folded, { threads: 2, executionProvider: 'cpu', worker: false });
  try {
    assert.equal(inThread.inWorker, false);
    const o2 = await inThread.generate(batch);
    assert.ok(maxAbsDiffNchwNhwc(c.output, o2.data, c.batch, 128, 128) < 1e-4);
  } finally {
    await inThread.dispose();
  }
});

test('concurrent generate calls are serialised and each gets its own result', async () => {
  const [a, b] = [cases.find((c) => c.name === 'trunc-1.0')!, cases.find((c) => c.name === 'fpgrid-0.58')!];
  const batchOf = (c: FixtureCase) => ({
    size: c.batch,
    z: c.z,
    classVector: c.classVector,
    truncation: Array(c.batch).fill(c.truncation),
  });
  const [oa, ob, oa2] = await Promise.all([
    engine.generate(batchOf(a)),
    engine.generate(batchOf(b)),
    engine.generate(batchOf(a)),
  ]);
  assert.ok(maxAbsDiffNchwNhwc(a.output, oa.data, a.batch, 128, 128) < 1e-4);
  assert.ok(maxAbsDiffNchwNhwc(b.output, ob.data, b.batch, 128, 128) < 1e-4);
  assert.deepEqual(oa2.data, oa.data);
  assert.notEqual(oa2.data, oa.data); // separate buffers: a caller may keep its result
});

test('bad inputs: wrong lengths are INTERNAL, a truncation out of (0, 1] is INVALID_ARGUMENT', async () => {
  const c = cases[0];
  await assert.rejects(
    engine.generate({ size: 2, z: new Float32Array(128), classVector: new Float32Array(2000), truncation: [0.4, 0.4] }),
    (e: unknown) =>
      e instanceof BigGanError && e.code === 'INTERNAL' && /z has 128 values, expected 2 x 128/.test(e.message),
  );
  await assert.rejects(
    engine.generate({
      size: 1,
      z: c.z.subarray(0, 128),
      classVector: c.classVector.subarray(0, 1000),
      truncation: [0],
    }),
    (e: unknown) => e instanceof BigGanError && e.code === 'INVALID_ARGUMENT',
  );
  // The engine still works after failed calls.
  const ok = await engine.generate({
    size: 1,
    z: c.z.subarray(0, 128),
    classVector: c.classVector.subarray(0, 1000),
    truncation: [c.truncation],
  });
  assert.equal(ok.size, 1);
});

test('explicit cuda without the provider library or GPU is INVALID_CONFIG; dispose makes generate UNAVAILABLE', async () => {
  const probes = { providerLibraries: () => ['onnxruntime_binding.node'], gpuVisible: () => false };
  await assert.rejects(
    createOrtEngine(folded, { executionProvider: 'cuda', probes }),
    (e: unknown) => e instanceof BigGanError && e.code === 'INVALID_CONFIG',
  );
  const e2 = await createOrtEngine(folded, { threads: 1, executionProvider: 'cpu' });
  await e2.dispose();
  await e2.dispose(); // idempotent
  const c = cases[0];
  await assert.rejects(
    e2.generate({ size: 1, z: c.z.subarray(0, 128), classVector: c.classVector.subarray(0, 1000), truncation: [0.4] }),
    (e: unknown) => e instanceof BigGanError && e.code === 'UNAVAILABLE',
  );
});

test('auto falls back to CPU with a warning when the GPU session cannot be created', async () => {
  // Fake probes claim CUDA is installed and a GPU is visible; the real package has no CUDA
  // provider, so creating the CUDA session fails and the engine must fall back.
  const warnings: string[] = [];
  const probes = { providerLibraries: () => ['libonnxruntime_providers_cuda.so'], gpuVisible: () => true };
  const e = await createOrtEngine(folded, {
    threads: 1,
    executionProvider: 'auto',
    probes,
    warn: (m) => warnings.push(m),
  });
  try {
    assert.equal(e.backend, 'cpu');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /the cuda execution provider failed \(.+\); falling back to cpu/);
  } finally {
    await e.dispose();
  }
});
