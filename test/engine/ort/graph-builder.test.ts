/**
 * The optimised graph forms (sub-pixel upsampling convolutions, split-tap conv_to_rgb, attention
 * chunks, layout hints) against the plain forms on the 256 and 512 layouts, and the graph's
 * interface. Random weights explode through the blocks, so the test damps the batch-norm
 * variances until the outputs are mostly unsaturated and differences are visible.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { presetConfig, type PresetName } from '../../../src/model/config.js';
import { randomStateDict } from '../../../src/model/random-weights.js';
import { foldGenerator } from '../../../src/model/folded-weights.js';
import { statWeights } from '../../../src/model/batch-norm-stats.js';
import { buildOnnxModel, ONNX_IO, type GraphOptions } from '../../../src/engine/ort/graph-builder.js';

const PLAIN: GraphOptions = { upsampleConv: 'resize', toRgb: 'direct', attentionChunks: 1, blockedLayoutHints: false };

async function render(
  bytes: Uint8Array,
  truncations: number[],
): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const B = truncations.length;
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 2 });
  try {
    const classVector = new Float32Array(B * 1000);
    truncations.forEach((_, b) => (classVector[b * 1000 + 7 + b * 100] = 1));
    const out = await session.run({
      [ONNX_IO.z]: new ort.Tensor(
        'float32',
        new Float32Array(B * 128).map((_, i) => 0.4 * Math.sin(i)),
        [B, 128],
      ),
      [ONNX_IO.classVector]: new ort.Tensor('float32', classVector, [B, 1000]),
      [ONNX_IO.statWeights]: new ort.Tensor('float32', statWeights(truncations, 51), [B, 51]),
    });
    return { data: out[ONNX_IO.image].data as Float32Array, dims: out[ONNX_IO.image].dims };
  } finally {
    await session.release();
  }
}

for (const name of ['biggan-deep-256', 'biggan-deep-512'] as PresetName[]) {
  test(`${name} (width 8): the optimised graph equals the plain graph within 1e-4`, async () => {
    const config = presetConfig(name, 8);
    const sd = randomStateDict(config, 3);
    for (const [key, t] of sd) if (key.endsWith('.running_vars')) t.data.forEach((v, i, a) => (a[i] = v * 33));
    const folded = foldGenerator(config, sd);
    const fast = await render(buildOnnxModel(folded), [0.4, 0.545]);
    const plain = await render(buildOnnxModel(folded, PLAIN), [0.4, 0.545]);
    const R = config.outputDim;
    assert.deepEqual(fast.dims, [2, R, R, 3]);
    let diff = 0;
    let saturated = 0;
    for (let i = 0; i < plain.data.length; i++) {
      diff = Math.max(diff, Math.abs(fast.data[i] - plain.data[i]));
      if (Math.abs(plain.data[i]) > 0.99) saturated++;
    }
    assert.ok(
      saturated / plain.data.length < 0.5,
      `the comparison needs unsaturated outputs (${saturated} of ${plain.data.length} saturated)`,
    );
    assert.ok(diff < 1e-4, `max abs diff ${diff}`);
  });
}

test('the graph declares z, class_vector, stat_weights -> image with a symbolic batch', async () => {
  const config = presetConfig('biggan-deep-128', 8);
  const bytes = buildOnnxModel(foldGenerator(config, randomStateDict(config, 1)));
  const session = await ort.InferenceSession.create(bytes);
  try {
    assert.deepEqual(session.inputNames, [ONNX_IO.z, ONNX_IO.classVector, ONNX_IO.statWeights]);
    assert.deepEqual(session.outputNames, [ONNX_IO.image]);
    const shapes = session.inputMetadata.map((m) => (m.isTensor ? m.shape : []));
    assert.deepEqual(shapes, [
      ['batch', 128],
      ['batch', 1000],
      ['batch', 51],
    ]);
    const out = session.outputMetadata[0];
    assert.deepEqual(out.isTensor ? out.shape : [], ['batch', 128, 128, 3]);
  } finally {
    await session.release();
  }
});
