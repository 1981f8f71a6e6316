/**
 * `npm run bench -- --cache`: what the response cache buys (issue 11). The server runs as a child
 * process (so its RSS is its own, not the load driver's) on a full-width BigGAN-deep-128:
 * (a) hits against misses: GET /generate latency p50/p99 and requests/s at concurrency 1 and 16;
 * (b) memory: a stream of unique requests, RSS sampled, against the same stream on a server with
 *     the cache off (the model's serving footprint) plus --cache-size;
 * (c) single flight: 32 identical concurrent requests, engine batches counted from /metrics;
 * (d) the weight digest: time to hash a full 128 and a full 512 weight file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { presetConfig, configToJson, type PresetName } from '../model/config.js';
import { randomStateDict } from '../model/random-weights.js';
import { writeSafetensors } from '../weights/safetensors-writer.js';
import { filesDigest } from '../weights/file-digest.js';

/** Settings of the cache run. */
export interface CacheBenchOptions {
  /** Folder of the 128 model. */
  readonly weights: string;
  /** Extra serve flags (engine, backend, threads, batching). */
  readonly serverArgs: readonly string[];
  /** --cache-size of the measured server, bytes. */
  readonly cacheSizeBytes: number;
  /** Duration of each latency level (misses, hits), s. */
  readonly seconds: number;
  /** Most time the memory stream may take, s. */
  readonly streamSeconds: number;
  /** Skip the 512 digest (it writes a ~230 MB random model once). */
  readonly skipDigest512: boolean;
}

const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const MiB = 2 ** 20;
const out = (s: string): boolean => process.stdout.write(s);
/** Misses are measured, not refused: the bench server admits any predicted queue wait. */
const ADMIT_ALL = ['--max-queue-wait-ms', '3600000'];

/** A server child process on 127.0.0.1:port. */
interface Child {
  readonly proc: ChildProcess;
  readonly port: number;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** Starts `biggan-serve serve` with `flags`; resolves once /readyz answers 200. */
async function startChild(weights: string, flags: readonly string[]): Promise<Child> {
  const port = await freePort();
  // warn: the per-request info lines would cost the hits more than the cache does.
  const proc = spawn(
    process.execPath,
    [
      CLI,
      'serve',
      '--weights',
      weights,
      '--host',
      '127.0.0.1',
      '--http-port',
      String(port),
      '--grpc-port=-1',
      '--log-level',
      'warn',
      ...flags,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  proc.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    proc.on('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const deadline = performance.now() + 180_000;
  for (;;) {
    if (exited) throw new Error(`server exited before it was ready: ${stderr}`);
    if (performance.now() > deadline) throw new Error('server not ready within 180 s');
    const status = await get(undefined, port, '/readyz').then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    proc,
    port,
    stop: async () => {
      if (!exited) proc.kill('SIGTERM');
      await exit;
    },
  };
}

/** Resident memory of a process, MiB (Linux /proc): all, and anonymous only (heap, buffers; not mapped files). */
function rssOf(pid: number): { rss: number; anon: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) / 1024;
  return { rss: kb('VmRSS'), anon: kb('RssAnon') };
}

/** CPU time (user + system) a process has used, ms (Linux /proc; clock ticks of 10 ms). */
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
    .replace(/^.*\) /, '')
    .split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime (fields 14, 15)
}

/** One GET; resolves with status and body. */
function get(
  agent: http.Agent | undefined,
  port: number,
  urlPath: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Buffer; etag: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent: agent ?? false, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), etag: res.headers.etag }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** A seeded GET URL; `n` picks class and seed (distinct n, distinct image). */
const url = (n: number, seedBase: number): string => `/generate?class=${n % 1000}&seed=${seedBase + n}&truncation=0.4`;

