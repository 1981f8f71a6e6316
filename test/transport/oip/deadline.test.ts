/**
 * Deadlines and cancellation on the Open Inference Protocol, as on /generate: with the engine
 * held, a gRPC ModelInfer whose deadline passes gets DEADLINE_EXCEEDED, a REST infer whose
 * X-Request-Timeout passes gets 504, and a REST client that goes away has its samples dropped;
 * none of those samples is computed once the engine is released.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import type { RunningServer } from '../../../src/server/start.js';
import { createEngine } from '../../../src/engine/create-engine.js';
import { GatedEngine } from '../../helpers/stack.js';
import { MODEL, canonicalProtoPath, oipClient, startOipServer, type OipClient } from './harness.js';

let server: RunningServer;
let engine: GatedEngine;
let client: OipClient;
let base: string;

before(async () => {
  server = await startOipServer([], {
    logger: false,
    createEngine: async (folded, opts) => (engine = new GatedEngine(await createEngine(folded, opts))),
  });
  base = `http://127.0.0.1:${server.httpPort}`;
  client = oipClient(canonicalProtoPath(), `127.0.0.1:${server.grpcPort}`);
});
after(async () => {
  engine.release();
  client.close();
  await server.stop();
});

const inputs = (seed: number, n: number) => [
  { name: 'seed', datatype: 'INT64', shape: [n], data: Array.from({ length: n }, (_, i) => seed + i) },
  { name: 'class_index', datatype: 'INT32', shape: [n], data: new Array<number>(n).fill(3) },
];

test('a passed gRPC deadline, a passed X-Request-Timeout and a client that left: nothing of theirs is computed', async () => {
  const before = engine.samplesRun;
  engine.hold();
  // One sample occupies the engine (held); the calls below queue behind it.
  const blocker = fetch(`${base}/v2/models/${MODEL}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: inputs(500, 1), outputs: [{ name: 'png' }] }),
  });
  await new Promise((r) => setTimeout(r, 200));
  // gRPC: the call's deadline bounds it.
  const typed = (seed: number) => [
    { name: 'seed', datatype: 'INT64', shape: [2], contents: { int64_contents: [String(seed), String(seed + 1)] } },
    { name: 'class_index', datatype: 'INT32', shape: [2], contents: { int_contents: [3, 3] } },
  ];
  const grpcCall = await client.call('ModelInfer', { model_name: MODEL, inputs: typed(1000) }, new grpc.Metadata(), {
    deadline: Date.now() + 300,
  });
  assert.equal(grpcCall.err?.code, grpc.status.DEADLINE_EXCEEDED);
  // REST: X-Request-Timeout bounds the time in the queue.
  const timed = await fetch(`${base}/v2/models/${MODEL}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-timeout': '300' },
    body: JSON.stringify({ inputs: inputs(2000, 2), outputs: [{ name: 'png' }] }),
  });
  assert.equal(timed.status, 504);
  assert.match(((await timed.json()) as { error: string }).error, /./);
  // REST: a client that goes away.
  const controller = new AbortController();
  const left = fetch(`${base}/v2/models/${MODEL}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: inputs(3000, 2), outputs: [{ name: 'png' }] }),
    signal: controller.signal,
  }).catch((e: unknown) => e);
  await new Promise((r) => setTimeout(r, 200));
  controller.abort();
  await left;
  engine.release();
  assert.equal((await blocker).status, 200);
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(engine.samplesRun - before, 1, 'only the blocker was computed');
});
