/**
 * `npm run bench`: serves a full-width random BigGAN-deep-128 (made with init-random unless
 * --weights is given), measures the raw engine (images/s at several batch sizes, GFLOP/s against
 * a single large convolution's GFLOP/s on the same engine), then drives HTTP load at several
 * concurrencies and reports images/s, p50/p95/p99 latency and mean batch size, with the targets.
 * With --overload it instead offers open-loop load beyond capacity (see overload-bench.ts); with
 * --cache it measures the response cache: hits vs misses, RSS, single flight, weight digest
 * (see cache-bench.ts); with --dataset it compares `biggan-serve dataset` with the raw engine
 * (see dataset-bench.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { defineOptions, parseOptions, formatHelp, type OptionValues } from '../config/options.js';
import { ENGINE_CHOICES, type EngineChoice } from '../engine/choices.js';
import type { ImageFormat } from '../image/encode.js';
import { parseServerConfig } from '../config/server-config.js';
import { startServer } from '../server/start.js';
import { presetConfig, configToJson, type PresetName } from '../model/config.js';
import { runModelsBench } from './models-bench.js';
import { runMemoryBench } from './memory-bench.js';
import { randomStateDict } from '../model/random-weights.js';
import { writeSafetensors } from '../weights/safetensors-writer.js';
import { benchEngine, formatBenchTable, type BenchRow } from './engine-bench.js';
import { runHttpLoad, type LoadResult } from './http-load.js';
import { benchTracing } from './tracing-bench.js';
import { runOverloadBench } from './overload-bench.js';
import { runCacheBench } from './cache-bench.js';
import { runOipBench } from './oip-bench.js';
import { runReliabilityBench } from './reliability-bench.js';
import { runHitBaseline } from './hit-baseline.js';

const SPECS = defineOptions([
  { name: 'engine', type: 'string', choices: ENGINE_CHOICES, default: 'auto', description: 'Engine to measure.' },
  { name: 'backend', type: 'string', description: 'tfjs backend or ort execution provider.' },
  {
    name: 'weights',
    type: 'string',
    placeholder: 'DIR',
    description: 'Model folder (default: a full-width random biggan-deep-128 in the temp folder).',
  },
  { name: 'threads', type: 'integer', min: 1, description: 'Intra-op threads (ort; default all cores).' },
  { name: 'batch-sizes', type: 'string', default: '1,4,8,16', description: 'Raw engine batch sizes.' },
  { name: 'concurrency', type: 'string', default: '1,4,16', description: 'HTTP client concurrencies.' },
  { name: 'seconds', type: 'number', default: 10, min: 1, max: 600, description: 'Duration of each HTTP load level.' },
  {
    name: 'engine-seconds',
    type: 'number',
    default: 4,
    min: 0.5,
    max: 600,
    description: 'Minimum time per raw batch size.',
  },
  {
    name: 'max-batch-size',
    type: 'integer',
    min: 1,
    max: 256,
    description: 'Server batch size (default: the best raw batch size).',
  },
  { name: 'max-queue-delay-ms', type: 'number', default: 5, min: 0, description: 'Server batching delay.' },
  { name: 'skip-http', type: 'boolean', default: false, description: 'Only the raw engine numbers.' },
  {
    name: 'oip',
    type: 'boolean',
    default: false,
    description:
      'Only the Open Inference Protocol overhead: binary OIP requests (png output, and image output) vs POST /generate for the same images.',
  },
  {
    name: 'tracing',
    type: 'boolean',
    default: false,
    description: 'Only the tracing overhead: HTTP load with tracing off vs OTLP export to a local receiver.',
  },
  {
    name: 'overload',
    type: 'boolean',
    default: false,
    description:
      'Overload mode: the server with default settings, open-loop arrivals beyond capacity over HTTP then gRPC; reports goodput, refusals and latency.',
  },
  {
    name: 'overload-factor',
    type: 'number',
    default: 2,
    min: 0.1,
    max: 100,
    description: 'Overload mode: offered load as a multiple of the raw engine capacity.',
  },
  {
    name: 'rate',
    type: 'number',
    min: 0.1,
    description: 'Overload mode: offered requests/s (overrides --overload-factor).',
  },
  {
    name: 'overload-seconds',
    type: 'number',
    default: 30,
    min: 1,
    max: 600,
    description: 'Overload mode: duration per transport, s.',
  },
  {
    name: 'models',
    type: 'string',
    placeholder: 'A,B',
    description:
      'Multi-model mode: model folders inside --model-repository (default: full-width random 128 and 512); each alone, all at once, and fairness (16 clients on the largest, 1 on the smallest).',
  },
  {
    name: 'model-repository',
    type: 'string',
    placeholder: 'DIR',
    description: 'Multi-model mode: the repository holding --models.',
  },
  {
    name: 'flood-clients',
    type: 'integer',
    default: 16,
    min: 1,
    max: 256,
    description: 'Multi-model mode: clients on the largest model in the fairness run.',
  },
  {
    name: 'memory',
    type: 'boolean',
    default: false,
    description:
      "Memory mode: RSS and load time of full-width random 128/256/512 (each served alone in a fresh process) beside the repository's estimate.",
  },
  {
    name: 'client-timeout-ms',
    type: 'integer',
    default: 5000,
    min: 1,
    description: 'Overload mode: clients give up after this long.',
  },
  {
    name: 'cache',
    type: 'boolean',
    default: false,
    description:
      'Cache mode: the server in a child process; GET hits vs misses (p50/p99, req/s at concurrency 1 and 16), RSS under a stream of unique requests vs the cache off, 32 identical concurrent requests vs engine batches, and the time to hash a full 128 and 512 weight file (writes a random 512 once).',
  },
  {
    name: 'cache-size',
    type: 'integer',
    default: 8 * 1024 * 1024,
    min: 1,
    max: 2 ** 40,
    description: "Cache mode: the server's --cache-size, bytes (small, so the stream fills and evicts it quickly).",
  },
  {
    name: 'cache-stream-seconds',
    type: 'number',
    default: 300,
    min: 1,
    max: 3600,
    description:
      'Cache mode: most time for the memory stream (it stops once the cache evicted and 1.5x --cache-size of images passed).',
  },
  {
    name: 'max-queue-wait-ms',
    type: 'integer',
    min: 1,
    description: "Overload mode: the server's --max-queue-wait-ms (default: per model, 2.5 measured full batches).",
  },
  {
    name: 'reliability',
    type: 'boolean',
    default: false,
    description:
      'Reliability mode: stalled readers of a 13 MB cached answer (RSS, /healthz, send timeout) and four huge invalid bodies at once.',
  },
  {
    name: 'stalled-clients',
    type: 'integer',
    default: 40,
    min: 1,
    max: 1000,
    description: 'Reliability mode: clients that never read.',
  },
  {
    name: 'send-timeout-ms',
    type: 'integer',
    default: 5000,
    min: 0,
    description: "Reliability mode: the server's --send-timeout-ms.",
  },
  { name: 'skip-512', type: 'boolean', default: false, description: 'Cache mode: hash only the 128 weight file.' },
  {
    name: 'dataset',
    type: 'boolean',
    default: false,
    description:
      'Dataset mode: images/s of `biggan-serve dataset` (engine, encoding, tar writing) vs the raw engine at the same batch size (--max-batch-size, default 8), each for --engine-seconds.',
  },
  {
    name: 'dataset-format',
    type: 'string',
    choices: ['png', 'jpeg', 'webp'],
    default: 'png',
    description: 'Dataset mode: image format.',
  },
  {
    name: 'dataset-rounds',
    type: 'integer',
    default: 3,
    min: 1,
    max: 100,
    description: 'Dataset mode: dataset runs, each between two raw runs; the median ratio is reported.',
  },
  {
    name: 'hit-only',
    type: 'boolean',
    default: false,
    description:
      'Cache mode: only section (e), a cache hit against a plain fastify process serving the same bytes (open and with an API key + quota).',
  },
  {
    name: 'hit-seconds',
    type: 'number',
    default: 5,
    min: 1,
    max: 600,
    description: 'Cache mode: seconds of each run of section (e).',
  },
  {
    name: 'hit-rounds',
    type: 'integer',
    default: 3,
    min: 1,
    max: 50,
    description: 'Cache mode: alternating rounds of section (e).',
  },
]);

const USAGE = formatHelp(
  'npm run bench -- [--engine ort|tfjs] [--seconds 10] [--tracing | --oip | --overload | --cache | --dataset] [options]',
  'Benchmarks the raw engine and the HTTP service on a full-width BigGAN-deep-128.\nModes: --tracing (tracing overhead), --oip (Open Inference Protocol vs /generate), --overload (open-loop load\nbeyond capacity), --cache (response cache), --dataset (the dataset command vs the raw engine).',
  SPECS,
);

/** Peak resident memory of this process (VmHWM), MiB. */
function peakRssMiB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.memoryUsage().rss / 2 ** 20;
}