/** Latency summary of a closed-loop run. */
interface Level {
  readonly concurrency: number;
  /** Answered as expected: 200, or 304 when revalidating. */
  readonly ok: number;
  readonly bad: number;
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly bytes: number;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * `concurrency` clients sending GET `pathOf(i)` back to back (i counts requests) until `seconds`
 * pass or `stop()` says so; latencies of 200 answers, ms.
 */
async function closedLoop(
  port: number,
  concurrency: number,
  seconds: number,
  pathOf: (i: number) => string,
  stop: (bytes: number) => boolean = () => false,
  maxRequests = Infinity,
  revalidate?: (i: number) => string,
): Promise<Level> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const ms: number[] = [];
  let bad = 0;
  let sent = 0;
  let bytes = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end && sent < maxRequests && !stop(bytes)) {
        const i = sent++;
        const p = pathOf(i);
        const t = performance.now();
        const headers: Record<string, string> = revalidate ? { 'if-none-match': revalidate(i) } : {};
        const r = await get(agent, port, p, headers).catch(() => ({
          status: 0,
          body: Buffer.alloc(0),
          etag: undefined,
        }));
        if (r.status === (revalidate ? 304 : 200)) {
          ms.push(performance.now() - t);
          bytes += r.body.length;
        } else bad++;
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  agent.destroy();
  ms.sort((a, b) => a - b);
  return {
    concurrency,
    ok: ms.length,
    bad,
    perSecond: ms.length / elapsed,
    p50: percentile(ms, 50),
    p99: percentile(ms, 99),
    bytes,
  };
}

/** Sample values of /metrics lines by their full name with labels, e.g. `biggan_cache_lookups_total{result="hit"}`. */
async function scrape(port: number): Promise<Map<string, number>> {
  const r = await get(undefined, port, '/metrics');
  const values = new Map<string, number>();
  for (const line of r.body.toString('utf8').split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const at = line.lastIndexOf(' ');
    values.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return values;
}

/** The sum of a metric's series in `m` (all label sets, or those containing `label` as written). */
function metric(m: Map<string, number>, name: string, label?: string): number {
  let sum = 0;
  for (const [k, v] of m) {
    const series = k === name || k.startsWith(`${name}{`);
    if (series && (label === undefined || k.includes(label))) sum += v;
  }
  return sum;
}

/** A random full-width model of `preset` in the temp folder (written once). */
async function randomModel(preset: PresetName): Promise<string> {
  const dir = path.join(os.tmpdir(), `biggan-bench-random-${preset.replace('biggan-deep-', '')}`);
  if (existsSync(path.join(dir, 'config.json')) && existsSync(path.join(dir, 'model.safetensors'))) return dir;
  process.stderr.write(`bench: writing a full-width random ${preset} to ${dir}\n`);
  await mkdir(dir, { recursive: true });
  const config = presetConfig(preset);
  await writeSafetensors(path.join(dir, 'model.safetensors'), randomStateDict(config, 1));
  await writeFile(path.join(dir, 'config.json'), configToJson(config));
  return dir;
}

const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '-');
const f2 = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '-');

