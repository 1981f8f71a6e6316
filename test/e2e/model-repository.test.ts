/**
 * A model repository served by one process: the tiny-128 fixture plus narrow random 256 and 512
 * models. Each model's images over REST and gRPC, under a mixed concurrent load, equal byte for
 * byte what a process serving that model alone returns; unknown models answer 404 / NOT_FOUND
 * listing the models; requests without a model go to the default one. Under a memory budget that
 * fits two models, a request for the third unloads the least recently used idle one while requests
 * in flight on the others are all answered; a model that can never fit answers 503 /
 * RESOURCE_EXHAUSTED naming the budget.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseServerConfig } from '../../src/config/server-config.js';
import { startServer, type RunningServer } from '../../src/server/start.js';
import { createGeneratorClient, type GeneratorClient } from '../../src/transport/grpc/server.js';
import type {
  GenerateResponseMessage,
  ModelInfoMessage,
  ListModelsResponseMessage,
} from '../../src/transport/grpc/codec.js';
import { initRandomCommand } from '../../src/cli/init-random-command.js';
import { FIXTURE_DIR } from '../helpers/fixtures.js';

const repo = mkdtempSync(path.join(os.tmpdir(), 'biggan-repo-'));
process.on('exit', () => rmSync(repo, { recursive: true, force: true }));
const MODELS = ['r256', 'r512', 'tiny-128'] as const;
type Model = (typeof MODELS)[number];
const dirOf = (m: Model) => path.join(repo, m);

const COMMON = [
  '--host',
  '127.0.0.1',
  '--http-port',
  '0',
  '--max-batch-size',
  '4',
  '--max-queue-delay-ms',
  '5',
  '--grace-period-ms',
  '5000',
  '--threads',
  '1',
];
const servers: RunningServer[] = [];
const clients: GeneratorClient[] = [];

async function serve(
  args: string[],
  grpc = true,
): Promise<{ server: RunningServer; base: string; client?: GeneratorClient }> {
  const { config } = parseServerConfig([...COMMON, '--grpc-port', grpc ? '0' : '-1', ...args], {});
  const server = await startServer(config, { logger: false });
  servers.push(server);
  const client = grpc ? createGeneratorClient(`127.0.0.1:${server.grpcPort}`) : undefined;
  if (client) clients.push(client);
  return { server, base: `http://127.0.0.1:${server.httpPort}`, ...(client ? { client } : {}) };
}

let multi: Awaited<ReturnType<typeof serve>>;
const alone = new Map<Model, Awaited<ReturnType<typeof serve>>>();

before(async () => {
  symlinkSync(FIXTURE_DIR, dirOf('tiny-128'));
  await initRandomCommand([
    '--preset',
    'biggan-deep-256',
    '--channel-width',
    '8',
    '--seed',
    '5',
    '--out',
    dirOf('r256'),
  ]);
  await initRandomCommand([
    '--preset',
    'biggan-deep-512',
    '--channel-width',
    '8',
    '--seed',
    '6',
    '--out',
    dirOf('r512'),
  ]);
  multi = await serve(['--model-repository', repo, '--default-model', 'tiny-128']);
  for (const m of MODELS) alone.set(m, await serve(['--weights', dirOf(m)], false));
});

after(async () => {
  for (const c of clients) c.close();
  for (const s of servers) await s.stop();
});

const post = (base: string, route: string, body: object) =>
  fetch(`${base}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
  });

/** The images of a JSON generate answer, as bytes. */
async function restImages(base: string, body: object): Promise<Buffer[]> {
  const res = await post(base, '/generate', body);
  assert.equal(res.status, 200, `${JSON.stringify(body)}: ${res.status} ${await res.clone().text()}`);
  return ((await res.json()) as { images: { data: string }[] }).images.map((i) => Buffer.from(i.data, 'base64'));
}

function grpcGenerate(
  client: GeneratorClient,
  req: Parameters<GeneratorClient['Generate']>[0],
): Promise<GenerateResponseMessage> {
  return new Promise((resolve, reject) => client.Generate(req, (err, res) => (err ? reject(err) : resolve(res!))));
}

