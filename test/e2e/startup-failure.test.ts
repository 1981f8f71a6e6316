/**
 * A failed start-up exits: with a listener's port taken, `serve` closes what it opened and exits
 * non-zero at once, with one message naming the port (Kubernetes then restarts it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { FIXTURE_DIR } from '../helpers/fixtures.js';

const CLI = path.join(process.cwd(), 'dist/src/cli/main.js');

/** Holds a TCP port on 127.0.0.1 until closed. */
async function takePort(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return { port: address.port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Runs `serve` and returns its exit code, stderr and how long it ran (killed after `limitMs`). */
async function serve(args: string[], limitMs: number): Promise<{ code: number | null; stderr: string; ms: number }> {
  const t0 = Date.now();
  const child = spawn(
    process.execPath,
    [CLI, 'serve', '--weights', FIXTURE_DIR, '--host', '127.0.0.1', '--log-level', 'error', ...args],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const killer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  clearTimeout(killer);
  return { code, stderr, ms: Date.now() - t0 };
}

test('gRPC port taken: serve exits non-zero quickly with one message naming the port', async () => {
  const taken = await takePort();
  try {
    const r = await serve(['--http-port', '0', '--grpc-port', String(taken.port)], 30_000);
    assert.equal(r.code, 1, `exit code (killed = null) after ${r.ms} ms; stderr: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`gRPC port ${taken.port} is already in use`));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(r.ms < 20_000, `exited after ${r.ms} ms`);
  } finally {
    await taken.close();
  }
});

test('HTTP port taken: serve exits non-zero quickly with one message naming the port', async () => {
  const taken = await takePort();
  try {
    const r = await serve(['--http-port', String(taken.port), '--grpc-port', '0'], 30_000);
    assert.equal(r.code, 1, `exit code (killed = null) after ${r.ms} ms; stderr: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`HTTP port ${taken.port} is already in use`));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(r.ms < 20_000, `exited after ${r.ms} ms`);
  } finally {
    await taken.close();
  }
});

test('a warning the engine gives while it is created (e.g. ort cannot load) reaches the log', async () => {
  const { startServer } = await import('../../src/server/start.js');
  const { parseServerConfig } = await import('../../src/config/server-config.js');
  const { createEngine } = await import('../../src/engine/create-engine.js');
  const lines: string[] = [];
  const { config } = parseServerConfig(
    ['--weights', FIXTURE_DIR, '--host', '127.0.0.1', '--http-port', '0', '--grpc-port=-1', '--max-batch-size', '1'],
    {},
  );
  const server = await startServer(config, {
    logger: { level: 'warn', stream: { write: (line: string) => lines.push(line) } },
    createEngine: async (folded, opts) =>
      createEngine(folded, { ...opts, ortUnusable: async () => 'simulated: no onnxruntime here' }),
  });
  try {
    assert.equal(server.engine.name, 'tfjs');
    const res = await fetch(`http://127.0.0.1:${server.httpPort}/v1/models`);
    assert.equal(((await res.json()) as { models: { engine: string }[] }).models[0].engine, 'tfjs');
    assert.ok(
      lines.some((l) => /simulated: no onnxruntime here/.test(l) && /falling back to the tfjs engine/.test(l)),
      lines.join(''),
    );
  } finally {
    await server.stop();
  }
});
