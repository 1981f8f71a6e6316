/**
 * The Node 24 shim for @tensorflow/tfjs-node(-gpu) 4.22 (src/engine/tfjs/node-compat.ts). The real
 * package cannot install here, so a fake `@tensorflow/tfjs-node` stands in: like the real one it
 * calls `util.isNullOrUndefined` (at load here, to catch the earliest use) and registers a
 * `tensorflow` backend. A child process deletes the function first, as Node 23+ does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { installUtilShim } from '../../../src/engine/tfjs/node-compat.js';
import { redirectHookArgs } from '../../helpers/cuda-stubs.js';

const run = promisify(execFile);

test('installUtilShim adds isNullOrUndefined only when it is missing', () => {
  const legacy = () => 'original';
  const withIt = { isNullOrUndefined: legacy } as unknown as Parameters<typeof installUtilShim>[0];
  assert.equal(installUtilShim(withIt), false);
  assert.equal(
    (withIt as unknown as { isNullOrUndefined: unknown }).isNullOrUndefined,
    legacy,
    'an existing function is kept',
  );
  const without = {} as Parameters<typeof installUtilShim>[0];
  assert.equal(installUtilShim(without), true);
  const shim = (without as unknown as { isNullOrUndefined: (v: unknown) => boolean }).isNullOrUndefined;
  assert.deepEqual([null, undefined, 0, '', false, {}].map(shim), [true, true, false, false, false, false]);
});

/** The project's copies of tfjs-core and the cpu backend (the fake lives in a temporary folder). */
const projectRequire = createRequire(path.join(process.cwd(), 'package.json'));
const TFJS_CORE = JSON.stringify(projectRequire.resolve('@tensorflow/tfjs-core'));
const TFJS_CPU = JSON.stringify(projectRequire.resolve('@tensorflow/tfjs-backend-cpu'));

/** A fake tfjs-node: uses util.isNullOrUndefined as it loads, then registers 'tensorflow' (the cpu kernels). */
const FAKE_TFJS_NODE = `
const util = require('node:util');
if (!util.isNullOrUndefined(null)) throw new Error('wrong answer');
const tf = require(${TFJS_CORE});
const { MathBackendCPU } = require(${TFJS_CPU});
tf.registerBackend('tensorflow', () => new MathBackendCPU(), 3);
module.exports = { usedUtil: true };
`;

/** Runs `body` in a child (ESM) where util.isNullOrUndefined is deleted and tfjs-node is the fake. */
async function inNode24Child(body: string): Promise<{ stdout: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'biggan-fake-tfjs-'));
  try {
    const fake = path.join(dir, 'fake-tfjs-node.cjs');
    writeFileSync(fake, FAKE_TFJS_NODE);
    const dropUtil = "data:text/javascript,import util from 'node:util'; delete util.isNullOrUndefined;";
    return await run(
      process.execPath,
      [...redirectHookArgs(), '--import', dropUtil, '--input-type=module', '-e', body],
      {
        env: { ...process.env, BIGGAN_TEST_REDIRECTS: JSON.stringify({ '@tensorflow/tfjs-node': fake }) },
        timeout: 60_000,
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('without the shim the fake package fails as tfjs-node 4.22 does on Node 24 (the test can fail)', async () => {
  const { stdout } = await inNode24Child(`
    try { await import('@tensorflow/tfjs-node'); process.stdout.write('loaded'); }
    catch (e) { process.stdout.write('failed: ' + e.message); }`);
  assert.match(stdout, /failed: .*isNullOrUndefined is not a function/);
});

test(
  "initTfjsBackend('tensorflow') installs the shim before the package loads, and serves on it",
  { timeout: 90_000 },
  async () => {
    const backend = JSON.stringify(pathToFileURL(path.join(process.cwd(), 'dist/src/engine/tfjs/backend.js')).href);
    const { stdout } = await inNode24Child(`
    const { initTfjsBackend } = await import(${backend});
    const choice = await initTfjsBackend('tensorflow');
    process.stdout.write(JSON.stringify(choice));`);
    const choice = JSON.parse(stdout) as { backend: string; provider: string };
    assert.equal(choice.backend, 'tensorflow');
    assert.equal(choice.provider, '@tensorflow/tfjs-node');
  },
);
