/**
 * SIGTERM (stop) while a model loads: requests waiting on the load count as in flight, so the
 * listener stays open and new requests get 503 during the drain (not "connection refused"); the
 * waiting request is answered when the load ends within the grace period; and the whole drain is
 * bounded by --grace-period-ms even when a load would take longer.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseServerConfig } from '../../src/config/server-config.js';
import { startServer, type RunningServer } from '../../src/server/start.js';
import { createEngine } from '../../src/engine/create-engine.js';
import { FIXTURE_DIR } from '../helpers/fixtures.js';

const repo = mkdtempSync(path.join(os.tmpdir(), 'biggan-drain-load-'));
process.on('exit', () => rmSync(repo, { recursive: true, force: true }));
symlinkSync(FIXTURE_DIR, path.join(repo, 'first'));
symlinkSync(FIXTURE_DIR, path.join(repo, 'second'));

const servers: RunningServer[] = [];
after(async () => {
  for (const s of servers) await s.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A server whose first engine (the default model, at start) is quick and every later one takes `loadMs` more. */
async function serve(graceMs: number, loadMs: number): Promise<{ server: RunningServer; base: string }> {
  const { config } = parseServerConfig(
    [
      '--host',
      '127.0.0.1',
      '--http-port',
      '0',
      '--grpc-port',
      '-1',
      '--threads',
      '1',
      '--model-repository',
      repo,
      '--default-model',
      'first',
      '--preload',
      'default',
      '--grace-period-ms',
      String(graceMs),
    ],
    {},
  );
  let engines = 0;
  const server = await startServer(config, {
    logger: false,
    createEngine: async (folded, opts) => {
      if (++engines > 1) await sleep(loadMs);
      return createEngine(folded, opts);
    },
  });
  servers.push(server);
  return { server, base: `http://127.0.0.1:${server.httpPort}` };
}

const generate = (base: string, model: string) =>
  fetch(`${base}/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, class: 1, seed: '3' }),
  });

test('stop during a load: the waiting request is answered, new requests get 503 until the drain ends', async () => {
  const { server, base } = await serve(20_000, 2_000);
  const waiting = generate(base, 'second'); // triggers the load and waits on it
  await sleep(300);
  const stopped = server.stop();
  await sleep(200);
  const during = await generate(base, 'first');
  assert.equal(during.status, 503, 'a new request during the drain gets 503, not a refused connection');
  assert.equal((await waiting).status, 200, 'the request waiting on the load was in flight and is answered');
  await stopped;
});

test('the whole drain is bounded by the grace period, a load still running included', async () => {
  const { server, base } = await serve(500, 8_000);
  const waiting = generate(base, 'second').catch(() => undefined);
  await sleep(300);
  const t0 = performance.now();
  await server.stop();
  const ms = performance.now() - t0;
  assert.ok(ms < 4_000, `stop took ${Math.round(ms)} ms with a 500 ms grace period and an 8 s load`);
  await waiting;
});
