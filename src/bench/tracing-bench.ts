/**
 * `npm run bench -- --tracing`: the cost of tracing. The same server and HTTP load run with
 * tracing off (the API's no-op tracer) and with every span exported over OTLP/HTTP to a local
 * receiver, alternating (off, on, off, on) so drift in the machine's speed hits both alike.
 */
import http from 'node:http';
import type { ServerConfig } from '../config/server-config.js';
import { startServer } from '../server/start.js';
import { NOOP_TRACING, tracingFromEnv, type Tracing } from '../tracing/tracing.js';
import { runHttpLoad, type LoadResult } from './http-load.js';

/** A local OTLP/HTTP receiver that only counts what it gets. */
async function startSink(): Promise<{
  url: string;
  posts: () => number;
  bytes: () => number;
  close: () => Promise<void>;
}> {
  let posts = 0;
  let bytes = 0;
  const server = http.createServer((req, res) => {
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      posts += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    posts: () => posts,
    bytes: () => bytes,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** A load run plus the process CPU time (all threads: event loop, engine, exporter) per answered request. */
type Run = LoadResult & { cpuMsPerRequest: number };

async function measure(config: ServerConfig, tracing: Tracing, concurrency: number, seconds: number): Promise<Run> {
  const server = await startServer(config, { logger: false, tracing });
  try {
    // CPU time is steadier than wall time on a shared machine; it includes the load driver's own
    // (identical) share in both modes.
    const cpu0 = process.cpuUsage();
    const r = await runHttpLoad('127.0.0.1', server.httpPort, concurrency, seconds);
    const cpu = process.cpuUsage(cpu0);
    return { ...r, cpuMsPerRequest: (cpu.user + cpu.system) / 1000 / Math.max(1, r.ok) };
  } finally {
    await server.stop(); // flushes the exporter, so its cost is inside the measurement window's neighbourhood
  }
}

/** Runs the comparison and prints one row per (concurrency, mode). */
export async function benchTracing(
  config: ServerConfig,
  concurrencies: readonly number[],
  seconds: number,
  rounds = 2,
): Promise<void> {
  const sink = await startSink();
  process.stdout.write(
    `tracing overhead: HTTP POST /generate, ${seconds} s per run, ${rounds} runs per mode (alternating); OTLP/HTTP JSON to a local receiver\n`,
  );
  process.stdout.write('concurrency  tracing  images/s   p50 ms   p95 ms   p99 ms  CPU ms/request  non-200+errors\n');
  try {
    for (const c of concurrencies) {
      const runs: Record<'off' | 'otlp', Run[]> = { off: [], otlp: [] };
      for (let r = 0; r < rounds; r++) {
        runs.off.push(await measure(config, NOOP_TRACING, c, seconds));
        runs.otlp.push(
          await measure(config, await tracingFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url }), c, seconds),
        );
      }
      for (const mode of ['off', 'otlp'] as const) {
        const rs = runs[mode];
        const mean = (f: (r: Run) => number) => rs.reduce((a, r) => a + f(r), 0) / rs.length;
        const bad = rs.reduce((a, r) => a + r.errors + Object.values(r.statuses).reduce((x, y) => x + y, 0), 0);
        process.stdout.write(
          `${String(c).padStart(11)}  ${mode.padStart(7)}  ${mean((r) => r.imagesPerSecond)
            .toFixed(2)
            .padStart(8)}  ${mean((r) => r.p50Ms)
            .toFixed(1)
            .padStart(7)}  ${mean((r) => r.p95Ms)
            .toFixed(1)
            .padStart(7)}  ${mean((r) => r.p99Ms)
            .toFixed(1)
            .padStart(7)}  ${mean((r) => r.cpuMsPerRequest)
            .toFixed(2)
            .padStart(14)}  ${String(bad).padStart(14)}\n`,
        );
      }
      const off = runs.off.reduce((a, r) => a + r.imagesPerSecond, 0);
      const on = runs.otlp.reduce((a, r) => a + r.imagesPerSecond, 0);
      const cpu = (rs: Run[]) => rs.reduce((a, r) => a + r.cpuMsPerRequest, 0) / rs.length;
      process.stdout.write(
        `${' '.repeat(11)}  with OTLP export: throughput ${((100 * (on - off)) / off).toFixed(1)}%, CPU per request ${((100 * (cpu(runs.otlp) - cpu(runs.off))) / cpu(runs.off)).toFixed(1)}% vs off\n`,
      );
    }
    process.stdout.write(`receiver got ${sink.posts()} OTLP posts, ${(sink.bytes() / 1024).toFixed(0)} KiB\n`);
  } finally {
    await sink.close();
  }
}
