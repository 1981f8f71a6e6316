/**
 * `npm run bench -- --cache`, section (e): a cache hit against plain fastify (issue 20). Three
 * child processes: the service open, the service with an API key file and in-process quotas, and
 * a plain fastify process answering the same bytes and headers (plain-fastify.ts). autocannon
 * drives each in turn, alternately in rounds (so a neighbour's load on the machine hits all of
 * them alike), at 16 connections and at 1. The services log their one info line per request
 * (to /dev/null) as in production. The model is the tiny fixture: a hit never runs the model, and
 * its answer (a 128x128 PNG) has the size of the full model's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { hashKey } from '../auth/key-file.js';
import type { PlainAnswer } from './plain-fastify.js';

const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const PLAIN = fileURLToPath(new URL('./plain-fastify.js', import.meta.url));
const TINY = fileURLToPath(new URL('../../../test/fixtures/tiny-128', import.meta.url));
const URL_PATH = '/generate?class=207&seed=7&truncation=0.4';
const KEY = 'hit-bench-key-0123456789';
const out = (s: string): boolean => process.stdout.write(s);

/** Settings of the section. */
export interface HitBaselineOptions {
  /** Seconds of each measured run. */
  readonly seconds: number;
  /** Rounds of (plain, open, keyed) at each concurrency. */
  readonly rounds: number;
}

/** A child process listening on 127.0.0.1:port. */
interface Target {
  readonly name: string;
  readonly port: number;
  readonly headers: Record<string, string>;
  readonly proc: ChildProcess;
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

function get(
  port: number,
  urlPath: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Buffer; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** `biggan-serve serve` on the tiny fixture with `flags`, logging at info to /dev/null; resolves when ready. */
async function startService(name: string, flags: readonly string[], headers: Record<string, string>): Promise<Target> {
  const port = await freePort();
  const args = [
    CLI,
    'serve',
    '--weights',
    TINY,
    '--host',
    '127.0.0.1',
    '--http-port',
    String(port),
    '--grpc-port=-1',
    '--log-level',
    'info',
    ...flags,
  ];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  for (let waited = 0; ; waited += 200) {
    if (proc.exitCode !== null) throw new Error(`${name}: server exited with ${proc.exitCode}`);
    if (waited > 120_000) throw new Error(`${name}: not ready within 120 s`);
    if ((await get(port, '/readyz').catch(() => ({ status: 0 }))).status === 200) return { name, port, headers, proc };
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The plain fastify process answering `answer`. */
async function startPlain(answer: PlainAnswer): Promise<Target> {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'biggan-hit-bench-')), 'answer.json');
  writeFileSync(file, JSON.stringify(answer));
  const proc = spawn(process.execPath, [PLAIN, file], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let text = '';
    proc.stdout!.on('data', (d: Buffer) => {
      text += d.toString();
      const m = /listening (\d+)/.exec(text);
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', (code) => reject(new Error(`plain fastify exited with ${code}`)));
  });
  return { name: 'plain fastify', port, headers: {}, proc };
}

/** The service's answer to URL_PATH, as the baseline will send it (hop and per-request headers dropped). */
async function serviceAnswer(target: Target): Promise<PlainAnswer> {
  const r = await get(target.port, URL_PATH, target.headers);
  if (r.status !== 200) throw new Error(`${target.name}: GET ${URL_PATH} answered ${r.status}`);
  const skip = new Set(['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding', 'x-request-id']);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers)) if (!skip.has(k) && typeof v === 'string') headers[k] = v;
  return { bodyBase64: r.body.toString('base64'), headers };
}

/** What one autocannon run measured. */
interface Run {
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly failed: number;
  /** CPU time (user + system) the target process spent per answered request, ms. */
  readonly cpuMs: number;
}

/** CPU time (user + system) a process has used, ms (Linux /proc; clock ticks of 10 ms). */
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
    .replace(/^.*\) /, '')
    .split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime (fields 14, 15)
}

async function measure(target: Target, connections: number, seconds: number): Promise<Run> {
  const cpu0 = cpuMsOf(target.proc.pid!);
  const r = await autocannon({
    url: `http://127.0.0.1:${target.port}${URL_PATH}`,
    connections,
    duration: seconds,
    headers: target.headers,
  });
  const failed = r.errors + r.timeouts + r.non2xx;
  const cpuMs = (cpuMsOf(target.proc.pid!) - cpu0) / Math.max(1, r.requests.total);
  return { perSecond: r.requests.total / seconds, p50: r.latency.p50, p99: r.latency.p99, failed, cpuMs };
}

/**
 * Concurrency 1 with sub-millisecond resolution (autocannon's histogram counts whole
 * milliseconds): one keep-alive connection, requests back to back, each timed from send to the
 * last byte.
 */
async function measureOne(target: Target, seconds: number): Promise<Run> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const cpu0 = cpuMsOf(target.proc.pid!);
  const ms: number[] = [];
  let failed = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    const t = performance.now();
    const status = await new Promise<number>((resolve) => {
      const req = http.get(
        { host: '127.0.0.1', port: target.port, path: URL_PATH, agent, headers: target.headers },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', () => resolve(0));
    });
    if (status === 200) ms.push(performance.now() - t);
    else failed++;
  }
  const elapsed = (performance.now() - t0) / 1000;
  agent.destroy();
  ms.sort((a, b) => a - b);
  const at = (p: number) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))] ?? NaN;
  const cpuMs = (cpuMsOf(target.proc.pid!) - cpu0) / Math.max(1, ms.length);
  return { perSecond: ms.length / elapsed, p50: at(0.5), p99: at(0.99), failed, cpuMs };
}

