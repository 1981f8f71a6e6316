/**
 * Overhead of API keys and quotas: the same server three ways (open; keys with an in-process
 * quota; keys with the quota in Redis), measured on the cached hot path (every request a cache
 * hit, so the engine is idle and per-request costs show) and on the uncached path (every image
 * computed), at one concurrency, interleaved in rounds so machine noise hits all three alike.
 *
 *   node dist/src/bench/auth-bench.js [--weights DIR] [--seconds 5] [--rounds 3] [--concurrency 16] [--uncached-seconds 10]
 *
 * Without --weights a full-width random biggan-deep-128 is used (written to the temp folder once).
 * Needs redis-server on PATH for the Redis variant.
 */
import http from 'node:http';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync, mkdtempSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { defineOptions, formatHelp, parseOptions, type OptionValues } from '../config/options.js';
import { parseServerConfig } from '../config/server-config.js';
import { startServer, type RunningServer } from '../server/start.js';
import { hashKey } from '../auth/key-file.js';
import { KeyStore } from '../auth/key-store.js';
import { LocalQuotaStore, type QuotaStore } from '../auth/quota-store.js';
import { RedisQuotaStore } from '../auth/redis-quota-store.js';
import { presetConfig, configToJson } from '../model/config.js';
import { randomStateDict } from '../model/random-weights.js';
import { writeSafetensors } from '../weights/safetensors-writer.js';

const SPECS = defineOptions([
  {
    name: 'weights',
    type: 'string',
    placeholder: 'DIR',
    description: 'Model folder (default: a full-width random biggan-deep-128).',
  },
  { name: 'seconds', type: 'number', default: 5, min: 0.5, description: 'Seconds per cached-path run.' },
  {
    name: 'uncached-seconds',
    type: 'number',
    default: 10,
    min: 0,
    description: 'Seconds per uncached run (0 skips the uncached path).',
  },
  {
    name: 'rounds',
    type: 'integer',
    default: 3,
    min: 1,
    description: 'Rounds (each runs every variant once; medians are reported).',
  },
  { name: 'concurrency', type: 'integer', default: 16, min: 1, description: 'Requests in flight.' },
  { name: 'threads', type: 'integer', min: 1, description: 'Engine threads per server.' },
  {
    name: 'reverse',
    type: 'boolean',
    default: false,
    description: 'Run the variants in reverse order within each round (shows order effects).',
  },
  {
    name: 'micro-only',
    type: 'boolean',
    default: false,
    description: 'Only the per-call costs (key check, in-process and Redis bucket take), no servers.',
  },
]);

const KEY = 'bgs_bench_key_0123456789abcdefghijklmnopqrstuvwxyz';

interface Run {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly failed: number;
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

async function randomModel(): Promise<string> {
  const dir = path.join(os.tmpdir(), 'biggan-bench-random-128');
  if (existsSync(path.join(dir, 'config.json')) && existsSync(path.join(dir, 'model.safetensors'))) return dir;
  process.stderr.write(`auth-bench: writing a full-width random biggan-deep-128 to ${dir}\n`);
  await mkdir(dir, { recursive: true });
  const config = presetConfig('biggan-deep-128');
  await writeSafetensors(path.join(dir, 'model.safetensors'), randomStateDict(config, 1));
  await writeFile(path.join(dir, 'config.json'), configToJson(config));
  return dir;
}

/** POSTs `body(n)` to /generate at `concurrency` for `seconds`. */
async function load(
  port: number,
  concurrency: number,
  seconds: number,
  body: (n: number) => string,
  headers: Record<string, string>,
): Promise<Run> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  let failed = 0;
  let sent = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  const one = (b: string) =>
    new Promise<number>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/generate',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(b), ...headers },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(b);
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const start = performance.now();
        const status = await one(body(sent++)).catch(() => 0);
        if (status === 200) latencies.push(performance.now() - start);
        else failed++;
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  return { requestsPerSecond: latencies.length / elapsed, p50Ms: at(0.5), p99Ms: at(0.99), failed };
}

