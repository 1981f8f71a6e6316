/**
 * inference.GRPCInferenceService on the real server's gRPC port, called by clients built from our
 * proto and from the specification's canonical proto: the same answers; raw and typed tensors
 * give the PNGs and pixels of POST /generate; bad tensors INVALID_ARGUMENT naming the tensor;
 * unknown model NOT_FOUND; health lists both services and reflection describes both; answers
 * above the send limit and requests above the receive limit are refused with a clear status.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { service as healthServiceDefinition } from 'grpc-health-check';
import type { RunningServer } from '../../../src/server/start.js';
import {
  MODEL,
  bytesElements,
  canonicalProtoPath,
  generatePngs,
  le,
  oipClient,
  rgbOf,
  startOipServer,
  type OipClient,
} from './harness.js';

let server: RunningServer;
let base: string;
let ours: OipClient;
let canonical: OipClient;

before(async () => {
  server = await startOipServer();
  base = `http://127.0.0.1:${server.httpPort}`;
  const address = `127.0.0.1:${server.grpcPort}`;
  ours = oipClient(path.resolve('proto/inference/open_inference_grpc.proto'), address);
  canonical = oipClient(canonicalProtoPath(), address);
});
after(async () => {
  ours.close();
  canonical.close();
  await server.stop();
});

type OutTensor = {
  name: string;
  datatype: string;
  shape: string[];
  contents: { uint_contents: number[]; bytes_contents: Buffer[] } | null;
};

test('probes and metadata answer the same to clients of both protos', async () => {
  for (const client of [ours, canonical]) {
    assert.deepEqual((await client.call('ServerLive', {})).res, { live: true });
    assert.deepEqual((await client.call('ServerReady', {})).res, { ready: true });
    const meta = (await client.call('ServerMetadata', {})).res as { name: string; extensions: string[] };
    assert.equal(meta.name, 'biggan-serve');
    assert.ok(meta.extensions.includes('binary_tensor_data'));
    assert.deepEqual((await client.call('ModelReady', { name: MODEL })).res, { ready: true });
    const m = (await client.call('ModelMetadata', { name: MODEL, version: '1' })).res as {
      name: string;
      versions: string[];
      inputs: { name: string; datatype: string; shape: string[] }[];
    };
    assert.equal(m.name, MODEL);
    assert.deepEqual(m.versions, ['1']);
    assert.deepEqual(
      m.inputs.find((i) => i.name === 'class_vector'),
      { name: 'class_vector', datatype: 'FP32', shape: ['-1', '1000'] },
    );
    for (const method of ['ModelReady', 'ModelMetadata']) {
      assert.equal((await client.call(method, { name: 'nope' })).err?.code, grpc.status.NOT_FOUND, method);
    }
    const infer = await client.call('ModelInfer', { model_name: 'nope', inputs: [] });
    assert.equal(infer.err?.code, grpc.status.NOT_FOUND);
  }
});

test('raw tensors (as tritonclient sends them): PNGs and pixels equal to POST /generate, FP32 truncation 0.4', async () => {
  const want = await generatePngs(base, { seed: 21, count: 2, class: [3, 4], truncation: 0.4 });
  for (const client of [ours, canonical]) {
    const { res, err } = await client.call('ModelInfer', {
      model_name: MODEL,
      id: 'g-1',
      inputs: [
        { name: 'seed', datatype: 'INT64', shape: [2] },
        { name: 'class_index', datatype: 'INT32', shape: [2] },
        { name: 'truncation', datatype: 'FP32', shape: [1] },
      ],
      raw_input_contents: [le.int64([21, 22]), le.int32([3, 4]), le.fp32([0.4])],
    });
    assert.equal(err, undefined, err?.details);
    const r = res as { id: string; outputs: OutTensor[]; raw_output_contents: Buffer[] };
    assert.equal(r.id, 'g-1');
    assert.deepEqual(
      r.outputs.map((o) => [o.name, o.datatype, o.shape]),
      [
        ['image', 'UINT8', ['2', '128', '128', '3']],
        ['png', 'BYTES', ['2']],
      ],
    );
    assert.deepEqual(r.raw_output_contents[0], Buffer.concat([await rgbOf(want[0]), await rgbOf(want[1])]));
    assert.deepEqual(bytesElements(r.raw_output_contents[1]), want);
  }
});

test('typed contents in, typed contents out (UINT8 in uint_contents, BYTES in bytes_contents); only the outputs asked for', async () => {
  const want = await generatePngs(base, { seed: 30, class: 9, truncation: 0.6 });
  const { res, err } = await canonical.call('ModelInfer', {
    model_name: MODEL,
    model_version: '1',
    inputs: [
      { name: 'seed', datatype: 'INT64', shape: [1], contents: { int64_contents: ['30'] } },
      { name: 'class_index', datatype: 'INT64', shape: [1], contents: { int64_contents: ['9'] } },
      { name: 'truncation', datatype: 'FP32', shape: [1], contents: { fp32_contents: [0.6] } },
    ],
    outputs: [{ name: 'image' }],
  });
  assert.equal(err, undefined, err?.details);
  const r = res as { outputs: OutTensor[]; raw_output_contents: Buffer[] };
  assert.deepEqual(
    r.outputs.map((o) => o.name),
    ['image'],
  );
  assert.equal(r.raw_output_contents.length, 0);
  assert.deepEqual(Buffer.from(r.outputs[0].contents!.uint_contents), await rgbOf(want[0]));
  const png = await ours.call('ModelInfer', {
    model_name: MODEL,
    inputs: [
      { name: 'seed', datatype: 'INT64', shape: [1], contents: { int64_contents: ['30'] } },
      { name: 'class_index', datatype: 'INT32', shape: [1], contents: { int_contents: [9] } },
      { name: 'truncation', datatype: 'FP32', shape: [1], contents: { fp32_contents: [0.6] } },
    ],
    outputs: [{ name: 'png' }],
  });
  assert.deepEqual((png.res as { outputs: OutTensor[] }).outputs[0].contents!.bytes_contents, want);
});

test('bad tensors: INVALID_ARGUMENT naming the tensor', async () => {
  const seed = { name: 'seed', datatype: 'INT64', shape: [1], contents: { int64_contents: ['1'] } };
  const cls = { name: 'class_index', datatype: 'INT32', shape: [1], contents: { int_contents: [1] } };
  const cases: [object, RegExp][] = [
    [{ inputs: [seed] }, /class_index or class_vector is required/],
    [
      { inputs: [seed, { ...cls, contents: { int_contents: [1000] } }] },
      /class_index\[0\]: must be a class index 0-999/,
    ],
    [
      { inputs: [{ ...seed, datatype: 'FP32', contents: { fp32_contents: [1] } }, cls] },
      /seed: datatype must be INT64/,
    ],
    [
      {
        inputs: [
          { name: 'z', datatype: 'FP32', shape: [1, 127], contents: { fp32_contents: new Array(127).fill(0) } },
          cls,
        ],
      },
      /z: shape must be \[N, 128\]/,
    ],
    [{ inputs: [seed, cls], raw_input_contents: [le.int64([1])] }, /raw_input_contents: must hold one entry per input/],
    [
      {
        inputs: [
          { ...seed, contents: null },
          { ...cls, contents: null },
        ],
        raw_input_contents: [le.int64([1]).subarray(0, 5), le.int32([1])],
      },
      /not a whole number of INT64 elements/,
    ],
  ];
  for (const [req, message] of cases) {
    const { err } = await canonical.call('ModelInfer', { model_name: MODEL, ...req });
    assert.equal(err?.code, grpc.status.INVALID_ARGUMENT, JSON.stringify(req).slice(0, 120));
    assert.match(err.details, message);
  }
});

test('health reports both services SERVING; reflection lists both', async () => {
  const Health = grpc.makeGenericClientConstructor(healthServiceDefinition as grpc.ServiceDefinition, 'Health');
  const health = new Health(`127.0.0.1:${server.grpcPort}`, grpc.credentials.createInsecure());
  const check = (service: string) =>
    new Promise<string | undefined>((resolve, reject) =>
      (health.Check.bind(health) as (r: object, cb: (e: Error | null, r?: { status: string }) => void) => void)(
        { service },
        (e, r) => (e ? reject(e) : resolve(r?.status)),
      ),
    );
  assert.equal(await check('inference.GRPCInferenceService'), 'SERVING');
  assert.equal(await check('biggan.v1.Generator'), 'SERVING');
  health.close();

  const reflectionProto = path.resolve(
    'node_modules/@grpc/reflection/build/proto/grpc/reflection/v1alpha/reflection.proto',
  );
  const def = protoLoader.loadSync(reflectionProto, { keepCase: true });
  const Reflection = grpc.makeGenericClientConstructor(
    def['grpc.reflection.v1alpha.ServerReflection'] as grpc.ServiceDefinition,
    'ServerReflection',
  );
  const reflection = new Reflection(`127.0.0.1:${server.grpcPort}`, grpc.credentials.createInsecure());
  const stream = (
    reflection.ServerReflectionInfo as () => grpc.ClientDuplexStream<
      object,
      { list_services_response?: { service: { name: string }[] } }
    >
  ).call(reflection);
  const names = await new Promise<string[]>((resolve, reject) => {
    stream.on('data', (r: { list_services_response?: { service: { name: string }[] } }) =>
      resolve(r.list_services_response?.service.map((s) => s.name) ?? []),
    );
    stream.on('error', reject);
    stream.write({ list_services: '' });
  });
  stream.cancel();
  reflection.close();
  assert.ok(names.includes('inference.GRPCInferenceService'), names.join(', '));
  assert.ok(names.includes('biggan.v1.Generator'), names.join(', '));
});

test('message limits: an answer above --grpc-max-send-message-bytes and a request above --grpc-max-receive-message-bytes are refused clearly', async () => {
  const small = await startOipServer([
    '--grpc-max-send-message-bytes',
    String(64 * 1024 + 90_000),
    '--grpc-max-receive-message-bytes',
    '2048',
  ]);
  const client = oipClient(canonicalProtoPath(), `127.0.0.1:${small.grpcPort}`);
  try {
    const seed = { name: 'seed', datatype: 'INT64', shape: [2], contents: { int64_contents: ['1', '2'] } };
    const cls = { name: 'class_index', datatype: 'INT32', shape: [2], contents: { int_contents: [1, 2] } };
    const big = await client.call('ModelInfer', {
      model_name: MODEL,
      inputs: [seed, cls],
      outputs: [{ name: 'image' }],
    });
    assert.equal(big.err?.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(big.err.details, /98304 bytes, above the gRPC send limit \(--grpc-max-send-message-bytes/);
    const one = await client.call('ModelInfer', {
      model_name: MODEL,
      inputs: [
        { ...seed, shape: [1], contents: { int64_contents: ['1'] } },
        { ...cls, shape: [1], contents: { int_contents: [1] } },
      ],
      outputs: [{ name: 'image' }],
    });
    assert.equal(one.err, undefined, 'one 128x128 image (49152 bytes) fits');
    const cv = {
      name: 'class_vector',
      datatype: 'FP32',
      shape: [1, 1000],
      contents: { fp32_contents: new Array(1000).fill(0.001) },
    };
    const tooBig = await client.call('ModelInfer', {
      model_name: MODEL,
      inputs: [{ ...seed, shape: [1], contents: { int64_contents: ['1'] } }, cv],
    });
    assert.equal(tooBig.err?.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(tooBig.err.details, /larger than max/);
  } finally {
    client.close();
    await small.stop();
  }
});

test('metrics count OIP gRPC calls by method, status and model', async () => {
  const text = await (await fetch(`${base}/metrics`)).text();
  const lines = text
    .split('\n')
    .filter((l) => l.startsWith('biggan_requests_total{') && l.includes('route="oip.ModelInfer"'));
  assert.ok(
    lines.some((l) => l.includes('status="OK"') && l.includes(`model="${MODEL}"`) && l.includes('transport="grpc"')),
    lines.join('\n'),
  );
  assert.ok(
    lines.some((l) => l.includes('status="INVALID_ARGUMENT"')),
    lines.join('\n'),
  );
});
