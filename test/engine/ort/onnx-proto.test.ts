/**
 * The hand-rolled ONNX encoder: byte-level header, and ONNX Runtime loading and running small
 * graphs that use every field kind the generator needs (INT, INTS, FLOAT, STRING attributes,
 * FLOAT and INT64 initializers, chunked raw data, negative int64s, symbolic dimensions).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { encodeModel, attr, type OnnxGraph } from '../../../src/engine/ort/onnx-proto.js';

async function run(graph: OnnxGraph, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(encodeModel(graph), { graphOptimizationLevel: 'disabled' });
  try {
    return (await session.run(feeds)) as Record<string, ort.Tensor>;
  } finally {
    await session.release();
  }
}

test('ModelProto starts with ir_version 8 and the producer name', () => {
  const bytes = encodeModel({ name: 'g', nodes: [], initializers: [], inputs: [], outputs: [] });
  // field 1 (varint) = 8, then field 2 (length-delimited) = "biggan-serve"
  assert.deepEqual([...bytes.subarray(0, 4)], [0x08, 0x08, 0x12, 12]);
  assert.equal(new TextDecoder().decode(bytes.subarray(4, 16)), 'biggan-serve');
});

test('Add, Reshape (negative int64) and Conv (INTS pads) run with the expected values', async () => {
  const out = await run(
    {
      name: 'g',
      nodes: [
        { opType: 'Add', inputs: ['x', 'c'], outputs: ['y'] },
        { opType: 'Reshape', inputs: ['y', 'shape'], outputs: ['r'] },
        {
          opType: 'Conv',
          inputs: ['r', 'w'],
          outputs: ['out'],
          attributes: [attr.ints('pads', [1, 1, 1, 1]), attr.int('group', 1)],
        },
      ],
      initializers: [
        { name: 'c', dims: [3], data: new Float32Array([1, 2, 3]) },
        { name: 'shape', dims: [4], data: new BigInt64Array([-1n, 1n, 1n, 3n]) },
        // a horizontal 3-tap sum, written as two chunks
        { name: 'w', dims: [1, 1, 3, 3], data: [new Float32Array([0, 0, 0, 1]), new Float32Array([1, 1, 0, 0, 0])] },
      ],
      inputs: [{ name: 'x', elemType: 'float', shape: ['batch', 3] }],
      outputs: [{ name: 'out', elemType: 'float', shape: ['batch', 1, 1, 3] }],
    },
    { x: new ort.Tensor('float32', new Float32Array([1, 1, 1, 2, 2, 2]), [2, 3]) },
  );
  assert.deepEqual(out.out.dims, [2, 1, 1, 3]);
  // x + c = [2, 3, 4] and [3, 4, 5]; zero-padded 3-tap sums
  assert.deepEqual([...(out.out.data as Float32Array)], [5, 9, 7, 7, 12, 9]);
});

test('FLOAT and STRING attributes reach the operator', async () => {
  const out = await run(
    {
      name: 'g',
      nodes: [
        { opType: 'LeakyRelu', inputs: ['x'], outputs: ['l'], attributes: [attr.float('alpha', 0.25)] },
        {
          opType: 'Resize',
          inputs: ['l', '', 'scales'],
          outputs: ['y'],
          attributes: [
            attr.string('mode', 'nearest'),
            attr.string('coordinate_transformation_mode', 'asymmetric'),
            attr.string('nearest_mode', 'floor'),
          ],
        },
      ],
      initializers: [{ name: 'scales', dims: [4], data: new Float32Array([1, 1, 2, 2]) }],
      inputs: [{ name: 'x', elemType: 'float', shape: [1, 1, 1, 2] }],
      outputs: [{ name: 'y', elemType: 'float', shape: [1, 1, 2, 4] }],
    },
    { x: new ort.Tensor('float32', new Float32Array([-4, 3]), [1, 1, 1, 2]) },
  );
  assert.deepEqual([...(out.y.data as Float32Array)], [-1, -1, 3, 3, -1, -1, 3, 3]);
});

test('symbolic dimensions are declared as dim_param', async () => {
  const bytes = encodeModel({
    name: 'g',
    nodes: [{ opType: 'Identity', inputs: ['x'], outputs: ['y'] }],
    initializers: [],
    inputs: [{ name: 'x', elemType: 'float', shape: ['batch', 5] }],
    outputs: [{ name: 'y', elemType: 'float', shape: ['batch', 5] }],
  });
  const session = await ort.InferenceSession.create(bytes);
  try {
    const meta = session.inputMetadata[0];
    assert.ok(meta.isTensor);
    assert.deepEqual(meta.isTensor ? meta.shape : [], ['batch', 5]);
  } finally {
    await session.release();
  }
});

test('a tensor whose dims do not match its data is refused', () => {
  assert.throws(
    () =>
      encodeModel({
        name: 'g',
        nodes: [],
        initializers: [{ name: 't', dims: [2, 2], data: new Float32Array(3) }],
        inputs: [],
        outputs: [],
      }),
    /tensor t: dims \[2, 2\] hold 4 values, data has 3/,
  );
});
