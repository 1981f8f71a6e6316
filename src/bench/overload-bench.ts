/**
 * `npm run bench -- --overload`: the server with its default batching and admission settings,
 * offered open-loop load at a multiple of the engine's capacity by clients that give up after a
 * timeout, over HTTP and then gRPC. Reports goodput (answers within the timeout per second),
 * refusals and their latency, and the latency of successes, against the targets: goodput >= 80%
 * of capacity, every other request refused within 100 ms.
 */
import type { Registry } from 'prom-client';
import { parseServerConfig } from '../config/server-config.js';
import { startServer } from '../server/start.js';
import { createGeneratorClient } from '../transport/grpc/server.js';
import { benchEngine } from './engine-bench.js';
import { runOpenLoop, httpSender, grpcSender, type OpenLoopResult } from './open-loop.js';

/** Settings of the overload run. */
export interface OverloadOptions {
  /** Model folder. */
  readonly weights: string;
  /** Extra server flags (engine, backend, threads). */
  readonly serverArgs: readonly string[];
  /** Offered load as a multiple of the raw engine's capacity (ignored when `rate` is set). */
  readonly factor: number;
  /** Offered requests per second; default factor x capacity. */
  readonly rate?: number;
  /** Duration of each transport's run, s. */
  readonly seconds: number;
  /** Clients give up after this long (HTTP: close the socket; gRPC: the deadline), ms. */
  readonly clientTimeoutMs: number;
  /** Minimum time of the raw engine measurement, s. */
  readonly engineSeconds: number;
}

/** Sum of a counter's samples per `reason` label. */
async function byReason(registry: Registry, name: string): Promise<Record<string, number>> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return {};
  const out: Record<string, number> = {};
  for (const v of (await metric.get()).values) out[String(v.labels.reason)] = v.value;
  return out;
}

const f0 = (x: number): string => (Number.isFinite(x) ? x.toFixed(0) : '-');

/** Runs the overload benchmark and writes its report to stdout. */
export async function runOverloadBench(opts: OverloadOptions): Promise<void> {
  // Default batching and admission: the numbers describe what an operator gets out of the box.
  // No response cache: the gRPC phase repeats the HTTP phase's seeds, and overload is about compute.
  const { config } = parseServerConfig(
    [
      '--weights',
      opts.weights,
      '--host',
      '127.0.0.1',
      '--http-port',
      '0',
      '--grpc-port',
      '0',
      '--log-level',
      'warn',
      '--cache-size',
      '0',
      ...opts.serverArgs,
    ],
    {},
  );
  const server = await startServer(config, { logger: false });
  try {
    const [raw] = await benchEngine(server.engine, {
      batchSizes: [config.batching.maxBatchSize],
      minSeconds: opts.engineSeconds,
    });
    const capacity = raw.imagesPerSecond;
    const rate = opts.rate ?? opts.factor * capacity;
    const out = (s: string): boolean => process.stdout.write(s);
    out(
      `\noverload: engine ${server.engine.name} (${server.engine.backend}), raw capacity ${capacity.toFixed(2)} images/s at batch ${config.batching.maxBatchSize} (${(raw.secondsPerBatch * 1000).toFixed(0)} ms per batch)\n`,
    );
    out(
      `offered: open-loop Poisson arrivals at ${rate.toFixed(1)} requests/s (${(rate / capacity).toFixed(2)}x capacity), 1 image each, ${opts.seconds} s per transport; clients give up after ${opts.clientTimeoutMs} ms (HTTP: socket closed, no header; gRPC: deadline)\n`,
    );
    out(
      `server defaults: max-queue-wait-ms ${config.batching.maxQueueWaitMs ?? 'per model (2.5 batches)'}, max-queue-size ${config.batching.maxQueueSize}, max-batch-size ${config.batching.maxBatchSize}, max-concurrent-batches ${config.batching.maxConcurrentBatches}, max-queue-delay-ms ${config.batching.maxQueueDelayMs}\n`,
    );

    const http = httpSender('127.0.0.1', server.httpPort);
    const client = createGeneratorClient(`127.0.0.1:${server.grpcPort}`);
    const runs: { name: string; r: OpenLoopResult; rejections: Record<string, number> }[] = [];
    try {
      for (const [name, send] of [
        ['http', http.send],
        ['grpc', grpcSender(client)],
      ] as const) {
        const before = await byReason(server.metrics.registry, 'biggan_rejections_total');
        const r = await runOpenLoop(send, { rate, seconds: opts.seconds, timeoutMs: opts.clientTimeoutMs, seed: 7 });
        await server.batcher.drain();
        const after = await byReason(server.metrics.registry, 'biggan_rejections_total');
        const rejections = Object.fromEntries(
          Object.entries(after)
            .map(([k, v]) => [k, v - (before[k] ?? 0)])
            .filter(([, v]) => Number(v) > 0),
        );
        runs.push({ name, r, rejections });
      }
    } finally {
      http.close();
      client.close();
    }

    out(
      '\ntransport  sent  ok<=timeout  goodput/s  %capacity  refused  refusal p50/p99/max ms  timed out  errors  ok p50/p95/p99 ms  Retry-After mean s\n',
    );
    for (const { name, r } of runs) {
      const errors = Object.values(r.errors).reduce((a, b) => a + b, 0);
      out(
        `${name.padEnd(9)}  ${String(r.sent).padStart(4)}  ${String(r.ok).padStart(11)}  ${r.goodput.toFixed(2).padStart(9)}  ${((100 * r.goodput) / capacity).toFixed(0).padStart(8)}%  ` +
          `${String(r.refused).padStart(7)}  ${`${f0(r.refusalMs.p50)}/${f0(r.refusalMs.p99)}/${f0(r.refusalMs.max)}`.padStart(22)}  ${String(r.timedOut).padStart(9)}  ${String(errors).padStart(6)}  ` +
          `${`${f0(r.okMs.p50)}/${f0(r.okMs.p95)}/${f0(r.okMs.p99)}`.padStart(17)}  ${Number.isFinite(r.meanRetryAfter) ? r.meanRetryAfter.toFixed(1) : '-'}\n`,
      );
    }
    for (const { name, r, rejections } of runs) {
      if (Object.keys(r.errors).length > 0) out(`${name} errors: ${JSON.stringify(r.errors)}\n`);
      out(`${name} server rejections (biggan_rejections_total): ${JSON.stringify(rejections)}\n`);
    }
    out('\ntargets: goodput >= 80% of capacity; every request not answered in time refused within 100 ms\n');
    for (const { name, r } of runs) {
      const share = r.goodput / capacity;
      const fastRefusals = r.timedOut === 0 && !(r.refusalMs.max > 100);
      out(
        `  ${name}: goodput ${(100 * share).toFixed(0)}% of capacity (${share >= 0.8 ? 'met' : 'missed'}); ${r.timedOut} timed out, refusals max ${f0(r.refusalMs.max)} ms (${fastRefusals ? 'met' : 'missed'})\n`,
      );
    }
  } finally {
    await server.stop();
  }
}
