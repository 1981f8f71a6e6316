/**
 * A model repository with bad folders: a truncated config.json, a config without weights, a
 * dangling symlink and a model whose weights hold NaN. The server starts and serves the good
 * model; each bad one is listed `failed` with a reason that shows no server path, and requests to
 * it get 503 / UNAVAILABLE with the reason (the request that triggered a failing load too). A
 * failed load is remembered: the next requests are answered at once, without reloading, and the
 * failure is logged once (with the full path, for the operator). Start-up fails, saying so, only
 * when the default model cannot be served.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync,
  closeSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseServerConfig } from '../../src/config/server-config.js';
import { startServer, type RunningServer } from '../../src/server/start.js';
import { initRandomCommand } from '../../src/cli/init-random-command.js';
import { BigGanError } from '../../src/errors.js';
import { FIXTURE_DIR } from '../helpers/fixtures.js';
import { createGeneratorClient, type GeneratorClient } from '../../src/transport/grpc/server.js';

const repo = mkdtempSync(path.join(os.tmpdir(), 'biggan-bad-repo-'));
process.on('exit', () => rmSync(repo, { recursive: true, force: true }));
const COMMON = [
  '--host',
  '127.0.0.1',
  '--http-port',
  '0',
  '--grpc-port',
  '0',
  '--max-batch-size',
  '2',
  '--threads',
  '1',
  '--preload',
  'default',
];

let server: RunningServer;
let base: string;
let client: GeneratorClient | undefined;
const logs: string[] = [];

before(async () => {
  symlinkSync(FIXTURE_DIR, path.join(repo, 'good'));
  symlinkSync(FIXTURE_DIR, path.join(repo, 'other'));
  const config = readFileSync(path.join(FIXTURE_DIR, 'config.json'), 'utf8');
  mkdirSync(path.join(repo, 'truncated'));
  writeFileSync(path.join(repo, 'truncated', 'config.json'), config.slice(0, Math.floor(config.length / 2)));
  mkdirSync(path.join(repo, 'noweights'));
  writeFileSync(path.join(repo, 'noweights', 'config.json'), config);
  symlinkSync(path.join(repo, 'no-such-target'), path.join(repo, 'dangling'));
  // A valid model whose last tensor bytes are overwritten with NaN (0xffffffff as float32).
  await initRandomCommand([
    '--preset',
    'biggan-deep-128',
    '--channel-width',
    '8',
    '--seed',
    '3',
    '--out',
    path.join(repo, 'nan'),
  ]);
  const weights = path.join(repo, 'nan', 'model.safetensors');
  const fd = openSync(weights, 'r+');
  writeSync(fd, Buffer.alloc(4096, 0xff), 0, 4096, statSync(weights).size - 4096);
  closeSync(fd);
  const { config: serverConfig } = parseServerConfig(
    [...COMMON, '--model-repository', repo, '--default-model', 'good'],
    {},
  );
  server = await startServer(serverConfig, {
    logger: { level: 'info', stream: { write: (line: string) => void logs.push(line) } },
  });
  base = `http://127.0.0.1:${server.httpPort}`;
  client = createGeneratorClient(`127.0.0.1:${server.grpcPort}`);
});

after(async () => {
  client?.close();
  await server?.stop();
});

const generate = (model: string) =>
  fetch(`${base}/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, class: 1, seed: '1' }),
  });

test('bad folders are listed failed with a reason and no server path; the good model serves', async () => {
  const res = await fetch(`${base}/v1/models`);
  assert.equal(res.status, 200);
  const text = await res.text();
  assert.ok(!text.includes(repo) && !text.includes(os.tmpdir()), `no server path in ${text}`);
  const models = (JSON.parse(text) as { models: { name: string; state: string; reason?: string }[] }).models;
  const byName = new Map(models.map((m) => [m.name, m]));
  assert.deepEqual([...byName.keys()].sort(), ['dangling', 'good', 'nan', 'noweights', 'other', 'truncated']);
  assert.equal(byName.get('good')?.state, 'ready');
  for (const [name, reason] of [
    ['truncated', /config\.json/],
    ['noweights', /no weight file/],
    ['dangling', /symbolic link whose target is missing/],
  ] as const) {
    assert.equal(byName.get(name)?.state, 'failed', name);
    assert.match(byName.get(name)?.reason ?? '', reason, name);
  }
  const ready = await fetch(`${base}/v1/models/noweights/ready`);
  assert.equal(ready.status, 503);
  const readyText = await ready.text();
  assert.match(readyText, /failed: /);
  assert.ok(!readyText.includes(repo), readyText);
  assert.equal((await generate('good')).status, 200);
});

test('a request to a bad folder gets 503 UNAVAILABLE with the reason, no path', async () => {
  for (const name of ['truncated', 'noweights', 'dangling']) {
    const res = await generate(name);
    assert.equal(res.status, 503, name);
    const { error } = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(error.code, 'UNAVAILABLE');
    assert.match(error.message, new RegExp(`^model ${name} failed to load: `));
    assert.ok(!error.message.includes(repo), error.message);
  }
});

test('a model whose load fails answers 503 to every request, the triggering one too, and is loaded and logged once', async () => {
  const first = await generate('nan');
  assert.equal(first.status, 503);
  const { error } = (await first.json()) as { error: { code: string; message: string } };
  assert.equal(error.code, 'UNAVAILABLE');
  assert.match(error.message, /^model nan failed to load: /);
  assert.ok(!error.message.includes(repo), error.message);
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const again = await generate('nan');
    assert.equal(again.status, 503);
    assert.ok(Number(again.headers.get('retry-after')) >= 1);
    assert.ok(performance.now() - t0 < 2_000, 'answered from the remembered failure');
  }
  const failures = logs.filter((l) => l.includes('model nan failed to load'));
  assert.equal(failures.length, 1, failures.join('\n'));
  assert.ok(failures[0].includes(repo), 'the log has the full path');
  const status = (await (await fetch(`${base}/v1/models/nan`)).json()) as { state: string; reason: string };
  assert.equal(status.state, 'failed');
  assert.ok(!status.reason.includes(repo), status.reason);
});

test('start-up fails, saying so, only when the default model cannot be served', async () => {
  const { config } = parseServerConfig([...COMMON, '--model-repository', repo, '--default-model', 'truncated'], {});
  await assert.rejects(
    startServer(config, { logger: false }),
    (e: unknown) => e instanceof BigGanError && /the default model truncated cannot be served/.test(e.message),
  );
  const { config: nan } = parseServerConfig([...COMMON, '--model-repository', repo, '--default-model', 'nan'], {});
  await assert.rejects(
    startServer(nan, { logger: false }),
    (e: unknown) => e instanceof BigGanError && /the default model nan cannot be served/.test(e.message),
  );
});

test('a 200-character model name is INVALID_ARGUMENT naming model over REST and gRPC', async () => {
  const name = 'm'.repeat(200);
  const res = await generate(name);
  assert.equal(res.status, 400);
  const { error } = (await res.json()) as { error: { code: string; message: string; field?: string } };
  assert.equal(error.field, 'model');
  assert.match(error.message, /^model: must be 1\.\.128 characters, got 200/);
  const err = await new Promise<{ code: number; details: string }>((resolve) =>
    client!.Generate({ model: name, classes: [{ index: 1 }], seed: '1' }, (e) =>
      resolve(e as unknown as { code: number; details: string }),
    ),
  );
  assert.equal(err?.code, 3, 'INVALID_ARGUMENT');
  assert.match(err.details, /^model: must be 1\.\.128 characters, got 200/);
});

test('the per-request log line names the model the request chose, not the default', async () => {
  assert.equal((await generate('other')).status, 200);
  const lines = logs
    .map((l) => JSON.parse(l) as { msg?: string; model?: string; route?: string })
    .filter((l) => l.msg === 'request' && l.route === '/generate' && l.model !== undefined);
  assert.equal(lines.at(-1)?.model, 'other');
});