/** (a) misses vs hits at concurrency 1 and 16. */
async function hitsVsMisses(child: Child, seconds: number): Promise<void> {
  out(`\n(a) GET /generate?class=N&seed=S&truncation=0.4 (1 image, PNG), ${seconds} s per level\n`);
  out('kind   concurrency    req/s   p50 ms   p99 ms  other  server CPU ms/req\n');
  const pid = child.proc.pid!;
  const measure = async (kind: string, run: () => Promise<Level>): Promise<Level> => {
    const cpu0 = cpuMsOf(pid);
    const l = await run();
    const cpu = (cpuMsOf(pid) - cpu0) / Math.max(1, l.ok);
    out(
      `${kind.padEnd(5)}  ${String(l.concurrency).padStart(11)}  ${f2(l.perSecond).padStart(7)}  ${f2(l.p50).padStart(7)}  ${f2(l.p99).padStart(7)}  ${String(l.bad).padStart(5)}  ${f2(cpu).padStart(17)}\n`,
    );
    return l;
  };
  // Misses: every request a new seed.
  let next = 0;
  const misses: Level[] = [];
  for (const c of [1, 16]) {
    misses.push(await measure('miss', () => closedLoop(child.port, c, seconds, () => url(next, 1_000_000 + next++))));
  }
  // The hot set: 32 new seeds computed once (all answered), then asked again and again.
  const hot = Array.from({ length: 32 }, (_, i) => next + i);
  next += hot.length;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const warm = await Promise.all(hot.map((n) => get(agent, child.port, url(n, 1_000_000 + n))));
  agent.destroy();
  if (warm.some((w) => w.status !== 200 || !w.etag))
    throw new Error('warming the hot set: not every request answered 200 with an ETag');
  const before = await scrape(child.port);
  const hits: Level[] = [];
  for (const c of [1, 16]) {
    hits.push(
      await measure('hit', () =>
        closedLoop(child.port, c, seconds, (i) => url(hot[i % hot.length], 1_000_000 + hot[i % hot.length])),
      ),
    );
  }
  // What a browser holding the image does: If-None-Match with its ETag, answered 304.
  const revalidated = await measure('304', () =>
    closedLoop(
      child.port,
      16,
      seconds,
      (i) => url(hot[i % hot.length], 1_000_000 + hot[i % hot.length]),
      () => false,
      Infinity,
      (i) => warm[i % hot.length].etag!,
    ),
  );
  const after = await scrape(child.port);
  const delta = (r: string) =>
    metric(after, 'biggan_cache_lookups_total', `result="${r}"`) -
    metric(before, 'biggan_cache_lookups_total', `result="${r}"`);
  const batches = metric(after, 'biggan_batch_size_samples_count') - metric(before, 'biggan_batch_size_samples_count');
  out(
    `hit phase: cache lookups hit ${delta('hit')}, miss ${delta('miss')}, coalesced ${delta('coalesced')}; engine batches ${batches}\n`,
  );
  const [m1, m16] = misses;
  const [h1, h16] = hits;
  out(`target: hit p50 < 2 ms and >= 50x faster than a miss (full-width 128)\n`);
  out(
    `  concurrency 16: hit p50 ${f2(h16.p50)} ms (${h16.p50 < 2 ? 'met' : 'missed'}), miss p50 / hit p50 = ${f1(m16.p50 / h16.p50)}x (${m16.p50 / h16.p50 >= 50 ? 'met' : 'missed'}), ${f1(h16.perSecond)} hits/s vs ${f2(m16.perSecond)} misses/s\n`,
  );
  out(
    `  concurrency 1:  hit p50 ${f2(h1.p50)} ms (${h1.p50 < 2 ? 'met' : 'missed'}), miss p50 / hit p50 = ${f1(m1.p50 / h1.p50)}x (${m1.p50 / h1.p50 >= 50 ? 'met' : 'missed'})\n`,
  );
  out(
    `  revalidation (If-None-Match, 304) at concurrency 16: p50 ${f2(revalidated.p50)} ms, ${f1(revalidated.perSecond)}/s\n`,
  );
  out(
    '  (a closed loop at concurrency 16 has p50 ~ 16 / throughput: on a machine whose cores the load driver shares, that bounds the hit p50 more than the cache does)\n',
  );
}

/** (c) 32 identical concurrent requests: one forward pass. */
async function singleFlight(child: Child): Promise<void> {
  const n = 32;
  const p = url(7, 9_000_000);
  const agent = new http.Agent({ keepAlive: true, maxSockets: n });
  // Open the sockets first, so the 32 requests reach the server together.
  await Promise.all(Array.from({ length: n }, () => get(agent, child.port, '/healthz')));
  const before = await scrape(child.port);
  const t0 = performance.now();
  const answers = await Promise.all(Array.from({ length: n }, () => get(agent, child.port, p)));
  const ms = performance.now() - t0;
  const after = await scrape(child.port);
  agent.destroy();
  const d = (name: string, label?: string) => metric(after, name, label) - metric(before, name, label);
  const batches = d('biggan_batch_size_samples_count');
  const samples = d('biggan_batch_size_samples_sum');
  const ok = answers.filter((a) => a.status === 200).length;
  const identical = answers.every((a) => a.body.equals(answers[0].body));
  out(
    `\n(c) ${n} identical concurrent GET ${p}: ${ok}/${n} answered 200 in ${ms.toFixed(0)} ms, bodies ${identical ? 'byte-identical' : 'DIFFER'}\n`,
  );
  out(
    `    engine batches ${batches} (samples ${samples}); cache lookups miss ${d('biggan_cache_lookups_total', 'result="miss"')}, coalesced ${d('biggan_cache_lookups_total', 'result="coalesced"')}, hit ${d('biggan_cache_lookups_total', 'result="hit"')}\n`,
  );
  out(
    `    target: exactly one forward pass (${batches === 1 && samples === 1 && ok === n && identical ? 'met' : 'missed'})\n`,
  );
}

