/**
 * The `serve` process as Kubernetes runs it: ready only after warm-up, and on SIGTERM it stops
 * being ready, refuses new work, finishes what it accepted, and exits 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { FIXTURE_DIR } from '../helpers/fixtures.js';

const CLI = path.join(process.cwd(), 'dist/src/cli/main.js');

async function waitFor(fn: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('timed out waiting');
}

test('SIGTERM drains: readiness goes false, new work gets 503, accepted work completes, exit 0', async () => {
  // 64 samples at batch size 1 keep the engine busy for a while, so work is in flight at SIGTERM.
  // (ort runs off the event loop, so the server keeps answering probes while it computes.)
  const child = spawn(
    process.execPath,
    [
      CLI,
      'serve',
      '--weights',
      FIXTURE_DIR,
      '--host',
      '127.0.0.1',
      '--http-port',
      '0',
      '--grpc-port',
      '0',
      '--engine',
      'ort',
      '--max-batch-size',
      '1',
      '--max-samples-per-request',
      '64',
      '--grace-period-ms',
      '60000',
      '--log-level',
      'info',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // Port 0: the server picks a free port and logs it ("listening", JSON on stdout).
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      const m = /"httpPort":(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', () => reject(new Error(`exited before listening: ${stderr}`)));
  });
  child.stdout.resume();
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitFor(async () => (await fetch(`${base}/healthz`)).ok, 30_000);
    await waitFor(async () => (await fetch(`${base}/readyz`)).status === 200, 60_000);
    const accepted = fetch(`${base}/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ class: 207, seed: 1, count: 64 }),
    });
    await new Promise((r) => setTimeout(r, 150));
    child.kill('SIGTERM');
    await waitFor(async () => (await fetch(`${base}/readyz`)).status === 503, 5_000);
    const refused = await fetch(`${base}/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ class: 207, seed: 2 }),
    });
    assert.equal(refused.status, 503);
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'UNAVAILABLE');
    const res = await accepted;
    assert.equal(res.status, 200, 'the request accepted before SIGTERM is answered');
    assert.equal(((await res.json()) as { images: unknown[] }).images.length, 64);
    assert.equal(await exited, 0, stderr);
  } finally {
    child.kill('SIGKILL');
  }
});

test('serve without weights explains how to get them and exits non-zero', async () => {
  const child = spawn(
    process.execPath,
    [CLI, 'serve', '--cache', path.join(process.cwd(), 'dist', 'no-such-cache'), '--http-port', '0', '--grpc-port=-1'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.notEqual(code, 0);
  assert.match(stderr, /biggan-serve download biggan-deep-128/);
  assert.match(stderr, /--weights DIR/);
  assert.match(stderr, /init-random/);
});

test('serve --download (what npm start runs) tries the download and, offline, says how to get weights', async () => {
  const child = spawn(
    process.execPath,
    [
      CLI,
      'serve',
      '--download',
      '--cache',
      path.join(process.cwd(), 'dist', 'no-such-cache-2'),
      '--http-port',
      '0',
      '--grpc-port=-1',
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, BIGGAN_DOWNLOAD_BASE_URL: 'http://127.0.0.1:9' },
    },
  );
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 1);
  // The attempt is a line of the JSON log (stdout); the failure is the one line on stderr.
  assert.match(stdout, /downloading into/);
  assert.match(stderr, /cannot reach 127\.0\.0\.1:9/);
  assert.match(stderr, /init-random/);
});