async function randomModel(preset: PresetName = 'biggan-deep-128'): Promise<string> {
  const dir = path.join(os.tmpdir(), `biggan-bench-random-${preset.slice('biggan-deep-'.length)}`);
  if (existsSync(path.join(dir, 'config.json')) && existsSync(path.join(dir, 'model.safetensors'))) return dir;
  process.stderr.write(`bench: writing a full-width random ${preset} to ${dir}\n`);
  await mkdir(dir, { recursive: true });
  const config = presetConfig(preset);
  await writeSafetensors(path.join(dir, 'model.safetensors'), randomStateDict(config, 1));
  await writeFile(path.join(dir, 'config.json'), configToJson(config));
  return dir;
}

const list = (s: string) =>
  s
    .split(',')
    .map((x) => Number(x.trim()))
    .filter((x) => Number.isInteger(x) && x > 0);

/** The parsed flags of `npm run bench`. */
type BenchValues = OptionValues<typeof SPECS>;

/** --engine, and --backend and --threads where given: how every mode's server runs its engine. */
function engineArgs(v: BenchValues): string[] {
  return [
    '--engine',
    v.engine,
    ...(v.backend ? ['--backend', v.backend] : []),
    ...(v.threads ? ['--threads', String(v.threads)] : []),
  ];
}

