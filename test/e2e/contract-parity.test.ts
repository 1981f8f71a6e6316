// One contract for both transports: the same bad request gets the same code and the same message
// over REST and gRPC (gRPC names fields as the .proto does: `class` -> `classes[0]`,
// `timeoutMs` -> `timeout_ms`), and every refusal is counted exactly once in
// biggan_rejections_total{reason="invalid"}.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { createStack, type Stack } from '../helpers/stack.js';
import {
  createGrpcServer,
  createGeneratorClient,
  type GrpcServer,
  type GeneratorClient,
} from '../../src/transport/grpc/server.js';
import { protoFieldPath } from '../../src/transport/grpc/codec.js';
import type { GenerateRequestInput, InterpolateRequestInput } from '../../src/transport/grpc/proto.js';

let s: Stack;
let server: GrpcServer;
let client: GeneratorClient;
before(async () => {
  s = await createStack({ maxBatchSize: 4, maxQueueDelayMs: 1, maxQueueSize: 32 }, 16);
  server = createGrpcServer(s.requests, s.catalog, {
    maxConnectionAgeMs: 60_000,
    maxConnectionAgeGraceMs: 1_000,
    metrics: s.metrics,
  });
  client = createGeneratorClient(`127.0.0.1:${await server.start('127.0.0.1', 0)}`);
});
after(async () => {
  client.close();
  await server.shutdown(500);
  await s.app.close();
});

const z = (at: number, value: number) => Array.from({ length: 128 }, (_, i) => (i === at ? value : 0));

/** [name, REST body, gRPC message, REST field] for Generate. */
const GENERATE_CASES: [string, Record<string, unknown>, GenerateRequestInput][] = [
  ['truncation above 1', { class: 207, truncation: 2 }, { classes: [{ index: 207 }], truncation: 2 }],
  ['unknown format', { class: 207, format: 'bmp' }, { classes: [{ index: 207 }], format: 'bmp' }],
  [
    'a long format is quoted cut short',
    { class: 207, format: 'x'.repeat(5000) },
    { classes: [{ index: 207 }], format: 'x'.repeat(5000) },
  ],
  ['count above the per-request limit', { class: 207, count: 17 }, { classes: [{ index: 207 }], count: 17 }],
  ['misspelt class name', { class: 'golden retreiver' }, { classes: [{ name: 'golden retreiver' }] }],
  ['class index out of range', { class: 1000 }, { classes: [{ index: 1000 }] }],
  ['negative mixture weight', { class: { '207': -1 } }, { classes: [{ mixture: { weights: { '207': -1 } } }] }],
  ['|z| above the bound', { z: [z(5, 1000)], class: 1 }, { z: z(5, 1000), classes: [{ index: 1 }] }],
  ['timeout above the limit', { class: 207, timeoutMs: 700_000 }, { classes: [{ index: 207 }], timeoutMs: 700_000 }],
  ['seed and z together', { class: 207, seed: 3, z: [z(0, 0)] }, { classes: [{ index: 207 }], seed: 3, z: z(0, 0) }],
  ['no class', { seed: 3 }, { seed: 3 }],
];

const INTERPOLATE_CASES: [string, Record<string, unknown>, InterpolateRequestInput][] = [
  [
    'one frame',
    { from: { seed: 1, class: 1 }, to: { seed: 2, class: 2 }, frames: 1 },
    { from: { seed: 1, class: { index: 1 } }, to: { seed: 2, class: { index: 2 } }, frames: 1 },
  ],
  ['missing endpoint', { to: { seed: 2, class: 2 } }, { to: { seed: 2, class: { index: 2 } } }],
  [
    'endpoint without a class',
    { from: { seed: 1 }, to: { seed: 2, class: 2 } },
    { from: { seed: 1 }, to: { seed: 2, class: { index: 2 } } },
  ],
  [
    'truncation 0',
    { from: { seed: 1, class: 1 }, to: { seed: 2, class: 2 }, truncation: 1.5 },
    { from: { seed: 1, class: { index: 1 } }, to: { seed: 2, class: { index: 2 } }, truncation: 1.5 },
  ],
];

async function invalidCount(): Promise<number> {
  const text = await s.metrics.registry.metrics();
  // Summed over the other labels (model).
  let sum = 0;
  for (const m of text.matchAll(/^biggan_rejections_total\{[^}]*reason="invalid"[^}]*\} (\d+)/gm)) sum += Number(m[1]);
  return sum;
}

function grpcGenerate(req: GenerateRequestInput): Promise<grpc.ServiceError> {
  return new Promise((resolve, reject) =>
    client.Generate(req, (err) => (err ? resolve(err) : reject(new Error('succeeded')))),
  );
}

function grpcInterpolate(req: InterpolateRequestInput): Promise<grpc.ServiceError> {
  return new Promise((resolve, reject) => {
    const call = client.Interpolate(req);
    call.on('data', () => undefined);
    call.on('error', resolve);
    call.on('end', () => reject(new Error('succeeded')));
  });
}

async function compare(
  name: string,
  url: string,
  body: unknown,
  grpcCall: () => Promise<grpc.ServiceError>,
  rpc: 'generate' | 'interpolate',
  singleClass: boolean,
): Promise<void> {
  let before = await invalidCount();
  const res = await s.app.inject({ method: 'POST', url, payload: body as object });
  assert.equal(res.statusCode, 400, `${name}: REST status`);
  const rest = (res.json() as { error: { code: string; message: string; field: string } }).error;
  assert.equal(rest.code, 'INVALID_ARGUMENT', name);
  assert.ok(rest.message.length < 300, `${name}: message is short (${rest.message.length})`);
  assert.equal(await invalidCount(), before + 1, `${name}: REST refusal counted once`);

  before = await invalidCount();
  const err = await grpcCall();
  assert.equal(err.code, grpc.status.INVALID_ARGUMENT, `${name}: gRPC status (${err.details})`);
  const field = protoFieldPath(rest.field, rpc, singleClass);
  const expected = rest.message.startsWith(`${rest.field}:`)
    ? `${field}:${rest.message.slice(rest.field.length + 1)}`
    : rest.message;
  assert.equal(err.details, expected, `${name}: same message over both transports`);
  assert.equal(await invalidCount(), before + 1, `${name}: gRPC refusal counted once`);
}

for (const [name, body, message] of GENERATE_CASES) {
  test(`Generate parity: ${name}`, () =>
    compare(name, '/generate', body, () => grpcGenerate(message), 'generate', (message.classes?.length ?? 0) === 1));
}
for (const [name, body, message] of INTERPOLATE_CASES) {
  test(`Interpolate parity: ${name}`, () =>
    compare(name, '/interpolate', body, () => grpcInterpolate(message), 'interpolate', false));
}

test('malformed JSON and unknown fields are refusals too, counted once', async () => {
  const before = await invalidCount();
  const bad = await s.app.inject({
    method: 'POST',
    url: '/generate',
    headers: { 'content-type': 'application/json' },
    payload: '{"class": 2',
  });
  assert.equal(bad.statusCode, 400);
  const extra = await s.app.inject({ method: 'POST', url: '/generate', payload: { class: 2, colour: 'red' } });
  assert.equal(extra.statusCode, 400);
  assert.match(
    (extra.json() as { error: { message: string } }).error.message,
    /^colour: unknown field; allowed fields: class, /,
  );
  assert.equal(await invalidCount(), before + 2);
});
