/**
 * --drain-delay-ms: after SIGTERM the server is unready at once (so load balancers and endpoint
 * controllers stop sending) but keeps serving for the delay, then drains and exits 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { FIXTURE_DIR } from '../helpers/fixtures.js';

const CLI = path.join(process.cwd(), 'dist/src/cli/main.js');

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitFor(fn: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('timed out waiting');
}

test(
  'SIGTERM with --drain-delay-ms: unready but serving during the delay, then drain and exit 0',
  { timeout: 60_000 },
  async () => {
    const port = await freePort();
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
        String(port),
        '--grpc-port=-1',
        '--threads',
        '1',
        '--max-batch-size',
        '2',
        '--drain-delay-ms',
        '3000',
        '--log-level',
        'warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d));
    child.stderr.on('data', (d: Buffer) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const base = `http://127.0.0.1:${port}`;
    const generate = () =>
      fetch(`${base}/generate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ class: 1, seed: 1 }),
      });
    try {
      await waitFor(async () => (await fetch(`${base}/readyz`)).status === 200, 30_000);
      const termAt = Date.now();
      child.kill('SIGTERM');
      await waitFor(async () => (await fetch(`${base}/readyz`)).status === 503, 5_000);
      const during = await generate();
      const answeredAt = Date.now();
      assert.equal(during.status, 200, 'still serving while unready');
      await during.arrayBuffer();
      assert.ok(
        answeredAt - termAt < 3000,
        `answered within the delay (${answeredAt - termAt} ms); the check above proves nothing otherwise`,
      );
      assert.equal(await exited, 0, output);
      assert.ok(Date.now() - termAt >= 3000, 'the process stayed up for the delay');
    } finally {
      child.kill('SIGKILL');
    }
  },
);