/** --max-batch-size where given. */
function maxBatchArgs(v: BenchValues): string[] {
  return v['max-batch-size'] ? ['--max-batch-size', String(v['max-batch-size'])] : [];
}

/** --reliability: stalled readers against the send timeout. */
async function reliabilityMode(v: BenchValues): Promise<void> {
  await runReliabilityBench({ clients: v['stalled-clients'], sendTimeoutMs: v['send-timeout-ms'] });
}

/** --memory: resident memory of the three full-width random models against the tiny fixture. */
async function memoryMode(v: BenchValues): Promise<void> {
  const presets: PresetName[] = ['biggan-deep-128', 'biggan-deep-256', 'biggan-deep-512'];
  const models = [];
  for (const p of presets) models.push({ name: `random-${p.slice('biggan-deep-'.length)}`, dir: await randomModel(p) });
  await runMemoryBench({
    root: process.cwd(),
    base: { name: 'tiny-128', dir: path.join(process.cwd(), 'test/fixtures/tiny-128') },
    models,
    serverArgs: engineArgs(v),
  });
}

/** --models / --model-repository: several models served by one process (random 128 and 512 by default). */
async function modelsMode(v: BenchValues): Promise<void> {
  const names = (v.models ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '');
  const repository = v['model-repository'];
  const models =
    repository !== undefined
      ? names.map((name) => ({ name, dir: path.join(repository, name) }))
      : [
          { name: 'random-128', dir: await randomModel() },
          { name: 'random-512', dir: await randomModel('biggan-deep-512') },
        ];
  await runModelsBench({
    models,
    serverArgs: engineArgs(v),
    concurrency: list(v.concurrency)[0] ?? 4,
    seconds: v.seconds,
    floodClients: v['flood-clients'],
  });
}

/** --cache --hit-only: only the cache-hit baseline against a plain fastify process. */
async function hitOnlyMode(v: BenchValues): Promise<void> {
  await runHitBaseline({ seconds: v['hit-seconds'], rounds: v['hit-rounds'] });
}

