/**
 * Chaos through the real service: a real server process (run with --unhandled-rejections=strict)
 * on the tiny fixture, whose engine fails or stalls on command. For every computing route and
 * every stage a request can be in, the client going away, a deadline passing and the engine
 * failing must leave the server alive and answering, the queue empty, and give whoever still
 * listens the right status. Also: consecutive engine failures make the server unready until a
 * probe succeeds, and a dead engine worker answers 503 and is restarted.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { ChaosServer } from '../helpers/chaos-harness.js';
import { createGeneratorClient, type GeneratorClient } from '../../src/transport/grpc/proto.js';

/** Samples per engine call: 8-sample requests take two batches. */
const BATCH = 4;
/** Queue budget of the deadline cells (timeoutMs / gRPC deadline), ms. */
const DEADLINE_MS = 300;
const FAILURE_THRESHOLD = 3;

type Stage = 'queued' | 'running' | 'encoding' | 'writing';
type Fault = 'client-gone' | 'deadline' | 'engine-fail';
/** HTTP status, gRPC status name, or `aborted` (the client itself gave up). */
type Outcome = number | string;

interface SendOptions {
  readonly signal: AbortSignal;
  readonly deadlineMs?: number;
  /** Called when the answer starts arriving (HTTP headers, gRPC metadata or first frame). */
  readonly onWriting?: () => void;
}

interface Route {
  readonly name: string;
  readonly transport: 'http' | 'grpc';
  /** Engine calls the request takes. */
  readonly batches: number;
  send(o: SendOptions): Promise<Outcome>;
}

let server: ChaosServer;
let client: GeneratorClient;