test('under a mixed concurrent load, each model answers over REST and gRPC exactly what a process serving it alone answers', async () => {
  const jobs = MODELS.flatMap((model) =>
    [0, 1, 2].map((k) => ({ model, seed: 100 + k * 7 + MODELS.indexOf(model), cls: 200 + k })),
  );
  // Everything at once on the multi-model server, REST and gRPC interleaved.
  const mixed = await Promise.all(
    jobs.map(async (j) => {
      const [rest, grpc] = await Promise.all([
        restImages(multi.base, { model: j.model, class: j.cls, seed: j.seed, count: 2, truncation: 0.5 }),
        grpcGenerate(multi.client!, {
          model: j.model,
          classes: [{ index: j.cls }],
          seed: String(j.seed),
          count: 2,
          truncation: 0.5,
        }),
      ]);
      return { rest, grpc: grpc.images.map((i) => Buffer.from(i.data)) };
    }),
  );
  for (const [n, j] of jobs.entries()) {
    const reference = await restImages(alone.get(j.model)!.base, {
      class: j.cls,
      seed: j.seed,
      count: 2,
      truncation: 0.5,
    });
    assert.equal(mixed[n].rest.length, 2);
    for (let i = 0; i < 2; i++) {
      assert.ok(
        mixed[n].rest[i].equals(reference[i]),
        `${j.model} seed ${j.seed} sample ${i}: REST differs from the single-model process`,
      );
      assert.ok(
        mixed[n].grpc[i].equals(reference[i]),
        `${j.model} seed ${j.seed} sample ${i}: gRPC differs from the single-model process`,
      );
    }
  }
  // Each model really ran at its resolution.
  const sizes = await Promise.all(
    MODELS.map(
      async (model) =>
        ((await (await post(multi.base, '/generate', { model, seed: 1, class: 1 })).json()) as { width: number }).width,
    ),
  );
  assert.deepEqual(sizes, [256, 512, 128]);
});

test('a request without a model is served by the default model; unknown models answer 404 / NOT_FOUND listing the models', async () => {
  const [byDefault] = await restImages(multi.base, { class: 3, seed: 9 });
  const [tiny] = await restImages(alone.get('tiny-128')!.base, { class: 3, seed: 9 });
  assert.ok(byDefault.equals(tiny));
  const get = await fetch(`${multi.base}/generate?class=3&seed=9&model=r512`);
  assert.equal(get.status, 200);

  const res = await post(multi.base, '/generate', { model: 'biggan-deep-1024', seed: 1 });
  assert.equal(res.status, 404);
  const body = (await res.json()) as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'NOT_FOUND');
  assert.match(body.error.message, /r256, r512, tiny-128/);
  const interp = await post(multi.base, '/interpolate', { model: 'nope', from: { seed: 1 }, to: { seed: 2 } });
  assert.equal(interp.status, 404);
  await assert.rejects(
    grpcGenerate(multi.client!, { model: 'nope', seed: '1' }),
    (err: { code: number; details: string }) => {
      assert.equal(err.code, 5); // NOT_FOUND
      assert.match(err.details, /models: r256, r512, tiny-128/);
      return true;
    },
  );
  const rejections = (await multi.server.metrics.rejections.get()).values.filter(
    (v) => v.labels.reason === 'not_found',
  );
  assert.ok(
    rejections.length > 0 && rejections.every((v) => v.labels.model === 'tiny-128'),
    'unknown names are counted under the default model (bounded labels)',
  );
});

test('/v1/models, /v1/models/{name}, /ready, gRPC ListModels and GetModel describe every model', async () => {
  const list = (await (await fetch(`${multi.base}/v1/models`)).json()) as {
    models: {
      name: string;
      state: string;
      resolution: number;
      default: boolean;
      maxBatchSize: number;
      memoryEstimateBytes: number;
    }[];
  };
  assert.deepEqual(
    list.models.map((m) => [m.name, m.state, m.resolution, m.default]),
    [
      ['r256', 'ready', 256, false],
      ['r512', 'ready', 512, false],
      ['tiny-128', 'ready', 128, true],
    ],
  );
  // Batch sizes default by resolution (the flag is 4 for a 128 model).
  assert.deepEqual(
    list.models.map((m) => m.maxBatchSize),
    [2, 1, 4],
  );
  assert.ok(list.models.every((m) => m.memoryEstimateBytes > 0));
  const one = (await (await fetch(`${multi.base}/v1/models/r512`)).json()) as { name: string; resolution: number };
  assert.equal(one.resolution, 512);
  assert.equal((await fetch(`${multi.base}/v1/models/nope`)).status, 404);
  assert.equal((await fetch(`${multi.base}/v1/models/r256/ready`)).status, 200);
  assert.equal((await fetch(`${multi.base}/readyz`)).status, 200);
  const models = await new Promise<ListModelsResponseMessage>((resolve, reject) =>
    multi.client!.ListModels({}, (err, res) => (err ? reject(err) : resolve(res!))),
  );
  assert.deepEqual(
    models.models.map((m) => [m.name, m.state]),
    [
      ['r256', 'ready'],
      ['r512', 'ready'],
      ['tiny-128', 'ready'],
    ],
  );
  const info = await new Promise<ModelInfoMessage>((resolve, reject) =>
    multi.client!.GetModel({ name: 'r256' }, (err, res) => (err ? reject(err) : resolve(res!))),
  );
  assert.equal(info.resolution, 256);
  const byDefault = await new Promise<ModelInfoMessage>((resolve, reject) =>
    multi.client!.GetModel({}, (err, res) => (err ? reject(err) : resolve(res!))),
  );
  assert.equal(byDefault.name, 'tiny-128');
  const metrics = await (await fetch(`${multi.base}/metrics`)).text();
  assert.match(
    metrics,
    /biggan_model_info\{model="r512",engine="[a-z]+",backend="[a-z]*",resolution="512",state="ready"\} 1/,
  );
  assert.match(metrics, /biggan_batch_size_samples_count\{model="r256"\} [1-9]/);
  assert.match(metrics, /biggan_images_generated_total\{transport="grpc",model="r512"\} [1-9]/);
});

