/**
 * `biggan-serve dataset` as a user runs it (the built CLI in child processes, tiny-128 fixture):
 * byte-identical shards whatever the batch size or split into parts, the tar layout read back with
 * a tar reader, resume after SIGKILL, and clear errors for a bad class, an unwritable folder and a
 * full file (the process file-size limit standing in for a full disk).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { FIXTURE_DIR } from '../helpers/fixtures.js';
import { readTar } from './tar-reader.js';

const CLI = path.join(process.cwd(), 'dist/src/cli/main.js');
// 3 classes x 5 = 15 samples in shards of 4: four shards, the last one 3 samples.
const SPEC = [
  '--weights',
  FIXTURE_DIR,
  '--classes',
  '3,golden retriever,n01440764',
  '--per-class',
  '5',
  '--shard-size',
  '4',
  '--seed',
  '11',
  '--truncation',
  '0.5',
];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, 'dataset', ...args],
      { env: { ...process.env, ...env }, timeout: 120_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

async function ok(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const r = await cli(args, env);
  assert.equal(r.code, 0, `dataset ${args.join(' ')} failed:\n${r.stderr}`);
  return r;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Every file of the folder with its SHA-256. */
async function hashes(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of (await readdir(dir)).sort()) out[f] = sha256(await readFile(path.join(dir, f)));
  return out;
}

interface Manifest {
  spec: { classes: number[]; seed: string; weights_sha256: string };
  weights_sha256: string;
  samples: number;
  shards: { name: string; samples: number; bytes: number; sha256: string }[];
}
const manifestOf = async (dir: string) =>
  JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;

let tmp: string;
let whole: string;
before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'biggan-dataset-'));
  whole = path.join(tmp, 'whole');
  await ok([...SPEC, '--out', whole, '--batch-size', '8']);
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

test('--help lists the flags; the top-level help lists the command', async () => {
  const r = await ok(['--help']);
  assert.match(r.stdout, /Usage: biggan-serve dataset/);
  for (const flag of [
    '--classes',
    '--per-class',
    '--shard-size',
    '--part I/N',
    '--parts N',
    '--merge',
    '--format png|jpeg|webp',
  ])
    assert.ok(r.stdout.includes(flag), flag);
  const top = await new Promise<string>((resolve) =>
    execFile(process.execPath, [CLI, '--help'], (_e, stdout) => resolve(stdout)),
  );
  assert.match(top, /\n {2}dataset {2,}Write a reproducible dataset/);
});

test('two runs with different batch sizes write byte-identical shards and manifest', async () => {
  const again = path.join(tmp, 'batch3');
  const r = await ok([...SPEC, '--out', again, '--batch-size', '3', '--pipeline-depth', '2']);
  assert.match(r.stderr, /wrote 15 images in 4 shard\(s\)/);
  const a = await hashes(whole);
  assert.deepEqual(Object.keys(a), [
    'biggan-000000.tar',
    'biggan-000001.tar',
    'biggan-000002.tar',
    'biggan-000003.tar',
    'manifest.json',
    'manifest.part-0-of-1.json',
  ]);
  assert.deepEqual(await hashes(again), a);
  const m = await manifestOf(whole);
  assert.deepEqual(m.spec.classes, [3, 207, 0]);
  assert.equal(m.samples, 15);
  assert.match(m.weights_sha256, /^[0-9a-f]{64}$/);
  assert.equal(m.spec.weights_sha256, m.weights_sha256);
  assert.deepEqual(
    m.shards.map((s) => s.samples),
    [4, 4, 4, 3],
  );
  for (const s of m.shards) {
    const bytes = await readFile(path.join(whole, s.name));
    assert.equal(s.bytes, bytes.length);
    assert.equal(s.sha256, sha256(bytes));
    assert.match(s.sha256, /^[0-9a-f]{64}$/);
  }
});

