/**
 * The node side of scripts/gpu-smoke.sh, one step per call, each printing one JSON line last:
 *
 *   fixture --weights DIR --backend B [--tolerance T]   the golden fixture's cases on B vs the
 *                                                       reference outputs (max |diff|)
 *   engine  --weights DIR --backend B --threads N       raw engine images/s per batch size
 *   serve   --weights DIR --backend B --threads N       the service under UNSEEDED POST /generate
 *                                                       load (a seeded rerun is a cache hit and
 *                                                       never reaches the engine)
 *
 * Every step reports the backend that actually ran, so the script can fail when `cuda` was asked
 * for and the work ran on the CPU.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { defineOptions, parseOptions } from '../config/options.js';
import { parseServerConfig } from '../config/server-config.js';
import { startServer } from '../server/start.js';
import { createEngine } from '../engine/create-engine.js';
import { loadModel } from '../model/load-model.js';
import { benchEngine } from './engine-bench.js';
import { runHttpLoad } from './http-load.js';

const SPECS = defineOptions([
  { name: 'weights', type: 'string', placeholder: 'DIR', description: 'Model folder (the fixture for `fixture`).' },
  { name: 'backend', type: 'string', default: 'cuda', description: 'ort execution provider: cuda or cpu.' },
  {
    name: 'threads',
    type: 'integer',
    default: 4,
    min: 1,
    description: 'Intra-op threads (the same on both providers).',
  },
  {
    name: 'tolerance',
    type: 'number',
    default: 1e-3,
    min: 0,
    description: 'fixture: largest allowed |output - reference|.',
  },
  { name: 'batch-sizes', type: 'string', default: '1,8,32', description: 'engine: batch sizes.' },
  {
    name: 'seconds',
    type: 'number',
    default: 10,
    min: 0.5,
    max: 600,
    description: 'engine: seconds per batch size; serve: load duration.',
  },
  { name: 'concurrency', type: 'integer', default: 32, min: 1, max: 1024, description: 'serve: HTTP clients.' },
  {
    name: 'max-batch-size',
    type: 'integer',
    default: 32,
    min: 1,
    max: 256,
    description: 'serve: the server batch size.',
  },
]);

type Values = ReturnType<typeof parseOptions<typeof SPECS>>['values'];

/** One reference case of a fixture folder: inputs and the NCHW [B, 3, H, W] output. */
function readCase(dir: string): {
  z: Float32Array;
  classVector: Float32Array;
  truncation: number;
  batch: number;
  output: Float32Array;
} {
  const inputs = JSON.parse(readFileSync(path.join(dir, 'inputs.json'), 'utf8')) as {
    z: number[][];
    class_vector: number[][];
    truncation: number;
  };
  const buf = readFileSync(path.join(dir, 'output.f32'));
  const output = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
  return {
    z: Float32Array.from(inputs.z.flat()),
    classVector: Float32Array.from(inputs.class_vector.flat()),
    truncation: inputs.truncation,
    batch: inputs.z.length,
    output,
  };
}

/** Max |reference NCHW - output NHWC|; NaN counts as infinitely far. */
function maxDiff(ref: Float32Array, out: Float32Array, batch: number, size: number): number {
  let max = 0;
  for (let b = 0; b < batch; b++)
    for (let c = 0; c < 3; c++)
      for (let i = 0; i < size * size; i++) {
        const d = Math.abs(ref[(b * 3 + c) * size * size + i] - out[(b * size * size + i) * 3 + c]);
        if (!(d <= max)) max = Number.isNaN(d) ? Infinity : d;
      }
  return max;
}