/** Cache hits counted by a service's /metrics (all series of biggan_cache_lookups_total with result="hit"). */
async function hitsCounted(target: Target): Promise<number> {
  const text = (await get(target.port, '/metrics')).body.toString('utf8');
  let sum = 0;
  for (const line of text.split('\n'))
    if (line.startsWith('biggan_cache_lookups_total{') && line.includes('result="hit"'))
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const f2 = (x: number): string => x.toFixed(2);

/** Runs every target `rounds` times at `connections`, alternately; the runs per target. */
async function alternate(targets: readonly Target[], connections: number, opts: HitBaselineOptions): Promise<Run[][]> {
  const runs: Run[][] = targets.map(() => []);
  for (let round = 0; round < opts.rounds; round++) {
    for (let i = 0; i < targets.length; i++) {
      runs[i].push(
        await (connections === 1
          ? measureOne(targets[i], opts.seconds)
          : measure(targets[i], connections, opts.seconds)),
      );
    }
  }
  return runs;
}

function report(targets: readonly Target[], runs: Run[][], connections: number): void {
  const columns = 'req/s (median)  p50 ms  p99 ms  failed  server CPU us/req  req/s per round';
  out(`concurrency ${connections}: target                 ${columns}\n`);
  targets.forEach((t, i) => {
    const rs = runs[i];
    const perRound = rs.map((r) => r.perSecond.toFixed(0)).join(', ');
    const cells = [
      median(rs.map((r) => r.perSecond))
        .toFixed(0)
        .padStart(14),
      f2(median(rs.map((r) => r.p50))).padStart(6),
      f2(median(rs.map((r) => r.p99))).padStart(6),
      String(rs.reduce((n, r) => n + r.failed, 0)).padStart(6),
      (1000 * median(rs.map((r) => r.cpuMs))).toFixed(0).padStart(17),
      perRound,
    ];
    out(`  ${t.name.padEnd(34)} ${cells.join('  ')}\n`);
  });
}

/** Runs section (e) and prints its table and targets. */
export async function runHitBaseline(opts: HitBaselineOptions): Promise<void> {
  out(`\n(e) a cache hit against plain fastify: GET ${URL_PATH} (tiny fixture, answer cached), autocannon, `);
  out(`${opts.rounds} alternating rounds of ${opts.seconds} s, ${os.availableParallelism()} cores\n`);
  const keyFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'biggan-hit-keys-')), 'keys.json');
  // A quota too large to refuse anything: the quota path runs on every request, nothing is refused.
  writeFileSync(
    keyFile,
    JSON.stringify({
      keys: [{ name: 'bench', sha256: hashKey(KEY), imagesPerSecond: 1e6, burst: 1e6, maxInFlight: 1e6 }],
    }),
  );
  const targets: Target[] = [];
  try {
    targets.push(await startService('service, open', [], {}));
    targets.push(
      await startService('service, API key + quota in process', ['--api-keys', keyFile], {
        authorization: `Bearer ${KEY}`,
      }),
    );
    const answer = await serviceAnswer(targets[0]);
    for (const t of targets.slice(1)) await serviceAnswer(t); // each service computes and caches the image once
    targets.unshift(await startPlain(answer));
    const bytes = Buffer.from(answer.bodyBase64, 'base64').length;
    out(`answer: ${bytes} bytes, ${answer.headers['content-type']}, ETag ${answer.headers.etag}\n`);
    const hits0 = await Promise.all(targets.slice(1).map(hitsCounted));
    for (const t of targets) await measure(t, 16, 1); // warm-up (JIT, sockets)
    const at16 = await alternate(targets, 16, opts);
    const at1 = await alternate(targets, 1, opts);
    const hits1 = await Promise.all(targets.slice(1).map(hitsCounted));
    report(targets, at16, 16);
    report(targets, at1, 1);
    const counted = hits1.map((h, i) => `${targets[i + 1].name} ${h - hits0[i]}`).join('; ');
    out(`cache hits counted by the services during the runs: ${counted}\n`);
    const plain16 = median(at16[0].map((r) => r.perSecond));
    out('targets:\n');
    for (let i = 1; i < targets.length; i++) {
      const ratio = median(at16[i].map((r) => r.perSecond)) / plain16;
      const p50 = median(at1[i].map((r) => r.p50));
      const cpu = median(at16[i].map((r) => r.cpuMs)) / median(at16[0].map((r) => r.cpuMs));
      const verdict = (ok: boolean) => (ok ? 'met' : 'missed');
      out(`  ${targets[i].name}: ${(100 * ratio).toFixed(0)}% of plain fastify's req/s at 16 connections`);
      out(` (target >= 60%: ${verdict(ratio >= 0.6)}); p50 at concurrency 1 ${f2(p50)} ms`);
      out(` (target < 1 ms: ${verdict(p50 < 1)}); server CPU per hit ${cpu.toFixed(2)}x plain fastify's\n`);
    }
  } finally {
    for (const t of targets) t.proc.kill('SIGTERM');
  }
}
