/**
 * The built command line (dist/src/cli/main.js) as a user runs it: --help everywhere,
 * generate --inputs reproducing the fixture PNGs, generate by class/seed, init-random.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FIXTURE_DIR, loadCase, maxPixelDiff } from '../helpers/fixtures.js';
import { decodeImage } from '../../src/image/encode.js';

const run = promisify(execFile);
const CLI = path.join(process.cwd(), 'dist/src/cli/main.js');
const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  run(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, maxBuffer: 1 << 24 });

let tmp: string;
before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'biggan-cli-'));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

test('--help works for the command and every subcommand', async () => {
  const top = await cli(['--help']);
  for (const c of ['serve', 'generate', 'init-random', 'download']) assert.match(top.stdout, new RegExp(`\\b${c}\\b`));
  for (const [c, flag] of [
    ['serve', '--max-queue-delay-ms'],
    ['generate', '--inputs'],
    ['init-random', '--preset'],
    ['download', '--cache'],
  ]) {
    const { stdout } = await cli([c, '--help']);
    assert.match(stdout, new RegExp(`Usage: biggan-serve ${c}`));
    assert.ok(stdout.includes(flag), `${c} --help lists ${flag}`);
  }
  const serveHelp = (await cli(['serve', '--help'])).stdout;
  assert.match(serveHelp, /BIGGAN_MAX_BATCH_SIZE/);
  await assert.rejects(
    cli(['frobnicate']),
    (e: { code: number; stderr: string }) => e.code === 2 && /unknown command/.test(e.stderr),
  );
  await assert.rejects(
    cli(['generate', '--weights', FIXTURE_DIR, '--out', tmp, '--truncation', '2']),
    (e: { code: number; stderr: string }) => e.code === 2 && /--truncation/.test(e.stderr),
  );
});

test('generate --inputs reproduces the fixture PNGs (interp case, 5 samples)', async () => {
  const c = loadCase('interp');
  const out = path.join(tmp, 'interp');
  await cli([
    'generate',
    '--weights',
    FIXTURE_DIR,
    '--inputs',
    path.join(FIXTURE_DIR, 'cases/interp/inputs.json'),
    '--out',
    out,
    '--engine',
    'tfjs',
    '--backend',
    'wasm',
  ]);
  const files = (await readdir(out)).sort();
  assert.deepEqual(files, ['sample_0.png', 'sample_1.png', 'sample_2.png', 'sample_3.png', 'sample_4.png']);
  for (let i = 0; i < c.batch; i++) {
    const ref = await decodeImage(await readFile(c.pngFiles[i]));
    const got = await decodeImage(await readFile(path.join(out, `sample_${i}.png`)));
    assert.ok(maxPixelDiff(ref.data, got.data) <= 1, `sample ${i}`);
  }
});

test('generate by class name, seed and count writes samples and a grid; the seed reproduces them', async () => {
  const a = path.join(tmp, 'a');
  const b = path.join(tmp, 'b');
  const args = [
    'generate',
    '--weights',
    FIXTURE_DIR,
    '--class',
    'golden retriever',
    '--truncation',
    '0.4',
    '--count',
    '2',
    '--grid',
    '--engine',
    'tfjs',
  ];
  const { stdout } = await cli([...args, '--seed', '7', '--out', a]);
  assert.match(stdout, /seed 7/);
  assert.deepEqual((await readdir(a)).sort(), ['grid.png', 'sample_0.png', 'sample_1.png']);
  // Sample 1 of seed 7 is sample 0 of seed 8.
  await cli([...args.filter((x) => x !== '--grid').map((x) => (x === '2' ? '1' : x)), '--seed', '8', '--out', b]);
  assert.deepEqual(await readFile(path.join(b, 'sample_0.png')), await readFile(path.join(a, 'sample_1.png')));
  await assert.rejects(
    cli(['generate', '--weights', FIXTURE_DIR, '--class', 'golden retreiver', '--out', a]),
    (e: { code: number; stderr: string }) => e.code !== 0 && /did you mean/.test(e.stderr),
  );
});

test('init-random writes a loadable model and prints the parameter count (full 128: 50,388,609)', async () => {
  const small = path.join(tmp, 'small');
  const { stdout } = await cli(['init-random', '--preset', 'biggan-deep-256', '--channel-width', '8', '--out', small]);
  assert.match(stdout, /parameters/);
  const out = path.join(tmp, 'gen');
  await cli(['generate', '--weights', small, '--class', '3', '--seed', '1', '--out', out, '--engine', 'tfjs']);
  const img = await decodeImage(await readFile(path.join(out, 'sample_0.png')));
  assert.equal(img.width, 256);
  const full = path.join(tmp, 'full');
  const r = await cli(['init-random', '--preset', 'biggan-deep-128', '--out', full]);
  assert.match(r.stdout, /50,388,609 parameters/);
  // 201.0 MiB of float32 plus the header.
  assert.ok(Math.abs((await stat(path.join(full, 'model.safetensors'))).size / 2 ** 20 - 201.0) < 0.2);
});
