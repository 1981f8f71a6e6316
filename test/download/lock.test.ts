import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { BigGanError } from '../../src/errors.js';
import { acquireLock, breakStale, FOREIGN_STALE_MS, isStale } from '../../src/download/lock.js';
import { downloadModel } from '../../src/download/download.js';
import { fakeWeights, fixtureConfig, serveFiles, startHost, tempDir } from './fake-host.js';

/** The pid of a process that has exited (so, dead unless the system reused it since). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  const pid = child.pid;
  assert.ok(pid !== undefined);
  await new Promise((resolve) => child.once('exit', resolve));
  return pid;
}

const lockOf = (pid: number, extra: object = {}) =>
  JSON.stringify({ pid, host: os.hostname(), since: '2026-01-01T00:00:00.000Z', ...extra });

describe('acquireLock', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir();
  });
  after(async () => {
    await fs.promises.rm(dir, { recursive: true, force: true });
  });
  let seq = 0;
  const freshLock = () => path.join(dir, `lock-${seq++}`);

  it('takes over a lock whose holder pid is dead, without waiting', async () => {
    const file = freshLock();
    fs.writeFileSync(file, lockOf(await deadPid()));
    const waits: string[] = [];
    const lock = await acquireLock(file, { onWait: (h) => waits.push(h) });
    assert.deepEqual(waits, []);
    assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).pid, process.pid);
    await lock.release();
    assert.ok(!fs.existsSync(file));
  });

  it('takes over a garbled lock file, and one whose pid was reused by another process', async () => {
    const garbled = freshLock();
    fs.writeFileSync(garbled, 'not json');
    await (await acquireLock(garbled)).release();
    // Our own pid, but another process start time: the pid was reused, the holder is gone.
    if (fs.existsSync('/proc/self/stat')) {
      assert.equal(isStale({ pid: process.pid, host: os.hostname(), since: 'x', procStart: '1' }), true);
      assert.equal(isStale({ pid: process.pid, host: os.hostname(), since: 'x' }), false);
    }
    // Another host's pids mean nothing here: its lock is stale only once its holder stopped touching it.
    const foreign = { pid: await deadPid(), host: `not-${os.hostname()}`, since: 'x' };
    assert.equal(isStale(foreign, Date.now() - 5_000), false);
    assert.equal(isStale(foreign, Date.now() - FOREIGN_STALE_MS - 1_000), true);
  });

  it('takes over a lock from another host once it has not been touched for FOREIGN_STALE_MS, not before', async () => {
    const file = freshLock();
    fs.writeFileSync(file, JSON.stringify({ pid: 1, host: `not-${os.hostname()}`, since: 'x' }));
    const ac = new AbortController();
    // Fresh: a live holder on another node; we wait (and give up here by aborting).
    await assert.rejects(
      acquireLock(file, { signal: ac.signal, onWait: () => ac.abort() }),
      (e: unknown) => e instanceof BigGanError && e.code === 'CANCELLED',
    );
    const old = new Date(Date.now() - FOREIGN_STALE_MS - 60_000);
    fs.utimesSync(file, old, old);
    const waits: string[] = [];
    await (await acquireLock(file, { onWait: (h) => waits.push(h) })).release();
    assert.deepEqual(waits, []);
  });

  it('keeps touching its lock file while held (so other hosts see it alive), and stops on release', async () => {
    const file = freshLock();
    const lock = await acquireLock(file, { heartbeatMs: 10 });
    const old = new Date(Date.now() - 3_600_000);
    fs.utimesSync(file, old, old);
    // Wait (bounded) until the heartbeat has touched it again.
    const deadline = Date.now() + 5_000;
    while (fs.statSync(file).mtimeMs < Date.now() - 60_000 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 5));
    assert.ok(fs.statSync(file).mtimeMs > Date.now() - 60_000, 'the heartbeat never touched the lock');
    await lock.release();
    assert.ok(!fs.existsSync(file));
  });

  it('waits while a live process holds it, reports the holder once, and gets it on release', async () => {
    const file = freshLock();
    const first = await acquireLock(file);
    const waits: string[] = [];
    let waiting = () => {};
    const announced = new Promise<void>((r) => (waiting = r));
    const second = acquireLock(file, {
      pollMs: 10,
      onWait: (h) => {
        waits.push(h);
        waiting();
      },
    });
    await announced;
    assert.match(waits[0], new RegExp(`^pid ${process.pid} since \\d{4}-`));
    await first.release();
    const lock = await second;
    assert.equal(waits.length, 1);
    await lock.release();
  });

  it('stops waiting with CANCELLED when its signal is aborted', async () => {
    const file = freshLock();
    const first = await acquireLock(file);
    const ac = new AbortController();
    const second = acquireLock(file, { signal: ac.signal, onWait: () => ac.abort() });
    await assert.rejects(second, (e: unknown) => e instanceof BigGanError && e.code === 'CANCELLED');
    await first.release();
  });

  it('never breaks a lock another waiter has just taken over (it judged the old one stale too)', async () => {
    const file = freshLock();
    const stale = { pid: await deadPid(), host: os.hostname(), since: '2026-01-01T00:00:00.000Z' };
    fs.writeFileSync(file, JSON.stringify(stale));
    // Waiter A takes over; waiter B read the stale holder before that and now breaks "it".
    const a = await acquireLock(file);
    await breakStale(file, stale);
    assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).pid, process.pid, "A's lock was deleted");
    assert.ok(!fs.existsSync(file + '.break'));
    await a.release();
  });

  it('lets exactly one of many racing waiters take over a stale lock at a time', async () => {
    const file = freshLock();
    fs.writeFileSync(file, lockOf(await deadPid()));
    let active = 0;
    let maxActive = 0;
    let done = 0;
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        const lock = await acquireLock(file, { pollMs: 5 });
        active++;
        maxActive = Math.max(maxActive, active);
        // Hold across a few turns of the event loop so that the others try to break in.
        for (let i = 0; i < 5; i++) await nextTurn();
        active--;
        done++;
        await lock.release();
      }),
    );
    assert.equal(done, 6);
    assert.equal(maxActive, 1);
    assert.ok(!fs.existsSync(file));
    assert.ok(!fs.existsSync(file + '.break'));
  });
});

describe('downloadModel and a stale lock', () => {
  it('takes over a cache entry left locked by a download that died', async () => {
    const cache = await tempDir();
    const bin = fakeWeights(300_000);
    const host = await startHost(
      serveFiles({ '/biggan-deep-128-config.json': fixtureConfig(), '/biggan-deep-128-pytorch_model.bin': bin }),
    );
    try {
      const dir = path.join(cache, 'biggan-deep-128');
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, '.download.lock'), lockOf(await deadPid()));
      const waits: string[] = [];
      await downloadModel('biggan-deep-128', {
        cacheDir: cache,
        baseUrl: host.url,
        onWait: (h) => waits.push(h),
        onWarning: () => {},
      });
      assert.deepEqual(waits, []);
      assert.ok(fs.readFileSync(path.join(dir, 'pytorch_model.bin')).equals(bin));
      assert.ok(!fs.existsSync(path.join(dir, '.download.lock')));
    } finally {
      await host.close();
      await fs.promises.rm(cache, { recursive: true, force: true });
    }
  });
});
