/**
 * `npm run bench -- --models a,b`: one server over a model repository. Measures each model alone
 * (closed-loop clients on it only), then all together (the same clients on every model at once),
 * and fairness: 16 closed-loop clients on the largest model and 1 on the smallest, whose p50/p95
 * are compared with the smallest served alone to 1 client. The response cache is off, so every
 * request runs the engine.
 */
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { parseServerConfig } from '../config/server-config.js';
import { startServer } from '../server/start.js';
import { runHttpLoad, type LoadResult } from './http-load.js';

/** Settings of the multi-model bench. */
export interface ModelsBenchOptions {
  /** Model folders by name. */
  readonly models: readonly { name: string; dir: string }[];
  /** Extra serve flags (engine, backend, threads). */
  readonly serverArgs: readonly string[];
  readonly concurrency: number;
  readonly seconds: number;
  /** Clients on the largest model in the fairness run (16). */
  readonly floodClients: number;
}

function line(label: string, r: LoadResult): string {
  const refused = Object.entries(r.statuses)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');
  return `${label.padEnd(34)} ${r.imagesPerSecond.toFixed(2).padStart(7)} images/s  p50 ${r.p50Ms.toFixed(0).padStart(6)} ms  p95 ${r.p95Ms.toFixed(0).padStart(6)} ms  ok ${r.ok}${refused ? `  (${refused})` : ''}${r.errors ? `  errors ${r.errors}` : ''}\n`;
}

/** Runs the bench and prints its tables. */
export async function runModelsBench(opts: ModelsBenchOptions): Promise<void> {
  const repo = mkdtempSync(path.join(os.tmpdir(), 'biggan-bench-repo-'));
  try {
    for (const m of opts.models) symlinkSync(path.resolve(m.dir), path.join(repo, m.name));
    const args = [
      '--model-repository',
      repo,
      '--http-port',
      '0',
      '--grpc-port=-1',
      '--host',
      '127.0.0.1',
      '--log-level',
      'warn',
      '--cache-size',
      '0',
      '--max-queue-size',
      '1024',
      '--max-queue-wait-ms',
      '600000',
      ...opts.serverArgs,
    ];
    const t0 = performance.now();
    const server = await startServer(parseServerConfig(args, {}).config, { logger: false });
    try {
      const models = server.catalog.listModels();
      process.stdout.write(
        `${models.length} models loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${os.availableParallelism()} cores\n`,
      );
      for (const m of models)
        process.stdout.write(
          `  ${m.name}: ${m.resolution} px, batch ${m.maxBatchSize}, ${m.engine}/${m.backend}, load ${m.loadSeconds ?? '?'} s, estimate ${Math.round(m.memoryEstimateBytes / 2 ** 20)} MiB\n`,
        );
      const load = (concurrency: number, model: string) =>
        runHttpLoad('127.0.0.1', server.httpPort, concurrency, opts.seconds, Infinity, { model });
      // Warm each model's path once (the first batch of a shape is slower).
      for (const m of models) await runHttpLoad('127.0.0.1', server.httpPort, 1, 0.1, 2, { model: m.name });

      process.stdout.write(`\neach model alone, ${opts.concurrency} clients, ${opts.seconds} s:\n`);
      const alone = new Map<string, LoadResult>();
      for (const m of models) {
        const r = await load(opts.concurrency, m.name);
        alone.set(m.name, r);
        process.stdout.write(line(m.name, r));
      }
      process.stdout.write(`\nall models at once, ${opts.concurrency} clients each, ${opts.seconds} s:\n`);
      const mixed = await Promise.all(models.map((m) => load(opts.concurrency, m.name)));
      models.forEach((m, i) => process.stdout.write(line(m.name, mixed[i])));
      // Throughput in engine time: a 512 image costs ~16x a 128 one, so images/s are summed as
      // fractions of each model's own rate alone (1.0 = no loss from sharing the machine).
      const share = models.reduce(
        (sum, m, i) => sum + mixed[i].imagesPerSecond / alone.get(m.name)!.imagesPerSecond,
        0,
      );
      process.stdout.write(
        `mixed throughput = ${share.toFixed(2)} of one machine (sum over models of mixed images/s / alone images/s)\n`,
      );

      const bySize = [...models].sort((a, b) => a.resolution - b.resolution);
      const small = bySize[0];
      const large = bySize[bySize.length - 1];
      if (small.name !== large.name) {
        process.stdout.write(
          `\nfairness: ${opts.floodClients} closed-loop clients on ${large.name}, 1 on ${small.name}, ${opts.seconds} s:\n`,
        );
        const smallAlone = await load(1, small.name);
        const [flood, one] = await Promise.all([load(opts.floodClients, large.name), load(1, small.name)]);
        process.stdout.write(line(`${small.name} alone (1 client)`, smallAlone));
        process.stdout.write(line(`${small.name} beside the flood`, one));
        process.stdout.write(line(`${large.name} (${opts.floodClients} clients)`, flood));
        process.stdout.write(
          `${small.name} p50 ${(one.p50Ms / smallAlone.p50Ms).toFixed(1)}x, p95 ${(one.p95Ms / smallAlone.p95Ms).toFixed(1)}x its latency alone\n`,
        );
      }
    } finally {
      await server.stop();
    }
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
}
