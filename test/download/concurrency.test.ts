/**
 * Two `download`s of one model into one cache at the same time (issue 8, item 6): the second
 * must wait for the first (or find its finished file), never append to the first one's file.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { downloadModel } from '../../src/download/download.js';
import { fakeWeights, fixtureConfig, serveFiles, startHost, tempDir } from './fake-host.js';

const NAME = 'biggan-deep-128';
const CONFIG_PATH = `/${NAME}-config.json`;
const BIN_PATH = `/${NAME}-pytorch_model.bin`;
const BIN = fakeWeights(2 * 1024 * 1024 + 5);
const CONFIG = fixtureConfig();

/** A promise with its resolve function outside, to wait on a state another callback reaches. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('concurrent downloads into one cache', () => {
  let cache: string;
  before(async () => {
    cache = await tempDir();
  });
  after(async () => {
    await fs.promises.rm(cache, { recursive: true, force: true });
  });

  it("give one complete, byte-identical file; the second run never appends to the first one's file", async () => {
    // The first transfer of the weights sends half, then holds until the second run has either
    // asked for the rest itself (the old, racy behaviour) or is waiting for the first run.
    const secondStarted = deferred();
    const files = serveFiles({ [CONFIG_PATH]: CONFIG, [BIN_PATH]: BIN });
    const half = BIN.length >> 1;
    const host = await startHost((req, res, n) => {
      if (req.url === BIN_PATH && n === 0) {
        res.writeHead(200, { 'Content-Length': BIN.length });
        res.write(BIN.subarray(0, half));
        void secondStarted.promise.then(() => res.end(BIN.subarray(half)));
        return;
      }
      if (req.url === BIN_PATH) {
        // The second run's own request: answer it fully, then let the first one finish.
        res.on('finish', secondStarted.resolve);
      }
      files(req, res, n);
    });
    try {
      const firstHasBytes = deferred();
      const first = downloadModel(NAME, {
        cacheDir: cache,
        baseUrl: host.url,
        onProgress: (p) => p.file === 'pytorch_model.bin' && p.phase === 'transfer' && firstHasBytes.resolve(),
      });
      await firstHasBytes.promise;
      const waits: string[] = [];
      const second = downloadModel(NAME, {
        cacheDir: cache,
        baseUrl: host.url,
        onWait: (holder: string) => {
          waits.push(holder);
          secondStarted.resolve();
        },
      });
      const results = await Promise.allSettled([first, second]);
      const dir = path.join(cache, NAME);
      const onDisk = fs.readFileSync(path.join(dir, 'pytorch_model.bin'));
      assert.equal(onDisk.length, BIN.length, 'the cached weights have the wrong size');
      assert.ok(onDisk.equals(BIN), 'the cached weights differ from the published bytes');
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'fulfilled'],
        JSON.stringify(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok'))),
      );
      // The second run waited for the first and then found the file complete: it fetched nothing.
      assert.equal(waits.length, 1);
      assert.match(waits[0], new RegExp(`pid ${process.pid}`));
      assert.equal(host.requests.filter((r) => r.path === BIN_PATH).length, 1);
      const second$ = results[1];
      assert.ok(second$.status === 'fulfilled');
      assert.deepEqual(
        second$.value.files.map((f) => f.fetched),
        [false, false],
      );
      assert.ok(!fs.existsSync(path.join(dir, 'pytorch_model.bin.partial')));
    } finally {
      await host.close();
    }
  });

  it(
    'two `biggan-serve download` processes: the second waits for the first, then finds the file complete',
    { timeout: 60_000 },
    async () => {
      const cache2 = path.join(cache, 'cli');
      const secondWaits = deferred();
      const firstHasBytes = deferred();
      const files = serveFiles({ [CONFIG_PATH]: CONFIG, [BIN_PATH]: BIN });
      const half = BIN.length >> 1;
      const host = await startHost((req, res, n) => {
        if (req.url === BIN_PATH && n === 0) {
          res.writeHead(200, { 'Content-Length': BIN.length });
          res.write(BIN.subarray(0, half), firstHasBytes.resolve);
          void secondWaits.promise.then(() => res.end(BIN.subarray(half)));
          return;
        }
        if (req.url === BIN_PATH) res.on('finish', secondWaits.resolve); // the old, racy way: it fetched for itself
        files(req, res, n);
      });
      const children: ChildProcess[] = [];
      try {
        const args = ['download', NAME, '--cache', cache2, '--base-url', host.url];
        const first = runCli(args, children);
        await firstHasBytes.promise;
        const second = runCli(
          args,
          children,
          (stderr) => /waiting for it to finish/.test(stderr) && secondWaits.resolve(),
        );
        const [a, b] = await Promise.all([first, second]);
        const dir = path.join(cache2, NAME);
        assert.equal(a.code, 0, a.stderr);
        assert.equal(b.code, 0, b.stderr);
        assert.equal(a.stdout, `${dir}\n`);
        assert.equal(b.stdout, `${dir}\n`);
        assert.match(
          b.stderr,
          new RegExp(`another download of ${NAME} is writing this cache entry \\(pid ${children[0].pid} since `),
        );
        assert.match(b.stderr, /pytorch_model\.bin {2}2\.0 MiB {2}already downloaded/);
        assert.ok(fs.readFileSync(path.join(dir, 'pytorch_model.bin')).equals(BIN));
        assert.equal(host.requests.filter((r) => r.path === BIN_PATH).length, 1);
      } finally {
        for (const c of children) if (c.exitCode === null) c.kill();
        await host.close();
      }
    },
  );
});

/** Runs the command line in a child process (the built one under dist/, or the sources through tsx). */
function runCli(
  args: string[],
  children: ChildProcess[],
  onStderr?: (all: string) => void,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const fromSources = fileURLToPath(import.meta.url).endsWith('.ts');
  const entry = fromSources
    ? ['--import', 'tsx', path.join(process.cwd(), 'src', 'cli', 'main.ts')]
    : [path.join(process.cwd(), 'dist', 'src', 'cli', 'main.js')];
  const child = spawn(process.execPath, [...entry, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
    onStderr?.(stderr);
  });
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}
