/**
 * The Open Inference Protocol over REST on the real server (tiny fixture): every answer checked
 * against the schemas written from the specification; pixels and PNGs equal to POST /generate for
 * JSON and binary requests (tritonclient's form: no Content-Type, Inference-Header-Content-Length);
 * FP32 truncation 0.4 picking the same statistics as REST's 0.4; only the outputs asked for;
 * bad tensors 400 naming the tensor; unknown model or version 404.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { parseServerConfig } from '../../../src/config/server-config.js';
import { startServer, type RunningServer } from '../../../src/server/start.js';
import { FIXTURE_DIR } from '../../helpers/fixtures.js';
import { tempDir } from '../../helpers/access.js';
import {
  InferResponseSchema,
  LiveResponseSchema,
  ModelMetadataSchema,
  ModelReadyResponseSchema,
  OipErrorSchema,
  ServerMetadataSchema,
} from '../../../src/transport/oip/schemas.js';
import {
  MODEL,
  assertSchema,
  binaryBody,
  bytesElements,
  generatePngs,
  le,
  rgbOf,
  splitAnswer,
  startOipServer,
} from './harness.js';

let server: RunningServer;
let base: string;

before(async () => {
  server = await startOipServer();
  base = `http://127.0.0.1:${server.httpPort}`;
});
after(() => server.stop());

const infer = (body: object, path = `/v2/models/${MODEL}/infer`) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

type Output = {
  name: string;
  datatype: string;
  shape: number[];
  data?: (number | string)[];
  parameters?: Record<string, number>;
};

test('health, server metadata, model metadata and readiness answer as the schemas say', async () => {
  const live = await fetch(`${base}/v2/health/live`);
  assert.equal(live.status, 200);
  assertSchema(LiveResponseSchema, await live.json(), 'live');
  const ready = await fetch(`${base}/v2/health/ready`);
  assert.equal(ready.status, 200);
  assert.deepEqual(await ready.json(), { ready: true });
  const meta = (await (await fetch(`${base}/v2`)).json()) as { extensions: string[] };
  assertSchema(ServerMetadataSchema, meta, 'server metadata');
  assert.ok(meta.extensions.includes('binary_tensor_data'));
  for (const path of [`/v2/models/${MODEL}`, `/v2/models/${MODEL}/versions/1`]) {
    const res = await fetch(`${base}${path}`);
    assert.equal(res.status, 200);
    const m = (await res.json()) as {
      name: string;
      inputs: { name: string; shape: number[] }[];
      outputs: { name: string; datatype: string; shape: number[] }[];
    };
    assertSchema(ModelMetadataSchema, m, path);
    assert.equal(m.name, MODEL);
    assert.deepEqual(m.inputs.find((i) => i.name === 'z')?.shape, [-1, 128]);
    assert.deepEqual(
      m.outputs.find((o) => o.name === 'image'),
      { name: 'image', datatype: 'UINT8', shape: [-1, 128, 128, 3] },
    );
    const r = await fetch(`${base}${path}/ready`);
    assert.equal(r.status, 200);
    assertSchema(ModelReadyResponseSchema, await r.json(), `${path}/ready`);
  }
});

test('unknown model or version: 404 {"error": "..."} listing what is served', async () => {
  for (const path of ['/v2/models/nope', '/v2/models/nope/ready', `/v2/models/${MODEL}/versions/7`]) {
    const res = await fetch(`${base}${path}`);
    assert.equal(res.status, 404, path);
    const body = (await res.json()) as { error: string };
    assertSchema(OipErrorSchema, body, path);
    assert.match(body.error, path.includes('versions') ? /version/ : new RegExp(MODEL));
  }
  const res = await infer(
    { inputs: [{ name: 'seed', datatype: 'INT64', shape: [1], data: [1] }] },
    '/v2/models/nope/infer',
  );
  assert.equal(res.status, 404);
  assertSchema(OipErrorSchema, await res.json(), 'infer on an unknown model');
});

test('JSON infer: seeds, classes and an FP32 truncation of 0.4 give the PNGs and pixels of POST /generate; id echoed', async () => {
  const res = await infer({
    id: 'req-1',
    inputs: [
      { name: 'seed', datatype: 'INT64', shape: [2], data: [7, 8] },
      { name: 'class_index', datatype: 'INT32', shape: [2], data: [1, 207] },
      // 0.4 as float32 (0.4000000059604645): read as the shortest decimal, 0.4, as the gRPC codec does.
      { name: 'truncation', datatype: 'FP32', shape: [1], data: [Math.fround(0.4)] },
    ],
  });
  assert.equal(res.status, 200, await res.clone().text());
  const body = (await res.json()) as { id: string; model_name: string; outputs: Output[] };
  assertSchema(InferResponseSchema, body, 'infer answer');
  assert.equal(body.id, 'req-1');
  assert.equal(body.model_name, MODEL);
  const want = await generatePngs(base, { seed: 7, count: 2, class: [1, 207], truncation: 0.4 });
  const png = body.outputs.find((o) => o.name === 'png')!;
  assert.deepEqual(png.shape, [2]);
  assert.deepEqual(
    png.data!.map((d) => Buffer.from(d as string, 'base64')),
    want,
  );
  const image = body.outputs.find((o) => o.name === 'image')!;
  assert.deepEqual(image.shape, [2, 128, 128, 3]);
  assert.deepEqual(Buffer.from(image.data as number[]), Buffer.concat([await rgbOf(want[0]), await rgbOf(want[1])]));
  // The float32 reading matters: 0.4000000059604645 taken as it is picks other statistics.
  const off = await generatePngs(base, { seed: 7, class: 1, truncation: 0.4000000059604645 });
  assert.notDeepEqual(off[0], want[0], 'a truncation just off 0.4 gives another image');
});

test('binary infer without a Content-Type (as tritonclient sends): nested z rows, class vectors, binary outputs', async () => {
  const z = [
    Array.from({ length: 128 }, (_, i) => ((i % 17) - 8) / 8),
    Array.from({ length: 128 }, (_, i) => ((i % 5) - 2) / 4),
  ];
  const cv = [new Array<number>(1000).fill(0), new Array<number>(1000).fill(0)];
  cv[0][3] = 1;
  cv[1][9] = 0.5;
  cv[1][10] = 0.5;
  const { body, headerLength } = binaryBody(
    {
      inputs: [
        { name: 'z', datatype: 'FP32', shape: [2, 128], parameters: { binary_data_size: 2 * 128 * 4 } },
        { name: 'class_vector', datatype: 'FP32', shape: [2, 1000], data: cv },
        { name: 'truncation', datatype: 'FP32', shape: [2], parameters: { binary_data_size: 8 } },
      ],
      outputs: [
        { name: 'image', parameters: { binary_data: true } },
        { name: 'png', parameters: { binary_data: true } },
      ],
    },
    [le.fp32(z.flat()), le.fp32([0.5, 0.5])],
  );
  const res = await fetch(`${base}/v2/models/${MODEL}/infer`, {
    method: 'POST',
    headers: { 'Inference-Header-Content-Length': String(headerLength) },
    body,
  });
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal(res.headers.get('content-type'), 'application/octet-stream');
  const n = Number(res.headers.get('inference-header-content-length'));
  const { header, rest } = splitAnswer(Buffer.from(await res.arrayBuffer()), n);
  assertSchema(InferResponseSchema, header, 'binary answer header');
  const outputs = header.outputs as Output[];
  assert.equal(outputs[0].name, 'image');
  assert.equal(outputs[0].data, undefined, 'binary outputs carry no JSON data');
  const imageBytes = outputs[0].parameters!.binary_data_size;
  assert.equal(imageBytes, 2 * 128 * 128 * 3);
  const pngs = bytesElements(rest.subarray(imageBytes));
  assert.equal(rest.length, imageBytes + outputs[1].parameters!.binary_data_size);
  const want = await generatePngs(base, { z, classVector: cv, truncation: 0.5 });
  assert.deepEqual(pngs, want);
  assert.deepEqual(rest.subarray(0, imageBytes), Buffer.concat([await rgbOf(want[0]), await rgbOf(want[1])]));
});

test('binary seeds (INT64) that are not consecutive, per-sample truncation, and only the outputs asked for', async () => {
  const { body, headerLength } = binaryBody(
    {
      parameters: { binary_data_output: true },
      inputs: [
        { name: 'seed', datatype: 'INT64', shape: [3], parameters: { binary_data_size: 24 } },
        { name: 'class_index', datatype: 'INT64', shape: [3], parameters: { binary_data_size: 24 } },
        { name: 'truncation', datatype: 'FP32', shape: [3], parameters: { binary_data_size: 12 } },
      ],
      outputs: [{ name: 'png' }],
    },
    [le.int64([11, 12, 40]), le.int64([5, 5, 6]), le.fp32([0.4, 0.7, 0.7])],
  );
  const res = await fetch(`${base}/v2/models/${MODEL}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', 'Inference-Header-Content-Length': String(headerLength) },
    body,
  });
  assert.equal(res.status, 200, await res.clone().text());
  const { header, rest } = splitAnswer(
    Buffer.from(await res.arrayBuffer()),
    Number(res.headers.get('inference-header-content-length')),
  );
  const outputs = header.outputs as Output[];
  assert.deepEqual(
    outputs.map((o) => o.name),
    ['png'],
    'only png was asked for',
  );
  const want = [
    ...(await generatePngs(base, { seed: 11, class: 5, truncation: 0.4 })),
    ...(await generatePngs(base, { seed: 12, class: 5, truncation: 0.7 })),
    ...(await generatePngs(base, { seed: 40, class: 6, truncation: 0.7 })),
  ];
  assert.deepEqual(bytesElements(rest), want);
});

test('bad tensors: 400 {"error"} naming the tensor and what was expected', async () => {
  const seed = { name: 'seed', datatype: 'INT64', shape: [1], data: [1] };
  const cls = { name: 'class_index', datatype: 'INT32', shape: [1], data: [1] };
  const cases: [object, RegExp][] = [
    [{ inputs: [seed] }, /class_index or class_vector is required/],
    [{ inputs: [{ ...seed, datatype: 'FP32' }, cls] }, /seed: datatype must be INT64/],
    [{ inputs: [{ ...seed, shape: [1, 1] }, cls] }, /seed: shape must be \[N\]/],
    [{ inputs: [seed, { ...cls, data: [1000] }] }, /class_index\[0\]: must be a class index 0-999/],
    [
      { inputs: [{ name: 'z', datatype: 'FP32', shape: [1, 128], data: new Array(128).fill(101) }, cls] },
      /z\[0\]\[0\].*\|z\| <= 100/,
    ],
    [
      {
        inputs: [
          { ...seed, shape: [17], data: new Array(17).fill(1) },
          { ...cls, shape: [17], data: new Array(17).fill(1) },
        ],
      },
      /at most 16 per request/,
    ],
    [{ inputs: [{ ...seed, shape: [2] }, cls] }, /holds 2 elements, but 1 were sent/],
    [
      { inputs: [seed, cls, { name: 'truncation', datatype: 'FP32', shape: [1], data: [0] }] },
      /truncation\[0\]: must be 0 < t <= 1/,
    ],
    [{ inputs: [seed, cls], outputs: [{ name: 'logits' }] }, /outputs\[0\]\.name: must be one of image, png/],
    [{ inputs: [seed, cls, { name: 'noise', datatype: 'FP32', shape: [1], data: [1] }] }, /noise: is not an input/],
    [{ inputs: [{ ...seed, datatype: 'INT65' }, cls] }, /datatype: must be one of/],
  ];
  for (const [body, message] of cases) {
    const res = await infer(body);
    assert.equal(res.status, 400, JSON.stringify(body).slice(0, 100));
    const err = (await res.json()) as { error: string };
    assertSchema(OipErrorSchema, err, 'error');
    assert.match(err.error, message);
  }
  // A binary_data_size past the body's end.
  const { body, headerLength } = binaryBody(
    { inputs: [{ ...seed, data: undefined, parameters: { binary_data_size: 16 } }, cls] },
    [le.int64([1])],
  );
  const res = await fetch(`${base}/v2/models/${MODEL}/infer`, {
    method: 'POST',
    headers: { 'Inference-Header-Content-Length': String(headerLength) },
    body,
  });
  assert.equal(res.status, 400);
  assert.match(((await res.json()) as { error: string }).error, /binary_data_size/);
});

test('metrics count OIP requests under their route', async () => {
  const text = await (await fetch(`${base}/metrics`)).text();
  assert.match(text, /biggan_requests_total\{[^}]*route="\/v2\/models\/:name\/infer"[^}]*status="200"/);
});

test('the model label of an infer request is the model its URL names, for answers and refusals', async () => {
  // Two models (the fixture under two names): the label must follow the URL, not the default model.
  const dir = tempDir('biggan-oip-label-');
  const repo = path.join(dir, 'repo');
  mkdirSync(repo);
  for (const name of ['first', 'second']) symlinkSync(FIXTURE_DIR, path.join(repo, name));
  const argv = ['--model-repository', repo, '--default-model', 'first', '--host', '127.0.0.1', '--http-port', '0'];
  const { config } = parseServerConfig([...argv, '--grpc-port', '-1', '--max-batch-size', '4', '--threads', '1'], {});
  const two = await startServer(config, { logger: false });
  try {
    const url = `http://127.0.0.1:${two.httpPort}/v2/models/second/infer`;
    const post = (inputs: object[]) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs }) });
    const seed = { name: 'seed', datatype: 'INT64', shape: [1], data: [3] };
    assert.equal((await post([seed, { name: 'class_index', datatype: 'INT32', shape: [1], data: [1] }])).status, 200);
    assert.equal((await post([seed])).status, 400);
    const text = await (await fetch(`http://127.0.0.1:${two.httpPort}/metrics`)).text();
    const lines = (name: string, labels: string[]) =>
      text.split('\n').filter((l) => l.startsWith(`${name}{`) && labels.every((x) => l.includes(x)));
    const route = 'route="/v2/models/:name/infer"';
    assert.equal(lines('biggan_requests_total', [route, 'status="200"', 'model="second"']).length, 1, text);
    assert.equal(lines('biggan_requests_total', [route, 'model="first"']).length, 0, 'never the default model');
    assert.equal(lines('biggan_rejections_total', ['reason="invalid"', 'model="second"']).length, 1);
  } finally {
    await two.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
