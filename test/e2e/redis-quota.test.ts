/**
 * Shared quotas: two `serve` processes with one real redis-server enforce one limit per key;
 * Redis killed mid-run makes the fail-closed replica answer 503 (with a metric and a log line) and
 * the fail-open one serve unmetered, and both share the limit again once Redis is back.
 * Needs Debian's redis-server (fails with an install hint without it).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { FIXTURE_DIR } from '../helpers/fixtures.js';
import { freePort, RedisServer, tempDir, testKey, waitFor, writeKeyFile } from '../helpers/access.js';

const CLI = path.join(process.cwd(), 'dist/src/cli/main.js');
const dir = tempDir('biggan-redis-quota-');
const keyFile = path.join(dir, 'keys.json');
// Slow refill (one image every 10 s), so the shared burst is the whole budget during the test.
const shared = testKey('shared', { imagesPerSecond: 0.1, burst: 3 });
const free = testKey('free');

/** One `serve` process. */
class Replica {
  child: ChildProcess | undefined;
  output = '';
  constructor(
    readonly name: string,
    readonly port: number,
    readonly failure: 'closed' | 'open',
  ) {}

  start(redisUrl: string): void {
    const args = [
      CLI,
      'serve',
      '--weights',
      FIXTURE_DIR,
      '--host',
      '127.0.0.1',
      '--http-port',
      String(this.port),
      '--grpc-port',
      '-1',
      '--threads',
      '1',
      '--max-batch-size',
      '4',
      '--max-queue-delay-ms',
      '2',
      '--api-keys',
      keyFile,
      '--quota-redis',
      redisUrl,
      '--quota-redis-failure',
      this.failure,
      '--log-level',
      'info',
    ];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => (this.output += d));
    child.stderr!.on('data', (d: Buffer) => (this.output += d));
    this.child = child;
  }

  async ready(): Promise<void> {
    await waitFor(
      `${this.name} ready`,
      async () => (await fetch(`http://127.0.0.1:${this.port}/readyz`)).status === 200,
      60_000,
    );
  }

  generate(seed: number, key = shared.key): Promise<Response> {
    return fetch(`http://127.0.0.1:${this.port}/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ class: 5, seed }),
    });
  }

  async metrics(): Promise<string> {
    return (await fetch(`http://127.0.0.1:${this.port}/metrics`)).text();
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}

let redis: RedisServer;
let closed: Replica;
let open: Replica;
let seed = 50_000;

before(async () => {
  writeKeyFile(keyFile, [shared, free]);
  redis = new RedisServer(await freePort());
  await redis.start();
  closed = new Replica('closed', await freePort(), 'closed');
  open = new Replica('open', await freePort(), 'open');
  closed.start(redis.url);
  open.start(redis.url);
  await Promise.all([closed.ready(), open.ready()]);
});

after(async () => {
  await Promise.all([closed?.stop(), open?.stop()]);
  await redis?.kill();
});

test('two replicas sharing one Redis enforce one limit per key', async () => {
  const statuses: number[] = [];
  // Alternate replicas: with buckets per process each would allow its own burst of 3 (6 in all).
  for (let i = 0; i < 8; i++) statuses.push((await (i % 2 === 0 ? closed : open).generate((seed += 100))).status);
  assert.equal(statuses.filter((s) => s === 200).length, 3, `statuses ${statuses.join(',')}`);
  assert.equal(statuses.filter((s) => s === 429).length, 5, `statuses ${statuses.join(',')}`);
  // A key without a quota never touches Redis.
  assert.equal((await closed.generate((seed += 100), free.key)).status, 200);
});

test('Redis killed mid-run: fail-closed answers 503 with a clear message, fail-open serves; both recover when it returns', async () => {
  await redis.kill();
  const down = await closed.generate((seed += 100));
  assert.equal(down.status, 503);
  assert.match(
    ((await down.json()) as { error: { message: string } }).error.message,
    /quota store \(Redis\) is not answering/,
  );
  assert.equal((await open.generate((seed += 100))).status, 200, 'fail-open lets keyed requests through');
  assert.equal((await closed.generate((seed += 100), free.key)).status, 200, 'keys without a quota are not affected');
  await waitFor('the outage in metrics', async () => /biggan_quota_store_up 0/.test(await closed.metrics()));
  assert.match(await closed.metrics(), /biggan_quota_store_errors_total [1-9]/);
  await waitFor('the outage logged', () => /quota store \(Redis\) unreachable/.test(closed.output));

  await redis.start(); // same port: ioredis reconnects by itself
  await waitFor('closed replica recovered', async () => (await closed.generate((seed += 100))).status === 200, 15_000);
  await waitFor('recovery in metrics', async () => /biggan_quota_store_up 1/.test(await closed.metrics()));
  assert.match(closed.output, /quota store \(Redis\) reachable again/);
  // Shared again: the fresh bucket (burst 3, one used above) runs out across both replicas.
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) statuses.push((await (i % 2 === 0 ? open : closed).generate((seed += 100))).status);
  assert.equal(statuses.filter((s) => s === 200).length, 2, `statuses ${statuses.join(',')}`);
});