/** --tracing or --oip: tracing overhead, or the Open Inference Protocol against /generate. */
async function tracingOrOipMode(v: BenchValues): Promise<void> {
  const weights = v.weights ?? (await randomModel());
  const concurrencies = list(v.concurrency);
  const args = [
    '--weights',
    weights,
    '--engine',
    v.engine,
    '--http-port',
    '0',
    '--grpc-port=-1',
    '--host',
    '127.0.0.1',
    '--log-level',
    'warn',
    '--max-queue-size',
    '1024',
    '--max-queue-delay-ms',
    String(v['max-queue-delay-ms']),
  ];
  if (v.backend) args.push('--backend', v.backend);
  if (v.threads) args.push('--threads', String(v.threads));
  args.push(...maxBatchArgs(v));
  if (v.oip) await runOipBench(parseServerConfig(args, {}).config, concurrencies, v.seconds);
  else await benchTracing(parseServerConfig(args, {}).config, concurrencies, v.seconds);
}

/** --cache: the response cache (hits vs misses, RSS, single flight, weight digest), then the hit baseline. */
async function cacheMode(v: BenchValues): Promise<void> {
  await runCacheBench({
    weights: v.weights ?? (await randomModel()),
    serverArgs: [...engineArgs(v), ...maxBatchArgs(v)],
    cacheSizeBytes: v['cache-size'],
    seconds: v.seconds,
    streamSeconds: v['cache-stream-seconds'],
    skipDigest512: v['skip-512'],
  });
  await runHitBaseline({ seconds: v['hit-seconds'], rounds: v['hit-rounds'] });
}

/** --dataset: `biggan-serve dataset` against the raw engine at the same batch size. */
async function datasetMode(v: BenchValues): Promise<void> {
  await runDatasetMode(
    v.weights ?? (await randomModel()),
    { engine: v.engine, backend: v.backend, threads: v.threads },
    v['max-batch-size'] ?? 8,
    v['engine-seconds'],
    v['dataset-format'],
    v['dataset-rounds'],
  );
}

/** --overload: open-loop load beyond capacity. */
async function overloadMode(v: BenchValues): Promise<void> {
  const serverArgs = [
    ...engineArgs(v),
    ...maxBatchArgs(v),
    ...(v['max-queue-wait-ms'] ? ['--max-queue-wait-ms', String(v['max-queue-wait-ms'])] : []),
  ];
  await runOverloadBench({
    weights: v.weights ?? (await randomModel()),
    serverArgs,
    factor: v['overload-factor'],
    ...(v.rate !== undefined ? { rate: v.rate } : {}),
    seconds: v['overload-seconds'],
    clientTimeoutMs: v['client-timeout-ms'],
    engineSeconds: v['engine-seconds'],
  });
}

/** A bench that replaces the default one, and the flags that ask for it. */
interface BenchMode {
  readonly asked: (v: BenchValues) => boolean;
  readonly run: (v: BenchValues) => Promise<void>;
}

/** The modes in precedence order: the first one asked for runs (e.g. --cache --hit-only before --cache). */
const MODES: readonly BenchMode[] = [
  { asked: (v) => v.reliability, run: reliabilityMode },
  { asked: (v) => v.memory, run: memoryMode },
  { asked: (v) => v.models !== undefined || v['model-repository'] !== undefined, run: modelsMode },
  { asked: (v) => v.cache && v['hit-only'], run: hitOnlyMode },
  { asked: (v) => v.tracing || v.oip, run: tracingOrOipMode },
  { asked: (v) => v.cache, run: cacheMode },
  { asked: (v) => v.dataset, run: datasetMode },
  { asked: (v) => v.overload, run: overloadMode },
];

/**
 * Runs the bench that replaces the default one (--reliability, --memory, --models, --tracing, --oip, --cache,
 * --dataset, --overload); false when none was asked for.
 */
async function otherBench(v: BenchValues): Promise<boolean> {
  const mode = MODES.find((m) => m.asked(v));
  if (!mode) return false;
  await mode.run(v);
  return true;
}