/** Model states from /v1/models. */
async function states(base: string): Promise<Record<string, string>> {
  const list = (await (await fetch(`${base}/v1/models`)).json()) as {
    models: { name: string; state: string; memoryEstimateBytes: number }[];
  };
  return Object.fromEntries(list.models.map((m) => [m.name, m.state]));
}

test('a budget that fits two models: the third loads after the least recently used idle one is unloaded; work in flight is all answered', async () => {
  const list = (await (await fetch(`${multi.base}/v1/models`)).json()) as {
    models: { name: string; memoryEstimateBytes: number }[];
  };
  const est = Object.fromEntries(list.models.map((m) => [m.name, m.memoryEstimateBytes]));
  const sorted = Object.values(est).sort((a, b) => b - a);
  const budget = sorted[0] + sorted[1] + 2 ** 20; // any two fit, never all three
  const { base } = await serve(
    [
      '--model-repository',
      repo,
      '--default-model',
      'tiny-128',
      '--memory-budget',
      String(budget),
      '--max-queue-wait-ms',
      '60000',
    ],
    false,
  );
  // Not everything fits: only the default model is preloaded.
  assert.deepEqual(await states(base), { r256: 'unloaded', r512: 'unloaded', 'tiny-128': 'ready' });
  await restImages(base, { model: 'r256', seed: 1, class: 1 }); // loads r256 on its first request (fits beside tiny-128)
  assert.deepEqual(await states(base), { r256: 'ready', r512: 'unloaded', 'tiny-128': 'ready' });
  await restImages(base, { model: 'r256', seed: 2, class: 1 }); // tiny-128 is now the least recently used

  // r256 busy with 12 requests while r512 is asked for: tiny-128 (idle, LRU) must make room.
  const busy = Array.from({ length: 12 }, (_, i) =>
    restImages(base, { model: 'r256', seed: 50 + i, class: 2, count: 2 }),
  );
  const loaded = restImages(base, { model: 'r512', seed: 3, class: 1 });
  const answers = await Promise.all([...busy, loaded]);
  assert.equal(answers.length, 13);
  assert.deepEqual(await states(base), { r256: 'ready', r512: 'ready', 'tiny-128': 'unloaded' });

  // And back: r512 in flight, tiny-128 asked for; r256 is the idle LRU one now.
  const busy512 = Array.from({ length: 6 }, (_, i) => restImages(base, { model: 'r512', seed: 70 + i, class: 4 }));
  const [tiny] = await Promise.all([restImages(base, { seed: 9, class: 3 }), ...busy512]);
  assert.deepEqual(await states(base), { r256: 'unloaded', r512: 'ready', 'tiny-128': 'ready' });
  const [reference] = await restImages(alone.get('tiny-128')!.base, { class: 3, seed: 9 });
  assert.ok(tiny[0].equals(reference), 'a reloaded model answers the same image');
  // Readiness follows the default model; an unloaded model is not ready.
  assert.equal((await fetch(`${base}/readyz`)).status, 200);
  assert.equal((await fetch(`${base}/v1/models/r256/ready`)).status, 503);
});

test('a model that can never fit the budget is refused with 503 / RESOURCE_EXHAUSTED naming the budget', async () => {
  const list = (await (await fetch(`${multi.base}/v1/models`)).json()) as {
    models: { name: string; memoryEstimateBytes: number }[];
  };
  const tiny = list.models.find((m) => m.name === 'tiny-128')!.memoryEstimateBytes;
  const small = await serve([
    '--model-repository',
    repo,
    '--default-model',
    'tiny-128',
    '--memory-budget',
    String(tiny + 2 ** 20),
  ]);
  const res = await post(small.base, '/generate', { model: 'r512', seed: 1, class: 1 });
  assert.equal(res.status, 503, await res.clone().text());
  const body = (await res.json()) as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'RESOURCE_EXHAUSTED');
  assert.match(body.error.message, /--memory-budget/);
  await assert.rejects(
    grpcGenerate(small.client!, { model: 'r512', seed: '1', classes: [{ index: 1 }] }),
    (err: { code: number }) => err.code === 8,
  );
  assert.equal((await states(small.base))['r512'], 'failed');
  // The default model keeps serving.
  assert.equal((await post(small.base, '/generate', { seed: 1, class: 1 })).status, 200);
});
