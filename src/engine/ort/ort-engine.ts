/**
 * The `ort` engine: the generator as an ONNX graph built in TypeScript (graph-builder.ts), run by
 * onnxruntime-node. Per-sample batch-norm statistics are a graph input, so one batch can mix
 * truncations. CPU provider here; CUDA when installed and a GPU is visible (execution-provider.ts).
 */
import * as ort from 'onnxruntime-node';
import { availableParallelism } from 'node:os';
import { checkBatch, SerialCalls, type Engine, type EngineBatch, type EngineOutput } from '../engine.js';
import type { FoldedGenerator } from '../../model/folded-weights.js';
import { statWeights } from '../../model/batch-norm-stats.js';
import { BigGanError } from '../../errors.js';
import { buildOnnxModel, ONNX_IO } from './graph-builder.js';
import { encodeModel } from './onnx-proto.js';
import { openSessionRunner, type SessionRunner } from './session-runner.js';
import { describeLoadFailure, diagnoseProviderLoad } from './provider-diagnosis.js';
import {
  ortBinFolder,
  planExecutionProvider,
  providerLibraryOf,
  systemProbes,
  type ExecutionProvider,
  type ExecutionProviderChoice,
  type ExecutionProviderProbes,
} from './execution-provider.js';

/** Options of the ort engine. */
export interface OrtEngineOptions {
  /** Intra-op threads; default all cores (`os.availableParallelism()`). */
  readonly threads?: number | undefined;
  /** Default 'auto': CUDA when installed and a GPU is visible, else CPU. */
  readonly executionProvider?: ExecutionProviderChoice;
  /** Where a fallback warning goes; default `console.warn`. */
  readonly warn?: ((message: string) => void) | undefined;
  /** Machine probes for the provider decision (tests inject fakes). */
  readonly probes?: ExecutionProviderProbes;
  /**
   * Run the session in a worker thread (default true). onnxruntime-node runs synchronously on
   * the calling thread; in a worker, a batch no longer blocks the event loop (HTTP, gRPC,
   * metrics, health probes) for its whole duration.
   */
  readonly worker?: boolean;
}

/** The ort engine, with how long it took to start. */
export interface OrtEngine extends Engine {
  readonly name: 'ort';
  readonly backend: ExecutionProvider;
  /** Milliseconds to build the ONNX bytes and to create the session. */
  readonly startup: { readonly buildMs: number; readonly sessionMs: number };
  readonly threads: number;
  /** Whether the session runs in a worker thread. */
  readonly inWorker: boolean;
}

/** Session options shared by the engine and the convolution-ceiling measurement. */
export function ortSessionOptions(threads: number, providers: readonly string[]): ort.InferenceSession.SessionOptions {
  if (!Number.isInteger(threads) || threads < 1) {
    throw new BigGanError('INVALID_CONFIG', `threads: must be a positive integer, got ${JSON.stringify(threads)}`);
  }
  return {
    executionProviders: [...providers],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    enableCpuMemArena: true,
    // Memory patterns are off on purpose: with them ORT allocates each input shape's planned
    // block on top of the arena (full-width 128 at batch 16: 2.2 GB peak instead of 1.4 GB, and
    // the first two runs of every new batch size are slow), for no measurable speed gain here.
    enableMemPattern: false,
  };
}

/** A session and how it was made. */
interface OpenedSession {
  readonly runner: SessionRunner;
  readonly provider: ExecutionProvider;
  readonly buildMs: number;
  readonly sessionMs: number;
}

/**
 * Builds the graph and creates a session for each plan attempt in order; a failed attempt falls
 * back (with a warning) when the plan has a next one. The graph is built per attempt because
 * its CPU layout hints only pay off on the CPU provider.
 */