async function http(pathname: string, body: object, o: SendOptions): Promise<Outcome> {
  const payload = o.deadlineMs !== undefined ? { ...body, timeoutMs: o.deadlineMs } : body;
  try {
    const res = await fetch(`${server.base}${pathname}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload),
      signal: o.signal,
    });
    o.onWriting?.();
    await res.arrayBuffer();
    return res.status;
  } catch (err) {
    if (o.signal.aborted) return 'aborted';
    throw err;
  }
}

function grpcOptions(o: SendOptions): Partial<grpc.CallOptions> {
  return o.deadlineMs !== undefined ? { deadline: Date.now() + o.deadlineMs } : {};
}

const statusName = (code: number): string => grpc.status[code] ?? String(code);

const ends = { from: { seed: 1, class: 1 }, to: { seed: 2, class: 2 }, frames: 2 * BATCH };
const grpcEnds = {
  from: { seed: '1', class: { index: 1 } },
  to: { seed: '2', class: { index: 2 } },
  frames: 2 * BATCH,
};

const ROUTES: Route[] = [
  {
    name: 'POST /generate (one image)',
    transport: 'http',
    batches: 1,
    send: (o) => http('/generate', { class: 1, seed: 1 }, o),
  },
  {
    name: 'POST /generate (count 8, JSON)',
    transport: 'http',
    batches: 2,
    send: (o) => http('/generate', { class: 1, seed: 1, count: 2 * BATCH }, o),
  },
  {
    name: 'POST /generate (count 8, grid)',
    transport: 'http',
    batches: 2,
    send: (o) => http('/generate', { class: 1, seed: 1, count: 2 * BATCH, grid: true }, o),
  },
  {
    name: 'POST /interpolate (gif)',
    transport: 'http',
    batches: 2,
    send: (o) => http('/interpolate', { ...ends, format: 'gif' }, o),
  },
  {
    name: 'POST /interpolate (webp)',
    transport: 'http',
    batches: 2,
    send: (o) => http('/interpolate', { ...ends, format: 'webp' }, o),
  },
  {
    name: 'POST /interpolate (png frames, JSON)',
    transport: 'http',
    batches: 2,
    send: (o) => http('/interpolate', { ...ends, format: 'png' }, o),
  },
  {
    name: 'POST /interpolate (png grid)',
    transport: 'http',
    batches: 2,
    send: (o) => http('/interpolate', { ...ends, format: 'png', grid: true }, o),
  },
  {
    name: 'gRPC Generate (count 8)',
    transport: 'grpc',
    batches: 2,
    send: (o) =>
      new Promise((resolve) => {
        const call = client.Generate(
          { classes: [{ index: 1 }], seed: '1', count: 2 * BATCH },
          new grpc.Metadata(),
          grpcOptions(o),
          (err) => resolve(err ? statusName(err.code) : 'OK'),
        );
        call.on('metadata', () => o.onWriting?.());
        o.signal.addEventListener('abort', () => call.cancel(), { once: true });
      }),
  },
  {
    name: 'gRPC Interpolate (png stream)',
    transport: 'grpc',
    batches: 2,
    send: (o) =>
      new Promise((resolve) => {
        const call = client.Interpolate({ ...grpcEnds, format: 'png' }, new grpc.Metadata(), grpcOptions(o));
        let first = true;
        let error: grpc.ServiceError | undefined;
        call.on('data', () => {
          if (first) o.onWriting?.();
          first = false;
        });
        call.on('error', (err: grpc.ServiceError) => (error = err));
        call.on('status', () => resolve(error ? statusName(error.code) : 'OK'));
        o.signal.addEventListener('abort', () => call.cancel(), { once: true });
      }),
  },
];

const STAGES: Stage[] = ['queued', 'running', 'encoding', 'writing'];
const FAULTS: Fault[] = ['client-gone', 'deadline', 'engine-fail'];

/** Whether a cell exists: nothing can fail or expire once the answer is being written. */
function applicable(route: Route, stage: Stage, fault: Fault): boolean {
  if (stage === 'writing') return fault === 'client-gone';
  // A one-batch request is past the engine when it is encoded.
  return !(stage === 'encoding' && route.batches === 1 && fault === 'engine-fail');
}

/** What whoever still listens must get. */
function expected(route: Route, stage: Stage, fault: Fault): Outcome[] {
  const ok: Outcome = route.transport === 'http' ? 200 : 'OK';
  const gone: Outcome = route.transport === 'http' ? 'aborted' : 'CANCELLED';
  if (fault === 'client-gone') {
    // Once the answer is (nearly) complete, the client may have it all before it gives up.
    return stage === 'writing' || (stage === 'encoding' && route.batches === 1) ? [gone, ok] : [gone];
  }
  if (fault === 'engine-fail') return [route.transport === 'http' ? 500 : 'INTERNAL'];
  // A request predicted not to start within its deadline is refused at once (503 / UNAVAILABLE,
  // admission by predicted wait) instead of waiting to expire: both answer the client in time.
  if (route.transport === 'grpc')
    return stage === 'queued' ? ['DEADLINE_EXCEEDED', 'UNAVAILABLE'] : ['DEADLINE_EXCEEDED'];
  // timeoutMs bounds the time in the queue; running is never cut short.
  const expires = stage === 'queued' || (stage === 'running' && route.batches > 1);
  return expires ? (stage === 'queued' ? [504, 503] : [504]) : [200];
}

const started = (e: { event: string }) => e.event === 'started';
const finished = (e: { event: string }) => e.event === 'finished';
const matrix: string[] = [];

/** One cell: bring the request to `stage`, apply `fault`, then check the server. */
async function cell(route: Route, stage: Stage, fault: Fault): Promise<void> {
  const mark = server.events.length;
  const controller = new AbortController();
  let blocker: Promise<Outcome> | undefined;
  if (stage === 'queued') {
    // A one-sample request holds the engine, so the victim waits in the queue.
    await server.command({ cmd: 'stall' });
    blocker = http('/generate', { class: 5, seed: 5 }, { signal: new AbortController().signal });
    await server.event(started, mark);
  } else if (stage === 'running') {
    await server.command({ cmd: 'stall' });
  } else if (stage === 'encoding' && route.batches > 1) {
    await server.command({ cmd: 'stall', after: 1 }); // first batch done (encoded, streamed), second held
  }
  const t0 = Date.now();
  const victim = route.send({
    signal: controller.signal,
    ...(fault === 'deadline' ? { deadlineMs: DEADLINE_MS } : {}),
    ...(stage === 'writing' ? { onWriting: () => controller.abort() } : {}),
  });
  let settled = false;
  const onSettled = (): void => {
    settled = true;
    server.poke();
  };
  victim.then(onSettled, onSettled);
  // Reach the stage. Only a deadline can answer the request before it gets there (on a loaded
  // machine its queue budget may run out before its batch starts): that answer is checked too.
  let reached = true;
  if (stage === 'queued') {
    // (With a deadline the request may already have expired: the engine is held by the blocker
    // and runs one batch at a time, so it cannot be anywhere but in the queue.)
    if (fault !== 'deadline')
      assert.ok((await server.metricUntil('biggan_queue_depth_samples', (v) => v > 0)) > 0, 'the request is queued');
  } else if (stage === 'running') {
    reached = (await server.event(started, mark, 1, () => settled)) !== 'gave-up';
  } else if (stage === 'encoding') {
    reached =
      (await server.event(route.batches > 1 ? started : finished, mark, route.batches > 1 ? 2 : 1, () => settled)) !==
      'gave-up';
  }
  assert.ok(reached || fault === 'deadline', `${route.name} | ${stage} | ${fault}: answered before reaching the stage`);
  // Apply the fault.
  if (fault === 'client-gone' && stage !== 'writing') controller.abort();
  if (fault === 'deadline') {
    if (route.transport === 'grpc' || stage === 'queued' || !reached)
      await victim; // answered while the engine is held
    else if (stage === 'running' && route.batches > 1)
      await victim; // its second batch expires in the queue
    else while (Date.now() < t0 + DEADLINE_MS + 20) await new Promise((r) => setTimeout(r, 20)); // the deadline is a time
  }
  if (fault === 'engine-fail') {
    await server.command({ cmd: 'fail', on: true });
    await server.command({ cmd: 'release', fail: true });
  } else {
    await server.command({ cmd: 'release' });
  }
  const outcome = await victim;
  const blocked = blocker ? await blocker : undefined;
  await server.command({ cmd: 'fail', on: false });

  const label = `${route.name} | ${stage} | ${fault}`;
  matrix.push(
    `${label} | ${outcome}${blocked !== undefined ? ` (blocker ${blocked})` : ''}${reached ? '' : ' (expired before reaching the stage)'}`,
  );
  assert.equal(server.exit, undefined, `${label}: the server died: ${server.stderr}`);
  const want = reached ? expected(route, stage, fault) : [route.transport === 'http' ? 504 : 'DEADLINE_EXCEEDED'];
  assert.ok(want.includes(outcome), `${label}: got ${outcome}, expected ${want.join(' or ')}`);
  if (blocked !== undefined)
    assert.equal(blocked, fault === 'engine-fail' ? 500 : 200, `${label}: the blocking request`);
  assert.equal(
    await server.metricUntil('biggan_queue_depth_samples', (v) => v === 0),
    0,
    `${label}: queue depth back to 0`,
  );
  // Still answering (this success also resets the engine's consecutive-failure count).
  const check = await fetch(`${server.base}/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ class: 3, seed: 3 }),
  });
  assert.equal(check.status, 200, `${label}: a later request`);
  await check.arrayBuffer();
}