/** What a memory stream saw (memory in MiB). */
interface Stream {
  readonly ready: { rss: number; anon: number };
  readonly peak: { rss: number; anon: number };
  readonly images: number;
  readonly imageBytes: number;
  readonly seconds: number;
  /** biggan_cache_bytes when the stream started. */
  readonly cacheBytesBefore: number;
  readonly metrics: Map<string, number>;
}

/**
 * Unique requests at concurrency 8 (full batches) until `enough(bytes)` or `seconds`; RSS sampled
 * every 100 ms. The seeds are the same on every server, so two servers get the same stream.
 */
async function stream(
  child: Child,
  seconds: number,
  enough: (imageBytes: number) => Promise<boolean>,
): Promise<Stream> {
  const pid = child.proc.pid!;
  const cacheBytesBefore = metric(await scrape(child.port), 'biggan_cache_bytes');
  const ready = rssOf(pid);
  const peak = { ...ready };
  const sample = () => {
    const now = rssOf(pid);
    peak.rss = Math.max(peak.rss, now.rss);
    peak.anon = Math.max(peak.anon, now.anon);
  };
  const sampler = setInterval(sample, 100);
  let done = false;
  let checking = false;
  const t0 = performance.now();
  let n = 0;
  const r = await closedLoop(
    child.port,
    8,
    seconds,
    () => url(n, 5_000_000 + n++),
    (bytes) => {
      if (!done && !checking) {
        checking = true;
        void enough(bytes).then((d) => {
          done = d;
          checking = false;
        });
      }
      return done;
    },
  ).finally(() => clearInterval(sampler));
  sample();
  return {
    ready,
    peak,
    images: r.ok,
    imageBytes: r.bytes,
    seconds: (performance.now() - t0) / 1000,
    cacheBytesBefore,
    metrics: await scrape(child.port),
  };
}

/**
 * (b) RSS under a stream of unique requests, cache on vs off. The cached server is the one that
 * served (a) and (c), so it is in a steady state; a freshly started server still holds garbage
 * from loading the weights (a few hundred MiB) until a major GC, which only allocation pressure
 * (such as a filling cache) brings. So two readings: against the cache-off server's peak, and
 * the cached server's own growth against what its cache gained.
 */