test('the shards read back with a tar reader: fixed headers, members grouped by key in order', async () => {
  const m = await manifestOf(whole);
  const keys: string[] = [];
  for (const s of m.shards) {
    const members = await readTar(path.join(whole, s.name));
    assert.equal(members.length, 3 * s.samples);
    for (const e of members) {
      assert.equal(e.type, 'file');
      assert.equal(e.mode, 0o644);
      assert.equal(e.uid, 0);
      assert.equal(e.gid, 0);
      assert.equal(e.mtime?.getTime(), 0);
    }
    for (let j = 0; j < members.length; j += 3) {
      const key = members[j].name.replace(/\.cls$/, '');
      assert.deepEqual(
        members.slice(j, j + 3).map((e) => e.name),
        [`${key}.cls`, `${key}.json`, `${key}.png`],
      );
      const info = JSON.parse(members[j + 1].data.toString()) as {
        class: number;
        seed: number;
        truncation: number;
        key: string;
        model: string;
        weights_sha256: string;
      };
      assert.equal(members[j].data.toString(), String(info.class));
      assert.equal(info.key, key);
      assert.equal(info.truncation, 0.5);
      assert.equal(info.model, 'tiny-128');
      assert.match(info.weights_sha256, /^[0-9a-f]{64}$/);
      assert.deepEqual([...members[j + 2].data.subarray(1, 4)].map((c) => String.fromCharCode(c)).join(''), 'PNG');
      keys.push(key);
      const i = Number(key);
      assert.equal(info.seed, 11 + i);
      assert.equal(info.class, [3, 207, 0][Math.floor(i / 5)]);
    }
  }
  assert.deepEqual(
    keys,
    Array.from({ length: 15 }, (_, i) => String(i).padStart(9, '0')),
  );
});

test('parts 0/2 and 1/2 (one via JOB_COMPLETION_INDEX) equal one whole run; the last part merges', async () => {
  const split = path.join(tmp, 'split');
  const first = await ok([...SPEC, '--out', split, '--part', '1/2']);
  assert.match(first.stdout, /2 shard\(s\) of other parts still missing/);
  const early = await cli(['--merge', '--out', split]);
  assert.equal(early.code, 1);
  assert.match(
    early.stderr,
    /2 of 4 shard\(s\) are in no part manifest yet \(biggan-000000\.tar, biggan-000002\.tar\)/,
  );
  const second = await ok([...SPEC, '--out', split, '--parts', '2'], { JOB_COMPLETION_INDEX: '0' });
  assert.match(second.stdout, /manifest\.json complete/);
  const a = await hashes(whole);
  const b = await hashes(split);
  for (const f of Object.keys(a).filter((n) => n.endsWith('.tar') || n === 'manifest.json'))
    assert.equal(b[f], a[f], f);
  assert.deepEqual(
    Object.keys(b).filter((n) => !n.endsWith('.tar')),
    ['manifest.json', 'manifest.part-0-of-2.json', 'manifest.part-1-of-2.json'],
  );
  // --merge again is harmless and gives the same manifest.
  await rm(path.join(split, 'manifest.json'));
  assert.equal((await cli(['--merge', '--out', split])).code, 0);
  assert.equal((await hashes(split))['manifest.json'], a['manifest.json']);
});