/**
 * The raw engine at each batch size, on a server started for it (it loads the model once);
 * measured while no HTTP traffic runs. Returns the rows and the server's arguments.
 */
async function rawEngineBench(
  v: BenchValues,
  weights: string,
  batchSizes: number[],
): Promise<{ rows: BenchRow[]; serverArgs: string[] } | undefined> {
  const engineName = v.engine;
  // Start the server first (it loads the model once); the raw engine is measured while no HTTP
  // traffic runs, then the same engine serves the load.
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  const serverArgs = [
    '--weights',
    weights,
    '--engine',
    engineName,
    '--http-port',
    '0',
    '--grpc-port=-1',
    '--host',
    '127.0.0.1',
    '--log-level',
    'warn',
    '--max-queue-size',
    '1024',
  ];
  if (v.backend) serverArgs.push('--backend', v.backend);
  if (v.threads) serverArgs.push('--threads', String(v.threads));
  // The server's batch size is set after the raw numbers tell which one is best.
  const probe = parseServerConfig([...serverArgs, '--max-batch-size', String(Math.max(...batchSizes))], {}).config;
  const server = await startServer(probe, { logger: false });
  const startSeconds = (performance.now() - t0) / 1000;
  const engine = server.engine;
  process.stdout.write(
    `engine ${engine.name} (${engine.backend}), ${os.availableParallelism()} cores; model load + warm-up ${startSeconds.toFixed(1)} s, RSS +${((process.memoryUsage().rss - rss0) / 2 ** 20).toFixed(0)} MiB\n`,
  );

  const ceiling =
    engine.name === 'ort'
      ? await (
          await import('../engine/ort/conv-ceiling.js')
        ).ortConvCeilingGflops(v.threads ? { threads: v.threads } : {})
      : await (await import('../engine/tfjs/conv-ceiling.js')).tfjsConvCeilingGflops();
  const rows: BenchRow[] = await benchEngine(engine, { batchSizes, minSeconds: v['engine-seconds'] });
  process.stdout.write(`\nsingle large 3x3 convolution on the same engine: ${ceiling.toFixed(0)} GFLOP/s\n`);
  process.stdout.write(
    formatBenchTable(rows, { title: `raw engine (${engine.name}/${engine.backend})`, ceilingGflops: ceiling }) + '\n',
  );
  const best = rows.reduce((a, b) => (b.imagesPerSecond > a.imagesPerSecond ? b : a));
  process.stdout.write(
    `best: ${best.imagesPerSecond.toFixed(2)} images/s at batch ${best.batchSize} = ${best.gflops.toFixed(0)} GFLOP/s = ${((100 * best.gflops) / ceiling).toFixed(0)}% of the convolution ceiling; peak RSS ${peakRssMiB().toFixed(0)} MiB\n`,
  );
  await server.stop();
  return v['skip-http'] ? undefined : { rows, serverArgs };
}