async function memory(opts: CacheBenchOptions, cached: Child): Promise<void> {
  const size = opts.cacheSizeBytes;
  const sizeMiB = size / MiB;
  out(
    `\n(b) a stream of unique GET /generate requests (1 PNG each, concurrency 8), memory of the server process sampled every 100 ms\n`,
  );
  // The cached server: until it has evicted and seen 1.5x its bound in images.
  let lastCheck = 0;
  let evicted = false;
  const withCache = await stream(cached, opts.streamSeconds, async (bytes) => {
    if (performance.now() - lastCheck < 1000) return false;
    lastCheck = performance.now();
    if (!evicted) evicted = metric(await scrape(cached.port), 'biggan_cache_evictions_total') > 0;
    return evicted && bytes >= 1.5 * size;
  });
  await cached.stop();
  // A fresh server without a cache, the same stream for as long.
  const bare = await startChild(opts.weights, [...ADMIT_ALL, ...opts.serverArgs, '--cache-size', '0']);
  const without = await stream(bare, withCache.seconds, async () => false);
  await bare.stop();
  const heldMiB = metric(withCache.metrics, 'biggan_cache_bytes') / MiB;
  const evictions = metric(withCache.metrics, 'biggan_cache_evictions_total');
  out('server          start RSS (anon) MiB  peak RSS (anon) MiB  growth RSS (anon) MiB  images  image MiB  seconds\n');
  for (const [name, s] of [
    [`cache ${sizeMiB.toFixed(0)} MiB`, withCache],
    ['cache off, new', without],
  ] as const) {
    const pair = (a: number, b: number) => `${f1(a)} (${f1(b)})`;
    out(
      `${name.padEnd(14)}  ${pair(s.ready.rss, s.ready.anon).padStart(20)}  ${pair(s.peak.rss, s.peak.anon).padStart(19)}  ${pair(s.peak.rss - s.ready.rss, s.peak.anon - s.ready.anon).padStart(21)}  ${String(s.images).padStart(6)}  ${f1(s.imageBytes / MiB).padStart(9)}  ${f1(s.seconds).padStart(7)}\n`,
    );
  }
  const gained = heldMiB - withCache.cacheBytesBefore / MiB;
  out(
    `cache: ${f1(withCache.cacheBytesBefore / MiB)} -> ${f1(heldMiB)} MiB held during the stream (bound ${f1(sizeMiB)} MiB), ${evictions} evictions in all\n`,
  );
  const vsOff = (without.peak.rss + sizeMiB) * 1.1;
  out(
    `target: peak RSS <= (cache-off peak ${f1(without.peak.rss)} + --cache-size ${f1(sizeMiB)}) x 1.1 = ${f1(vsOff)} MiB: ${f1(withCache.peak.rss)} MiB (${withCache.peak.rss <= vsOff ? 'met' : 'missed'})\n`,
  );
  const growth = withCache.peak.anon - withCache.ready.anon;
  out(
    `  own growth: anonymous memory +${f1(growth)} MiB while the cache gained ${f1(gained)} MiB (${f2(growth / Math.max(gained, 1e-9))}x); peak ${f1(withCache.peak.rss)} <= start ${f1(withCache.ready.rss)} + 1.1 x (bound - held at start) = ${f1(withCache.ready.rss + 1.1 * (sizeMiB - withCache.cacheBytesBefore / MiB))} MiB (${withCache.peak.rss <= withCache.ready.rss + 1.1 * (sizeMiB - withCache.cacheBytesBefore / MiB) ? 'met' : 'missed'})\n`,
  );
}

/** (d) the weight digest of a full 128 and 512 model. */
async function digests(opts: CacheBenchOptions): Promise<void> {
  out(
    '\n(d) SHA-256 of the weight files at load (streamed, 1 MiB chunks; config.json + model.safetensors), 2 runs each (file in the page cache)\n',
  );
  const models: [string, string][] = [['biggan-deep-128', opts.weights]];
  if (!opts.skipDigest512) models.push(['biggan-deep-512', await randomModel('biggan-deep-512')]);
  for (const [name, dir] of models) {
    const files = ['config.json', 'model.safetensors'].map((f) => path.join(dir, f));
    const bytes = files.reduce((a, f) => a + statSync(f).size, 0);
    const runs: number[] = [];
    for (let i = 0; i < 2; i++) {
      const t = performance.now();
      await filesDigest(files);
      runs.push((performance.now() - t) / 1000);
    }
    out(
      `  ${name}: ${f1(bytes / MiB)} MiB in ${runs.map((s) => s.toFixed(3)).join(' s, ')} s (${f1(bytes / MiB / Math.min(...runs))} MiB/s)\n`,
    );
  }
}

/** Runs the cache benchmark and writes its report to stdout. */
export async function runCacheBench(opts: CacheBenchOptions): Promise<void> {
  out(
    `cache bench: full-width biggan-deep-128 from ${opts.weights}, server in a child process, --cache-size ${opts.cacheSizeBytes} (${(opts.cacheSizeBytes / MiB).toFixed(0)} MiB), ${os.availableParallelism()} cores\n`,
  );
  const child = await startChild(opts.weights, [
    ...ADMIT_ALL,
    ...opts.serverArgs,
    '--cache-size',
    String(opts.cacheSizeBytes),
  ]);
  try {
    await hitsVsMisses(child, opts.seconds);
    await singleFlight(child);
    await memory(opts, child);
  } finally {
    await child.stop();
  }
  await digests(opts);
}
