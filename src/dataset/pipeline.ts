/**
 * The generation pipeline: samples of the shards to write, in dataset order, cut into full engine
 * batches (a batch may span two shards), with `depth` batches in flight. The engine runs its calls
 * one after another (SerialCalls), so while it computes batch b, batch b-1 is being encoded (sharp
 * runs on libuv's thread pool) and batch b-2 written into its tar: the engine never waits for PNGs
 * or disk. Batches are consumed strictly in order, so shard bytes do not depend on timing.
 */
import type { Engine } from '../engine/engine.js';
import { toRgb8, sampleView } from '../image/convert.js';
import { encodeImage } from '../image/encode.js';
import { sampleZ } from '../latents/truncnorm.js';
import { BigGanError } from '../errors.js';
import { ShardWriter, type ShardMember } from './shard-writer.js';
import {
  classLabel,
  formatExtension,
  sampleInfo,
  shardName,
  shardRange,
  type DatasetSpec,
  type SampleInfo,
} from './spec.js';
import type { ShardRecord } from './manifest.js';

/** What the pipeline needs. */
export interface PipelineOptions {
  readonly engine: Engine;
  readonly spec: DatasetSpec;
  readonly dir: string;
  /** Shard indices to write, ascending. */
  readonly shards: readonly number[];
  readonly batchSize: number;
  /** Batches in flight (engine + encoding + writing); 3 keeps every stage busy. */
  readonly depth?: number;
  /** Called after each batch is written, with its sample count. */
  readonly onImages?: (n: number) => void;
  /** Called after a shard is renamed into place (write its record here). */
  readonly onShard: (record: ShardRecord) => Promise<void>;
  /** Checked between batches: a signal asked to stop. */
  readonly stopRequested?: () => boolean;
}

/** The sample indices to generate, shard after shard. */
function* sampleIndices(spec: DatasetSpec, shards: readonly number[]): Generator<number> {
  for (const k of shards) {
    const { start, end } = shardRange(spec, k);
    for (let i = start; i < end; i++) yield i;
  }
}

/** Consecutive runs of `size` samples (the last may be shorter). */
function* batchesOf(spec: DatasetSpec, shards: readonly number[], size: number): Generator<SampleInfo[]> {
  let batch: SampleInfo[] = [];
  for (const i of sampleIndices(spec, shards)) {
    batch.push(sampleInfo(spec, i));
    if (batch.length === size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** The `.json` member: enough to get the same bytes from POST /generate (seed as a JSON integer). */
export function sampleJson(spec: DatasetSpec, s: SampleInfo, numClasses: number): string {
  const { wnid, name } = classLabel(s.classIndex, numClasses);
  const body = {
    key: s.key,
    class: s.classIndex,
    wnid,
    name,
    seed: '@SEED@',
    truncation: spec.truncation,
    format: spec.format,
    model: spec.model,
    weights_sha256: spec.weightsSha256,
  };
  // A seed may exceed 2^53: it is written as an exact integer literal, not through a JS number.
  return JSON.stringify(body).replace('"@SEED@"', s.seed.toString());
}

/** A batch's engine inputs: z from each sample's seed, one-hot class vectors. */
function engineInputs(engine: Engine, spec: DatasetSpec, batch: readonly SampleInfo[]) {
  const { zDim, numClasses } = engine.config;
  const z = new Float32Array(batch.length * zDim);
  const classVector = new Float32Array(batch.length * numClasses);
  batch.forEach((s, j) => {
    z.set(sampleZ(s.seed, zDim, spec.truncation), j * zDim);
    classVector[j * numClasses + s.classIndex] = 1;
  });
  return { size: batch.length, z, classVector, truncation: batch.map(() => spec.truncation) };
}

/** Runs one batch and encodes its samples; resolves with each sample's tar members. */
async function renderBatch(engine: Engine, spec: DatasetSpec, batch: readonly SampleInfo[]): Promise<ShardMember[][]> {
  const out = await engine.generate(engineInputs(engine, spec, batch));
  const { outputDim: res, numClasses } = engine.config;
  const ext = formatExtension(spec.format);
  return Promise.all(
    batch.map(async (s, j) => {
      const pixels = sampleView(out.data, j, res, res);
      if (!pixels.every(Number.isFinite))
        throw new BigGanError(
          'INTERNAL',
          `sample ${s.key} (class ${s.classIndex}, seed ${s.seed}): the engine returned non-finite values`,
        );
      const image = await encodeImage({ width: res, height: res, data: toRgb8(pixels) }, spec.format);
      return [
        { name: `${s.key}.cls`, data: Buffer.from(String(s.classIndex)) },
        { name: `${s.key}.json`, data: Buffer.from(sampleJson(spec, s, numClasses)) },
        { name: `${s.key}.${ext}`, data: image },
      ];
    }),
  );
}

/** Writes the samples of `batch` into shards in order, opening and finishing shards as they start and end. */
class ShardSequence {
  private writer: ShardWriter | undefined;
  private current = -1;

  constructor(private readonly o: PipelineOptions) {}

  async add(batch: readonly SampleInfo[], members: readonly ShardMember[][]): Promise<void> {
    const { spec, dir } = this.o;
    for (let j = 0; j < batch.length; j++) {
      const k = Math.floor(batch[j].index / spec.shardSize);
      if (k !== this.current) {
        this.writer = await ShardWriter.open(dir, shardName(spec.prefix, k));
        this.current = k;
      }
      await this.writer!.add(members[j]);
      const { start, end } = shardRange(spec, k);
      if (batch[j].index === end - 1) {
        const written = await this.writer!.finish();
        this.writer = undefined;
        await this.o.onShard({ name: shardName(spec.prefix, k), samples: end - start, ...written });
      }
    }
  }

  async abort(): Promise<void> {
    await this.writer?.abort();
    this.writer = undefined;
  }
}

/** Generates and writes the shards; on any error or stop request the open shard's temporary file is removed. */
export async function runPipeline(o: PipelineOptions): Promise<void> {
  const depth = o.depth ?? 3;
  const sequence = new ShardSequence(o);
  const inFlight: { batch: SampleInfo[]; members: Promise<ShardMember[][]> }[] = [];
  const drainOne = async () => {
    const next = inFlight.shift()!;
    await sequence.add(next.batch, await next.members);
    o.onImages?.(next.batch.length);
  };
  try {
    for (const batch of batchesOf(o.spec, o.shards, o.batchSize)) {
      if (o.stopRequested?.())
        throw new BigGanError('CANCELLED', 'stopped by a signal; rerun the same command to resume');
      const members = renderBatch(o.engine, o.spec, batch);
      members.catch(() => undefined); // awaited in order below; a failure surfaces there
      inFlight.push({ batch, members });
      if (inFlight.length >= depth) await drainOne();
    }
    while (inFlight.length > 0) await drainOne();
  } catch (err) {
    await sequence.abort();
    await Promise.allSettled(inFlight.map((f) => f.members));
    throw err;
  }
}