test('a run killed with SIGKILL mid-run leaves no partial shard and resumes to the same bytes', async () => {
  const dir = path.join(tmp, 'killed');
  // More work so the kill lands mid-run: 40 samples in shards of 2, batch 1.
  const spec = [
    '--weights',
    FIXTURE_DIR,
    '--classes',
    '0-3',
    '--per-class',
    '10',
    '--shard-size',
    '2',
    '--seed',
    '5',
    '--batch-size',
    '1',
  ];
  const child = spawn(process.execPath, [CLI, 'dataset', ...spec, '--out', dir], { stdio: 'ignore' });
  const deadline = Date.now() + 60_000;
  let names: string[] = [];
  while (Date.now() < deadline) {
    names = await readdir(dir).catch(() => []);
    if (names.filter((n) => n.endsWith('.record.json')).length >= 3) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  names = await readdir(dir);
  assert.ok(!names.includes('manifest.json'), `the run should have been killed before the end: ${names.join(' ')}`);
  // Every file under a final .tar name is a complete tar with all its samples.
  for (const n of names.filter((f) => f.endsWith('.tar')))
    assert.equal((await readTar(path.join(dir, n))).length, 6, n);
  const r = await ok([...spec, '--out', dir]);
  assert.match(r.stderr, /finished shard\(s\) verified and kept/);
  const clean = path.join(tmp, 'clean');
  await ok([...spec, '--out', clean, '--batch-size', '8']);
  const [a, b] = [await hashes(dir), await hashes(clean)];
  assert.deepEqual(b, a);
  assert.ok(
    Object.keys(a).every((n) => n.endsWith('.tar') || n.endsWith('.json')),
    Object.keys(a).join(' '),
  );
});

test('SIGTERM stops after the current batch, removes the unfinished shard and exits 1', async () => {
  const dir = path.join(tmp, 'terminated');
  const spec = [
    '--weights',
    FIXTURE_DIR,
    '--classes',
    '0-3',
    '--per-class',
    '10',
    '--shard-size',
    '3',
    '--seed',
    '5',
    '--batch-size',
    '1',
  ];
  const child = spawn(process.execPath, [CLI, 'dataset', ...spec, '--out', dir], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && !(await readdir(dir).catch(() => [])).some((n) => n.endsWith('.record.json')))
    await new Promise((r) => setTimeout(r, 20));
  child.kill('SIGTERM');
  const code = await new Promise((r) => child.once('exit', r));
  assert.equal(code, 1, stderr);
  assert.match(stderr, /SIGTERM: stopping after the current batch/);
  assert.match(stderr, /stopped by a signal; rerun the same command to resume/);
  const names = await readdir(dir);
  assert.ok(
    names.every((n) => /^biggan-\d{6}\.(tar|record\.json)$/.test(n)),
    `only finished shards and their records remain: ${names.join(' ')}`,
  );
  for (const n of names.filter((f) => f.endsWith('.tar')))
    assert.equal((await readTar(path.join(dir, n))).length, 9, n);
});

test('a rerun rewrites a shard whose bytes no longer match its record', async () => {
  const dir = path.join(tmp, 'tampered');
  await ok([...SPEC, '--out', dir]);
  const before = await hashes(dir);
  await writeFile(path.join(dir, 'biggan-000002.tar'), 'not a tar');
  const r = await ok([...SPEC, '--out', dir]);
  assert.match(r.stderr, /wrote 4 images in 1 shard\(s\).*\(3 finished shard\(s\) verified and kept\)/);
  assert.deepEqual(await hashes(dir), before);
});

test('bad input is refused with a clear error naming the flag', async () => {
  const out = path.join(tmp, 'bad');
  const cases: [string[], number, RegExp][] = [
    [['--classes', '0,zebrafoo'], 2, /--classes: unknown class "zebrafoo"/],
    [['--classes', '0-1000'], 2, /--classes: class index must be an integer in 0\.\.999/],
    [['--part', '2/2'], 2, /--part: expected I\/N with 0 <= I < N/],
    [['--parts', '2'], 2, /--parts 2 needs JOB_COMPLETION_INDEX/],
    [['--truncation', '0'], 2, /--truncation/],
    [['--seed', '-1'], 2, /--seed/],
  ];
  for (const [extra, code, re] of cases) {
    const r = await cli([...SPEC, '--out', out, ...extra]);
    assert.equal(r.code, code, `${extra.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.doesNotMatch(r.stderr, /unexpected error|\n\s+at /);
  }
  const other = await cli([...SPEC, '--out', whole, '--seed', '12']);
  assert.equal(other.code, 2);
  assert.match(other.stderr, /holds another dataset/);
});

test('an unwritable folder is a clear error and nothing is left behind', async () => {
  const file = path.join(tmp, 'a-file');
  await writeFile(file, 'x');
  const r = await cli([...SPEC, '--out', path.join(file, 'sub')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot create folder .*a-file\/sub: a part of the path is a file, not a folder \(ENOTDIR\)/);
});

test('a write that fails (file-size limit, like a full disk) is a clear error and keeps no half-written file', async () => {
  const dir = path.join(tmp, 'full');
  // SIGXFSZ ignored: a write past `ulimit -f` (blocks of 512 or 1024 bytes) fails with EFBIG instead.
  const args = [CLI, 'dataset', ...SPEC, '--shard-size', '15', '--out', dir].map((a) => `'${a}'`).join(' ');
  const r = await new Promise<Run>((resolve) => {
    execFile(
      '/bin/sh',
      ['-c', `trap '' XFSZ; ulimit -f 200; exec '${process.execPath}' ${args}`],
      { timeout: 120_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /cannot write .*biggan-000000\.tar: file too large .*\(EFBIG\)/);
  assert.deepEqual(await readdir(dir), []);
});