before(async () => {
  server = await ChaosServer.start([
    '--max-batch-size',
    String(BATCH),
    '--max-queue-delay-ms',
    '2',
    '--max-concurrent-batches',
    '1',
    '--engine-failure-threshold',
    String(FAILURE_THRESHOLD),
    '--engine-probe-interval-ms',
    '50',
    '--log-level',
    'silent',
    // Every cell repeats the same seeded requests and needs them to reach the engine: no response cache.
    '--cache-size',
    '0',
  ]);
  client = createGeneratorClient(`127.0.0.1:${server.grpcPort}`);
});

after(async () => {
  client?.close();
  if (matrix.length > 0) console.log(`route | stage | fault | outcome\n${matrix.join('\n')}`);
  server?.kill();
});

for (const route of ROUTES) {
  test(`chaos: ${route.name}`, async () => {
    for (const stage of STAGES) {
      for (const fault of FAULTS) {
        if (!applicable(route, stage, fault)) continue;
        try {
          await cell(route, stage, fault);
        } finally {
          // A failed cell must not leave the engine held or failing for the next one.
          if (!server.exit) {
            await server.command({ cmd: 'release' });
            await server.command({ cmd: 'fail', on: false });
          }
        }
      }
    }
  });
}

async function readyz(): Promise<number> {
  return (await fetch(`${server.base}/readyz`)).status;
}

async function generateStatus(): Promise<{ status: number; code?: string }> {
  const res = await fetch(`${server.base}/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ class: 3, seed: 3 }),
  });
  if (res.status === 200) {
    await res.arrayBuffer();
    return { status: 200 };
  }
  return { status: res.status, code: ((await res.json()) as { error: { code: string } }).error.code };
}

/** gRPC health of the whole server (service ""), as a Kubernetes gRPC probe asks it. */
function grpcHealth(): Promise<string> {
  const check = healthService.Check;
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      check.path,
      check.requestSerialize,
      check.responseDeserialize,
      { service: '' },
      (err, res?: { status?: string | number }) => (err ? reject(err) : resolve(String(res?.status))),
    );
  });
}

test('an engine that keeps failing makes the server unready until a probe batch succeeds', async () => {
  assert.equal(await readyz(), 200);
  await server.command({ cmd: 'fail', on: true });
  for (let i = 0; i < FAILURE_THRESHOLD; i++) assert.equal((await generateStatus()).status, 500);
  assert.equal(await server.metricUntil('biggan_ready', (v) => v === 0), 0);
  assert.equal(await readyz(), 503);
  assert.equal(await grpcHealth(), 'NOT_SERVING');
  assert.deepEqual(await generateStatus(), { status: 503, code: 'UNAVAILABLE' });
  assert.ok((await server.metric('biggan_engine_failures_total')) >= FAILURE_THRESHOLD);
  await server.command({ cmd: 'fail', on: false }); // the next probe batch succeeds
  assert.equal(await server.metricUntil('biggan_ready', (v) => v === 1), 1);
  assert.equal(await readyz(), 200);
  assert.equal(await grpcHealth(), 'SERVING');
  assert.equal((await generateStatus()).status, 200);
});

test('a dead engine worker: its request gets 503, the engine is restarted and counted, serving resumes', async () => {
  const restarts = await server.metric('biggan_engine_restarts_total');
  await server.command({ cmd: 'die' });
  assert.deepEqual(await generateStatus(), { status: 503, code: 'UNAVAILABLE' });
  assert.equal((await generateStatus()).status, 200);
  assert.equal(await server.metric('biggan_engine_restarts_total'), restarts + 1);
  assert.equal(await readyz(), 200);
});

test('after all of it: no unhandled rejection, and SIGTERM drains and exits 0', async () => {
  assert.equal(server.exit, undefined, server.stderr);
  assert.equal(await server.stop(), 0, server.stderr);
  assert.doesNotMatch(server.stderr, /unhandled|UnhandledPromiseRejection/i);
});