async function openSession(folded: FoldedGenerator, threads: number, opts: OrtEngineOptions): Promise<OpenedSession> {
  const plan = planExecutionProvider(opts.executionProvider ?? 'auto', opts.probes ?? systemProbes);
  const warn = opts.warn ?? console.warn;
  for (const [i, a] of plan.attempts.entries()) {
    const t0 = performance.now();
    let model: Uint8Array | undefined = buildOnnxModel(folded, { blockedLayoutHints: a.provider === 'cpu' });
    const t1 = performance.now();
    try {
      const runner = await openSessionRunner(model, ortSessionOptions(threads, a.ortProviders), opts.worker ?? true);
      return { runner, provider: a.provider, buildMs: t1 - t0, sessionMs: performance.now() - t1 };
    } catch (err) {
      const why = await explainFailure(err, a.provider, opts.probes ?? systemProbes);
      const next = plan.attempts[i + 1];
      if (!next) {
        throw new BigGanError(
          a.provider === 'cpu' ? 'INTERNAL' : 'INVALID_CONFIG',
          `onnxruntime: cannot create a ${a.provider} session: ${why}`,
          { cause: err },
        );
      }
      warn(`onnxruntime: the ${a.provider} execution provider failed (${why}); falling back to ${next.provider}`);
    } finally {
      // ORT keeps its own copy of the initializers: let the ~200 MB of bytes go before a
      // fallback attempt builds its own.
      model = undefined;
    }
  }
  throw new BigGanError('INTERNAL', 'onnxruntime: empty execution-provider plan');
}

/**
 * The session error, plus (for a GPU provider whose library did not load) the loader's own
 * message naming the missing dependency, which ORT only prints to stderr.
 */
async function explainFailure(
  err: unknown,
  provider: ExecutionProvider,
  probes: ExecutionProviderProbes,
): Promise<string> {
  const why = err instanceof Error ? err.message : String(err);
  const library = providerLibraryOf(provider);
  const folder = probes.providerFolder ? probes.providerFolder() : ortBinFolder();
  if (library === undefined || folder === undefined || !/load.*(shared library|library)/i.test(why)) return why;
  const failure = await diagnoseProviderLoad(folder, library);
  return failure ? `${why}: ${describeLoadFailure(failure)}` : why;
}

/** Builds the graph from `folded`, creates the session and returns the engine. */
export async function createOrtEngine(folded: FoldedGenerator, opts: OrtEngineOptions = {}): Promise<OrtEngine> {
  const config = folded.config;
  const threads = opts.threads ?? availableParallelism();
  const { runner, provider, buildMs, sessionMs } = await openSession(folded, threads, opts);

  // One session run at a time: ORT already uses every intra-op thread for a single run.
  const calls = new SerialCalls();
  const R = config.outputDim;

  const run = async (batch: EngineBatch): Promise<EngineOutput> => {
    checkBatch(batch, config);
    const B = batch.size;
    const inputs = [
      { name: ONNX_IO.z, data: batch.z, dims: [B, config.zDim] },
      { name: ONNX_IO.classVector, data: batch.classVector, dims: [B, config.numClasses] },
      { name: ONNX_IO.statWeights, data: statWeights(batch.truncation, config.nStats), dims: [B, config.nStats] },
    ];
    let data: Float32Array;
    try {
      data = await runner.run(inputs); // [B, H, W, 3], owned by JS: no copy needed
    } catch (err) {
      throw new BigGanError('INTERNAL', `onnxruntime run failed: ${err instanceof Error ? err.message : String(err)}`, {
        cause: err,
      });
    }
    if (data.length !== B * R * R * 3)
      throw new BigGanError('INTERNAL', `onnxruntime returned ${data.length} values, expected ${B} x ${R} x ${R} x 3`);
    return { size: B, height: R, width: R, data };
  };

  return {
    name: 'ort',
    backend: provider,
    config,
    threads,
    inWorker: opts.worker ?? true,
    startup: { buildMs, sessionMs },
    generate: (batch: EngineBatch) => calls.run(() => run(batch)),
    async dispose(): Promise<void> {
      if (await calls.close()) await runner.release();
    },
  };
}

/** Whether onnxruntime-node imports and can create a (trivial) CPU session here. */
export async function ortAvailable(): Promise<boolean> {
  try {
    const bytes = encodeModel({
      name: 'probe',
      nodes: [{ opType: 'Identity', inputs: ['x'], outputs: ['y'] }],
      initializers: [],
      inputs: [{ name: 'x', elemType: 'float', shape: [1] }],
      outputs: [{ name: 'y', elemType: 'float', shape: [1] }],
    });
    const s = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'] });
    await s.release();
    return true;
  } catch {
    return false;
  }
}
