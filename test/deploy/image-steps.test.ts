/**
 * The container image's install and start steps, without Docker (no engine runs here): a
 * production install without dev dependencies in a temporary folder holding what the runtime
 * stage copies (dist/, proto/, data/, package files), then `biggan-serve --help` and a short
 * `serve` on the tiny fixture, stopped with SIGTERM as the container runtime does.
 *
 * It runs `npm ci` (about 12 s), so it runs in CI (CI=true, as .ci/run is run) or when asked
 * (BIGGAN_SLOW_TESTS=1), and is skipped, saying so, in a plain `npm test`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FIXTURE_DIR } from '../helpers/fixtures.js';

const run = promisify(execFile);
const SLOW = process.env.CI === 'true' || process.env.BIGGAN_SLOW_TESTS === '1';
const SKIP = SLOW ? false : 'runs `npm ci` (~12 s): runs in CI (CI=true) or with BIGGAN_SLOW_TESTS=1 npm test';

test(
  'production install (no dev dependencies), --help, and a short serve from the install folder',
  { timeout: 300_000, skip: SKIP },
  async () => {
    const root = process.cwd();
    const app = await mkdtemp(path.join(os.tmpdir(), 'biggan-image-'));
    try {
      for (const f of ['package.json', 'package-lock.json', 'proto', 'data', 'scripts', 'dist/src']) {
        await cp(path.join(root, f), path.join(app, f), { recursive: true });
      }
      const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
      await run(npm, ['ci', '--omit=dev', '--no-audit', '--no-fund'], {
        cwd: app,
        env: { ...process.env, NODE_ENV: 'production' },
        maxBuffer: 1 << 24,
      });
      assert.ok(existsSync(path.join(app, 'node_modules/fastify')), 'runtime dependencies are installed');
      assert.ok(!existsSync(path.join(app, 'node_modules/typescript')), 'dev dependencies are not installed');
      assert.ok(!existsSync(path.join(app, 'node_modules/eslint')), 'dev dependencies are not installed');

      const cli = path.join(app, 'dist/src/cli/main.js');
      const help = await run(process.execPath, [cli, '--help'], { cwd: app });
      assert.match(help.stdout, /Usage: biggan-serve <command>/);

      // Port 0: the server picks a free port and logs it ('listening'); 'ready' follows warm-up.
      const child = spawn(process.execPath, [cli, 'serve'], {
        cwd: app,
        env: {
          ...process.env,
          BIGGAN_WEIGHTS: FIXTURE_DIR,
          BIGGAN_HOST: '127.0.0.1',
          BIGGAN_HTTP_PORT: '0',
          BIGGAN_GRPC_PORT: '0',
          BIGGAN_LOG_LEVEL: 'info',
          BIGGAN_MAX_BATCH_SIZE: '2',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d));
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      try {
        const port = await new Promise<number>((resolve, reject) => {
          let httpPort: number | undefined;
          const timer = setTimeout(() => reject(new Error(`server never became ready: ${stderr}`)), 120_000);
          createInterface({ input: child.stdout }).on('line', (line) => {
            let entry: { msg?: string; httpPort?: number } = {};
            try {
              entry = JSON.parse(line);
            } catch {
              return; // not a log line
            }
            if (entry.msg === 'listening') httpPort = entry.httpPort;
            if (entry.msg === 'ready' && httpPort !== undefined) {
              clearTimeout(timer);
              resolve(httpPort);
            }
          });
          void exited.then((code) => {
            clearTimeout(timer);
            reject(new Error(`server exited with ${code} before ready: ${stderr}`));
          });
        });
        assert.ok(port > 0);
        const res = await fetch(`http://127.0.0.1:${port}/generate`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ class: 'goldfish', seed: 3 }),
        });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('content-type'), 'image/png');
        child.kill('SIGTERM');
        assert.equal(await exited, 0, stderr);
      } finally {
        child.kill('SIGKILL');
      }
    } finally {
      await rm(app, { recursive: true, force: true });
    }
  },
);
