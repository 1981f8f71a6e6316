/**
 * `npm run bench -- --memory`: for each model folder, a fresh `serve --weights DIR` process (the
 * warm-up runs one batch of the model's max batch size), then its resident memory from /proc
 * (VmRSS 3 s after it is ready, VmHWM peak) beside the estimate the repository budgets with, and
 * the load time; then, per model, where its memory goes (memory-breakdown.ts).
 * The tiny-128 fixture's process stands for the fixed cost of a server, so "model" = RSS - base.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readModelSource } from '../service/repository/model-source.js';
import type { MemoryBreakdown } from './memory-breakdown.js';

/** What one model's process measured. */
export interface MemoryRow {
  readonly name: string;
  readonly maxBatchSize: number;
  readonly estimateMiB: number;
  readonly rssMiB: number;
  readonly peakMiB: number;
  readonly loadSeconds: number;
  readonly warmUpSeconds: number;
}

/** How long a ready server idles before its memory is read, ms. */
const SETTLE_MS = 3000;

function procKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** Serves `dir` alone in a child process until ready; returns its memory and load figures. */
async function measure(
  cli: string,
  name: string,
  dir: string,
  serverArgs: readonly string[],
): Promise<Omit<MemoryRow, 'estimateMiB' | 'maxBatchSize'> & { maxBatchSize: number }> {
  const child = spawn(
    process.execPath,
    [cli, 'serve', '--weights', dir, '--http-port', '0', '--grpc-port', '-1', '--host', '127.0.0.1', ...serverArgs],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    const loaded = await new Promise<{ loadSeconds: number; warmUpSeconds: number; maxBatchSize: number }>(
      (resolve, reject) => {
        let buf = '';
        let model: { loadSeconds: number; warmUpSeconds: number; maxBatchSize: number } | undefined;
        child.stdout.on('data', (d: Buffer) => {
          buf += d.toString();
          for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
            const text = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            let entry: { msg?: string; loadSeconds?: number; warmUpSeconds?: number; maxBatchSize?: number };
            try {
              entry = JSON.parse(text) as typeof entry;
            } catch {
              continue;
            }
            if (entry.msg === 'model loaded')
              model = {
                loadSeconds: entry.loadSeconds ?? NaN,
                warmUpSeconds: entry.warmUpSeconds ?? NaN,
                maxBatchSize: entry.maxBatchSize ?? NaN,
              };
            if (entry.msg === 'ready' && model) resolve(model);
          }
        });
        child.once('exit', (code) => reject(new Error(`serve ${name} exited with ${code} before it was ready`)));
      },
    );
    // An idle server's memory: V8 frees dead ArrayBuffers' memory on a background thread after
    // the GC that follows loading, so RSS at the 'ready' line still counts some of them.
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    return {
      name,
      rssMiB: procKiB(child.pid!, 'VmRSS') / 1024,
      peakMiB: procKiB(child.pid!, 'VmHWM') / 1024,
      ...loaded,
    };
  } finally {
    child.kill('SIGKILL');
  }
}

/** Measures every model and prints the table (base process first). */
export async function runMemoryBench(opts: {
  root: string;
  base: { name: string; dir: string };
  models: readonly { name: string; dir: string }[];
  serverArgs: readonly string[];
}): Promise<MemoryRow[]> {
  const cli = path.join(opts.root, 'dist/src/cli/main.js');
  const settings = { maxBatchSize: 8, maxQueueDelayMs: 5, maxQueueSize: 256 };
  const base = await measure(cli, opts.base.name, opts.base.dir, opts.serverArgs);
  process.stdout.write(
    `base process (${opts.base.name}): RSS ${base.rssMiB.toFixed(0)} MiB, peak ${base.peakMiB.toFixed(0)} MiB\n\n`,
  );
  process.stdout.write('model                batch  estimate MiB  RSS-base MiB  peak-base MiB  load s  warm-up s\n');
  const rows: MemoryRow[] = [];
  for (const m of opts.models) {
    const source = await readModelSource(m.name, m.dir, settings);
    const r = await measure(cli, m.name, m.dir, opts.serverArgs);
    const row: MemoryRow = {
      ...r,
      maxBatchSize: source.serving.maxBatchSize,
      estimateMiB: source.memory.totalBytes / 2 ** 20,
    };
    rows.push(row);
    process.stdout.write(
      `${m.name.padEnd(20)} ${String(row.maxBatchSize).padStart(5)}  ${row.estimateMiB.toFixed(0).padStart(12)}  ${(row.rssMiB - base.rssMiB).toFixed(0).padStart(12)}  ${(row.peakMiB - base.peakMiB).toFixed(0).padStart(13)}  ${row.loadSeconds.toFixed(1).padStart(6)}  ${row.warmUpSeconds.toFixed(1).padStart(9)}\n`,
    );
  }
  for (const [i, m] of opts.models.entries()) await printBreakdown(opts.root, m.name, m.dir, rows[i].maxBatchSize);
  return rows;
}

/** Runs memory-breakdown.js on one model in a child process and prints where its memory goes. */
async function printBreakdown(root: string, name: string, dir: string, batch: number): Promise<void> {
  const script = path.join(root, 'dist/src/bench/memory-breakdown.js');
  const child = spawn(process.execPath, [script, dir, String(batch)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let text = '';
  child.stdout.on('data', (d: Buffer) => (text += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`memory breakdown of ${name} exited with ${code}`);
  const b = JSON.parse(text.trim().split('\n').pop() ?? '{}') as MemoryBreakdown;
  const f0 = (x: number) => x.toFixed(0).padStart(7);
  process.stdout.write(`\n${name}: where the memory goes (one process, full GC before each reading; `);
  process.stdout.write(`weights ${b.parameterMiB.toFixed(0)} MiB of parameters, file ${b.fileMiB.toFixed(0)} MiB)\n`);
  process.stdout.write('step                                          RSS MiB   +MiB  anon MiB  JS buffers MiB\n');
  b.steps.forEach((s, i) => {
    const delta = i === 0 ? 0 : s.rssMiB - b.steps[i - 1].rssMiB;
    const change = i === 0 ? '' : (delta >= 0 ? '+' : '') + delta.toFixed(0);
    process.stdout.write(
      `${s.step.padEnd(44)} ${f0(s.rssMiB)} ${change.padStart(6)}  ${f0(s.anonMiB)}  ${s.jsBuffersMiB.toFixed(0).padStart(14)}\n`,
    );
  });
  const start = b.steps[0].rssMiB;
  const held = b.steps[b.steps.length - 1].rssMiB - start;
  process.stdout.write(
    `growth since the start (the ONNX Runtime library included): ${held.toFixed(0)} MiB = ${(held / b.parameterMiB).toFixed(2)}x the weight bytes; `,
  );
  process.stdout.write(`sharp's cache holds ${b.sharpCacheMiB.toFixed(1)} MiB\n`);
}