async function fixtureStep(v: Values): Promise<object> {
  const dir = v.weights!;
  const engine = await createEngine((await loadModel(dir)).folded, {
    engine: 'ort',
    backend: v.backend,
    threads: v.threads,
  });
  try {
    const cases: { name: string; maxAbsDiff: number }[] = [];
    for (const name of readdirSync(path.join(dir, 'cases')).sort()) {
      const c = readCase(path.join(dir, 'cases', name));
      const out = await engine.generate({
        size: c.batch,
        z: c.z,
        classVector: c.classVector,
        truncation: Array<number>(c.batch).fill(c.truncation),
      });
      cases.push({ name, maxAbsDiff: maxDiff(c.output, out.data, c.batch, out.height) });
    }
    const worst = Math.max(...cases.map((c) => c.maxAbsDiff));
    return {
      step: 'fixture',
      backend: engine.backend,
      cases,
      maxAbsDiff: worst,
      tolerance: v.tolerance,
      ok: worst <= v.tolerance,
    };
  } finally {
    await engine.dispose();
  }
}

async function engineStep(v: Values): Promise<object> {
  const engine = await createEngine((await loadModel(v.weights!)).folded, {
    engine: 'ort',
    backend: v.backend,
    threads: v.threads,
  });
  try {
    const batchSizes = v['batch-sizes']
      .split(',')
      .map(Number)
      .filter((n) => Number.isInteger(n) && n > 0);
    const rows = await benchEngine(engine, { batchSizes, minSeconds: v.seconds, minIterations: 2 });
    const best = rows.reduce((a, b) => (b.imagesPerSecond > a.imagesPerSecond ? b : a));
    for (const r of rows) {
      process.stdout.write(
        `  ${engine.backend} batch ${String(r.batchSize).padStart(3)}: ${r.imagesPerSecond.toFixed(2)} images/s\n`,
      );
    }
    return {
      step: 'engine',
      backend: engine.backend,
      threads: v.threads,
      rows: rows.map((r) => ({ batchSize: r.batchSize, imagesPerSecond: r.imagesPerSecond })),
      best: { batchSize: best.batchSize, imagesPerSecond: best.imagesPerSecond },
    };
  } finally {
    await engine.dispose();
  }
}

async function serveStep(v: Values): Promise<object> {
  const args = [
    '--weights',
    v.weights!,
    '--engine',
    'ort',
    '--backend',
    v.backend,
    '--threads',
    String(v.threads),
    '--host',
    '127.0.0.1',
    '--http-port',
    '0',
    '--grpc-port',
    '-1',
    '--max-batch-size',
    String(v['max-batch-size']),
    '--max-queue-size',
    '4096',
    '--log-level',
    'warn',
  ];
  const server = await startServer(parseServerConfig(args, {}).config, { logger: false });
  try {
    const models = (await (await fetch(`http://127.0.0.1:${server.httpPort}/v1/models`)).json()) as {
      models?: { backend?: string }[];
      data?: { backend?: string }[];
    };
    const backend = (models.models ?? models.data ?? [])[0]?.backend ?? server.engine.backend;
    // seed: undefined drops the load's seed from every body: each request is new work for the engine.
    const r = await runHttpLoad('127.0.0.1', server.httpPort, v.concurrency, v.seconds, Infinity, { seed: undefined });
    const refused = Object.values(r.statuses).reduce((a, b) => a + b, 0);
    return {
      step: 'serve',
      backend,
      unseeded: true,
      concurrency: v.concurrency,
      imagesPerSecond: r.imagesPerSecond,
      p50Ms: r.p50Ms,
      p99Ms: r.p99Ms,
      non200: refused,
      errors: r.errors,
    };
  } finally {
    await server.stop();
  }
}

const STEPS: Record<string, (v: Values) => Promise<object>> = {
  fixture: fixtureStep,
  engine: engineStep,
  serve: serveStep,
};

async function main(argv: string[]): Promise<void> {
  const [step, ...rest] = argv;
  const run = step !== undefined ? STEPS[step] : undefined;
  const { values } = parseOptions(rest, SPECS);
  if (!run || values.weights === undefined) {
    const steps = Object.keys(STEPS).join('|');
    process.stderr.write(`usage: gpu-smoke.js ${steps} --weights DIR [--backend cuda|cpu] [--threads N] ...\n`);
    process.exit(2);
  }
  process.stdout.write(JSON.stringify(await run(values)) + '\n');
}

await main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`gpu-smoke: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