/** Microseconds per call of `fn` (median of 5 batches of `n` calls, run one after another). */
async function perCall(n: number, fn: () => unknown): Promise<number> {
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await fn();
    runs.push(((performance.now() - t0) * 1000) / n);
  }
  return median(runs);
}

/** The per-request costs alone: checking a key among 100, and taking from a bucket in process and in Redis. */
async function microCosts(redisPort: number): Promise<void> {
  const store = new KeyStore(Array.from({ length: 100 }, (_, i) => ({ name: `k${i}`, sha256: hashKey(`key-${i}`) })));
  const limits = { imagesPerSecond: 1e9, burst: 1e9 };
  const local: QuotaStore = new LocalQuotaStore();
  const redis = new RedisQuotaStore({ url: `redis://127.0.0.1:${redisPort}` });
  for (let i = 0; i < 100 && !redis.connected; i++) await new Promise((r) => setTimeout(r, 20));
  const auth = await perCall(20_000, () => store.authenticate('key-99'));
  const take = await perCall(20_000, () => local.take('k', limits, 1));
  const redisTake = await perCall(1_000, () => redis.take('k', limits, 1));
  await redis.close();
  process.stdout.write(
    `per call (median of 5 batches): key check among 100 keys ${auth.toFixed(2)} us; bucket take in process ${take.toFixed(2)} us; in Redis (local redis-server, one round trip) ${redisTake.toFixed(1)} us\n`,
  );
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The parsed flags of the auth bench. */
type AuthBenchValues = OptionValues<typeof SPECS>;

/** One server configuration measured: its extra flags and the headers its clients send. */
interface Variant {
  readonly name: string;
  readonly args: string[];
  readonly headers: Record<string, string>;
}

/** The measured runs of one variant, per path. */
interface VariantResults {
  readonly cached: Run[];
  readonly uncached: Run[];
}

/** Writes a key file holding the bench key, with a quota too large to refuse anything (the full quota path runs). */
function writeKeyFile(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'biggan-auth-bench-'));
  const keyFile = path.join(dir, 'keys.json');
  writeFileSync(
    keyFile,
    JSON.stringify({
      keys: [{ name: 'bench', sha256: hashKey(KEY), imagesPerSecond: 1e6, burst: 1e6, maxInFlight: 1e6 }],
    }),
  );
  return keyFile;
}

/** Starts a throwaway redis-server (no persistence) on `port`. */
async function startRedis(port: number): Promise<ChildProcess> {
  const redis = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  await new Promise((r) => setTimeout(r, 300)); // redis-server starting
  return redis;
}

/** Server flags shared by every variant. */
function baseServerArgs(v: AuthBenchValues, weights: string): string[] {
  return [
    '--weights',
    weights,
    '--host',
    '127.0.0.1',
    '--http-port',
    '0',
    '--grpc-port',
    '-1',
    '--log-level',
    'warn',
    '--max-queue-size',
    '1024',
    '--max-batch-size',
    '8',
    // A long queue-wait bound: the uncached runs measure throughput, not overload refusals.
    '--max-queue-wait-ms',
    '600000',
    ...(v.threads ? ['--threads', String(v.threads)] : []),
  ];
}

/** The three variants: open, keys with the quota in process, keys with the quota in Redis. */
function authVariants(keyFile: string, redisPort: number): Variant[] {
  return [
    { name: 'open', args: [], headers: {} },
    { name: 'keys + quota in process', args: ['--api-keys', keyFile], headers: { authorization: `Bearer ${KEY}` } },
    {
      name: 'keys + quota in Redis',
      args: ['--api-keys', keyFile, '--quota-redis', `redis://127.0.0.1:${redisPort}`],
      headers: { authorization: `Bearer ${KEY}` },
    },
  ];
}

/** The cached path's body: one of 16 seeded images. */
const cachedBody = (n: number) => JSON.stringify({ class: 207, seed: n % 16, truncation: 0.4 });

