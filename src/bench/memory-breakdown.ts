/**
 * `npm run bench -- --memory`, the breakdown (issue 20): where a model's resident memory goes.
 * Runs as a child process per model (`node memory-breakdown.js DIR BATCH`), so every figure is
 * this model's alone, and steps through what a server does, reading this process's memory after
 * each step (Linux /proc: RSS and its anonymous part) after a full GC of the main thread:
 *   load (weight file read, validated, folded: float32 weights in JS) -> engine (ONNX bytes built,
 *   ORT session in its worker: initializers and pre-packed weights) -> JS weights dropped ->
 *   warm-up batch at BATCH (activations in ORT's arena) -> a second batch (steady state) ->
 *   BATCH PNGs encoded by sharp (libvips' cache).
 * Prints one JSON line.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { loadModel } from '../model/load-model.js';
import { parameterCount } from '../model/config.js';
import { createEngine } from '../engine/create-engine.js';
import { collectGarbage } from '../engine/collect-garbage.js';
import { toRgb8 } from '../image/convert.js';
import { encodeImage } from '../image/encode.js';
import type { FoldedGenerator } from '../model/folded-weights.js';

/** One step's reading, MiB. */
export interface MemoryStep {
  readonly step: string;
  readonly rssMiB: number;
  readonly anonMiB: number;
  /** ArrayBuffers held by the main thread's JS (process.memoryUsage().arrayBuffers). */
  readonly jsBuffersMiB: number;
}

/** What the child prints. */
export interface MemoryBreakdown {
  readonly dir: string;
  readonly batch: number;
  readonly parameterMiB: number;
  readonly fileMiB: number;
  readonly steps: readonly MemoryStep[];
  readonly sharpCacheMiB: number;
}

const MiB = 2 ** 20;

function reading(step: string): MemoryStep {
  collectGarbage();
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) / 1024;
  return { step, rssMiB: kb('VmRSS'), anonMiB: kb('RssAnon'), jsBuffersMiB: process.memoryUsage().arrayBuffers / MiB };
}

async function main(dir: string, batch: number): Promise<void> {
  const steps: MemoryStep[] = [reading('start (runtime, modules)')];
  let folded: FoldedGenerator | undefined = (await loadModel(dir)).folded;
  const config = folded.config;
  steps.push(reading('weights loaded in JS (folded float32)'));
  const engine = await createEngine(folded, { engine: 'ort', warn: () => undefined });
  steps.push(reading('ORT session open (JS weights still held)'));
  folded = undefined;
  await new Promise((r) => setTimeout(r, 200)); // the worker collects its copy of the model bytes
  steps.push(reading('JS weights dropped'));
  const classVector = new Float32Array(batch * config.numClasses);
  for (let i = 0; i < batch; i++) classVector[i * config.numClasses + i] = 1;
  const input = {
    size: batch,
    z: new Float32Array(batch * config.zDim).fill(0.1),
    classVector,
    truncation: Array<number>(batch).fill(0.4),
  };
  let out = await engine.generate(input);
  steps.push(reading(`warm-up batch of ${batch}`));
  out = await engine.generate(input);
  steps.push(reading(`second batch of ${batch}`));
  const R = out.height;
  const per = R * R * 3;
  const rgb = toRgb8(out.data);
  await Promise.all(
    Array.from({ length: batch }, (_, i) =>
      encodeImage({ data: rgb.subarray(i * per, (i + 1) * per), width: R, height: R }, 'png'),
    ),
  );
  steps.push(reading(`${batch} PNGs encoded (sharp)`));
  const sharpCacheMiB = sharp.cache().memory.current;
  await engine.dispose();
  const result: MemoryBreakdown = {
    dir,
    batch,
    parameterMiB: (parameterCount(config) * 4) / MiB,
    fileMiB: statSync(path.join(dir, 'model.safetensors')).size / MiB,
    steps,
    sharpCacheMiB,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main(process.argv[2] ?? '', Number(process.argv[3] ?? 1)).then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`memory-breakdown: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