/** HTTP load at each concurrency on a server with the best batch size (or the one asked for), against the raw engine's numbers. */
async function httpBench(v: BenchValues, rows: BenchRow[], serverArgs: string[]): Promise<void> {
  const concurrencies = list(v.concurrency);
  const best = rows.reduce((a, b) => (b.imagesPerSecond > a.imagesPerSecond ? b : a));
  const batch1 = rows.find((r) => r.batchSize === 1);

  // Serve with the best batch size (or the one asked for).
  const maxBatch = v['max-batch-size'] ?? best.batchSize;
  const config = parseServerConfig(
    [...serverArgs, '--max-batch-size', String(maxBatch), '--max-queue-delay-ms', String(v['max-queue-delay-ms'])],
    {},
  ).config;
  const live = await startServer(config, { logger: false });
  const results: (LoadResult & { meanBatch: number })[] = [];
  for (const c of concurrencies) {
    const before = await batchStats(live.metrics.registry);
    const r = await runHttpLoad('127.0.0.1', live.httpPort, c, v.seconds);
    const after = await batchStats(live.metrics.registry);
    results.push({ ...r, meanBatch: (after.sum - before.sum) / Math.max(1, after.count - before.count) });
  }
  await live.stop();
  process.stdout.write(
    `\nHTTP POST /generate, 1 image per request, mixed truncations; server maxBatchSize ${maxBatch}, maxQueueDelayMs ${config.batching.maxQueueDelayMs}\n`,
  );
  process.stdout.write('concurrency  images/s   p50 ms   p95 ms   p99 ms  mean batch  non-200  errors\n');
  for (const r of results) {
    const non200 = Object.values(r.statuses).reduce((a, b) => a + b, 0);
    process.stdout.write(
      `${String(r.concurrency).padStart(11)}  ${r.imagesPerSecond.toFixed(2).padStart(8)}  ${r.p50Ms.toFixed(0).padStart(7)}  ${r.p95Ms.toFixed(0).padStart(7)}  ${r.p99Ms.toFixed(0).padStart(7)}  ${r.meanBatch.toFixed(2).padStart(10)}  ${String(non200).padStart(7)}  ${String(r.errors).padStart(6)}\n`,
    );
  }
  const top = results.find((r) => r.concurrency === Math.max(...concurrencies));
  const one = results.find((r) => r.concurrency === 1);
  process.stdout.write('\ntargets:\n');
  if (top)
    process.stdout.write(
      `  concurrency ${top.concurrency}: ${top.imagesPerSecond.toFixed(2)} images/s = ${((100 * top.imagesPerSecond) / best.imagesPerSecond).toFixed(0)}% of the raw engine's best (target >= 90%)\n`,
    );
  if (one && batch1) {
    const limit = batch1.secondsPerBatch * 1000 + config.batching.maxQueueDelayMs + 10;
    process.stdout.write(
      `  concurrency 1: p50 ${one.p50Ms.toFixed(0)} ms vs raw batch-1 ${(batch1.secondsPerBatch * 1000).toFixed(0)} ms + ${config.batching.maxQueueDelayMs} ms delay + 10 ms = ${limit.toFixed(0)} ms (${one.p50Ms <= limit ? 'met' : 'missed'})\n`,
    );
  }
  process.stdout.write(`  peak RSS ${peakRssMiB().toFixed(0)} MiB\n`);
}

/** Dataset mode: loads the model once and runs the dataset bench on its engine. */
async function runDatasetMode(
  weights: string,
  e: { engine: EngineChoice; backend?: string | undefined; threads?: number | undefined },
  batchSize: number,
  seconds: number,
  format: ImageFormat,
  rounds: number,
): Promise<void> {
  const { loadModel } = await import('../model/load-model.js');
  const { createEngine } = await import('../engine/create-engine.js');
  const { runDatasetBench } = await import('./dataset-bench.js');
  const engine = await createEngine((await loadModel(weights)).folded, {
    engine: e.engine,
    ...(e.backend ? { backend: e.backend } : {}),
    ...(e.threads ? { threads: e.threads } : {}),
  });
  try {
    process.stdout.write(
      `dataset bench: ${weights}, engine ${engine.name}/${engine.backend}, ${os.availableParallelism()} cores\n`,
    );
    await runDatasetBench({ engine, batchSize, seconds, format, depth: 3, rounds });
  } finally {
    await engine.dispose();
  }
}

async function main(argv: string[]): Promise<void> {
  const { values: v, help } = parseOptions(argv, SPECS);
  if (help) {
    process.stdout.write(USAGE);
    return;
  }
  if (await otherBench(v)) return;
  const weights = v.weights ?? (await randomModel());
  const raw = await rawEngineBench(v, weights, list(v['batch-sizes']));
  if (raw) await httpBench(v, raw.rows, raw.serverArgs);
}

async function batchStats(registry: import('prom-client').Registry): Promise<{ sum: number; count: number }> {
  const m = await registry.getSingleMetric('biggan_batch_size_samples')!.get();
  const values = m.values as { metricName?: string; value: number }[];
  const sum = values.find((x) => x.metricName === 'biggan_batch_size_samples_sum')?.value ?? 0;
  const count = values.find((x) => x.metricName === 'biggan_batch_size_samples_count')?.value ?? 0;
  return { sum, count };
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