/** Computes the 16 cached-path images once on every server, before measuring. */
async function warmCaches(servers: RunningServer[], variants: Variant[]): Promise<void> {
  for (let i = 0; i < servers.length; i++) {
    for (let n = 0; n < 16; n++) await load(servers[i].httpPort, 1, 0.001, () => cachedBody(n), variants[i].headers);
  }
}

/** Runs every variant once per round (cached path, then uncached), interleaved so noise hits all alike. */
async function measureRounds(
  v: AuthBenchValues,
  servers: RunningServer[],
  variants: Variant[],
): Promise<VariantResults[]> {
  const results: VariantResults[] = variants.map(() => ({ cached: [], uncached: [] }));
  let seed = 1_000_000;
  const uncachedBody = () => JSON.stringify({ class: 207, seed: seed++ });
  for (let round = 0; round < v.rounds; round++) {
    for (const i of v.reverse ? servers.map((_, k) => servers.length - 1 - k) : servers.map((_, k) => k)) {
      const { httpPort } = servers[i];
      results[i].cached.push(await load(httpPort, v.concurrency, v.seconds, cachedBody, variants[i].headers));
      if (v['uncached-seconds'] > 0) {
        results[i].uncached.push(
          await load(httpPort, v.concurrency, v['uncached-seconds'], uncachedBody, variants[i].headers),
        );
        // Work still queued when the clients stopped must not run into the next variant's time.
        await servers[i].service.whenIdle();
      }
    }
    process.stderr.write(`auth-bench: round ${round + 1}/${v.rounds} done\n`);
  }
  return results;
}

/** One result line: median throughput and latencies over the rounds, total failures. */
function formatRow(runs: Run[]): string {
  const rps = median(runs.map((r) => r.requestsPerSecond)).toFixed(1);
  const p50 = median(runs.map((r) => r.p50Ms)).toFixed(2);
  const p99 = median(runs.map((r) => r.p99Ms)).toFixed(2);
  const failed = runs.reduce((n, r) => n + r.failed, 0);
  return `${rps.padStart(9)} req/s  p50 ${p50.padStart(7)} ms  p99 ${p99.padStart(7)} ms  failed ${failed}`;
}

/** Prints the medians per path and variant. */
function printResults(v: AuthBenchValues, weights: string, variants: Variant[], results: VariantResults[]): void {
  process.stdout.write(`concurrency ${v.concurrency}, ${v.rounds} rounds, medians (${path.basename(weights)})\n`);
  for (const path_ of ['cached', 'uncached'] as const) {
    if (path_ === 'uncached' && v['uncached-seconds'] === 0) continue;
    process.stdout.write(`${path_} path:\n`);
    variants.forEach((variant, i) =>
      process.stdout.write(`  ${variant.name.padEnd(25)}${formatRow(results[i][path_])}\n`),
    );
  }
}

/** Starts one server per variant, measures them in rounds and prints the medians. */
async function serverBench(v: AuthBenchValues, weights: string, keyFile: string, redisPort: number): Promise<void> {
  const base = baseServerArgs(v, weights);
  const variants = authVariants(keyFile, redisPort);
  const servers: RunningServer[] = [];
  try {
    for (const variant of variants)
      servers.push(await startServer(parseServerConfig([...base, ...variant.args], {}).config, { logger: false }));
    await warmCaches(servers, variants);
    printResults(v, weights, variants, await measureRounds(v, servers, variants));
  } finally {
    for (const s of servers) await s.stop();
  }
}

async function main(argv: string[]): Promise<void> {
  const { values: v, help } = parseOptions(argv, SPECS);
  if (help) {
    process.stdout.write(
      formatHelp(
        'node dist/src/bench/auth-bench.js [options]',
        'Measures the overhead of API keys and quotas (in process and in Redis).',
        SPECS,
      ),
    );
    return;
  }
  const weights = v.weights ?? (await randomModel());
  const keyFile = writeKeyFile();
  const redisPort = await freePort();
  const redis = await startRedis(redisPort);
  try {
    await microCosts(redisPort);
    if (!v['micro-only']) await serverBench(v, weights, keyFile, redisPort);
  } finally {
    redis.kill('SIGKILL');
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`auth-bench: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
