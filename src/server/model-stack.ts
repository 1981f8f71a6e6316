/**
 * One model's stack: weights -> engine -> supervised engine -> (fair scheduler) -> batcher ->
 * generation service, warmed up and ready. The server builds one per loaded model (the
 * repository's loader); the tests build the same stack over the fixture model.
 */
import type { Logger } from 'pino';
import { loadModel, type LoadedModel } from '../model/load-model.js';
import type { FoldedGenerator } from '../model/folded-weights.js';
import { createEngine, type EngineOptions } from '../engine/create-engine.js';
import type { Engine } from '../engine/engine.js';
import { SupervisedEngine, type SupervisorSettings } from '../engine/supervised-engine.js';
import type { EngineLiveness } from '../engine/liveness.js';
import type { ComputeDevice } from '../engine/device.js';
import { collectGarbage } from '../engine/collect-garbage.js';
import { Batcher } from '../batching/batcher.js';
import type { FairScheduler } from '../batching/fair-scheduler.js';
import type { Metrics } from '../metrics/metrics.js';
import { GenerationService } from '../service/generation-service.js';
import type { ModelSource } from '../service/repository/model-source.js';
import { batchTracer, type Tracing } from '../tracing/tracing.js';
import { BigGanError } from '../errors.js';

/** Creates an engine over folded weights (the real `createEngine`, or a test's wrapper of it). */
export type EngineFactory = (folded: FoldedGenerator, opts: EngineOptions) => Promise<Engine>;

/** What every model's stack shares. */
export interface ModelStackDeps {
  /** Engine choice, backend and threads (the server's flags). */
  readonly engine: Pick<EngineOptions, 'engine' | 'backend' | 'threads'>;
  readonly createEngine: EngineFactory;
  readonly supervision: SupervisorSettings;
  /** Batcher settings beyond the model's serving settings. */
  /** `maxQueueWaitMs`: --max-queue-wait-ms when set (a model's serving.json value wins). */
  readonly batching: { readonly maxConcurrentBatches: number; readonly maxQueueWaitMs?: number | undefined };
  readonly maxSamplesPerRequest: number;
  /** One engine call at a time over all models, round-robin among the models with work. */
  readonly scheduler: FairScheduler;
  readonly metrics: Metrics;
  readonly tracing: Tracing;
  readonly log: Logger;
  /** The device the models' batch sizes and memory estimates were planned for (default cpu). */
  readonly device?: ComputeDevice;
  /** Told each engine's health changes and unloads: a GPU engine unhealthy too long fails /healthz. */
  readonly liveness?: EngineLiveness;
}

/** What a load reports: the weights' file, format and load time (the folded weights are not kept). */
export type LoadFacts = Omit<LoadedModel, 'folded'>;

/** A loaded, warmed-up and ready model. */
export interface ModelStack {
  readonly loaded: LoadFacts;
  readonly engine: SupervisedEngine;
  readonly batcher: Batcher;
  readonly service: GenerationService;
  /** Duration of the warm-up batch, ms. */
  readonly warmMs: number;
  /** Closes the batcher and frees the engine. */
  dispose(): Promise<void>;
}

/** The first engine of a model; any failure is one BigGanError naming the cause. */
async function firstEngine(deps: ModelStackDeps, folded: FoldedGenerator, opts: EngineOptions): Promise<Engine> {
  try {
    return await deps.createEngine(folded, opts);
  } catch (err) {
    if (err instanceof BigGanError) throw err;
    throw new BigGanError(
      'INTERNAL',
      `the engine could not be created: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
}

/**
 * Loads the weights and creates the first engine over them. The float32 weights in JS are needed
 * only until the engine has its own copy: they stay in this function's frame, which is gone once it
 * returns, so the garbage collection after the warm-up frees them (issue 20).
 */
async function loadFirstEngine(
  source: ModelSource,
  deps: ModelStackDeps,
  opts: EngineOptions,
): Promise<{ loaded: LoadFacts; first: Engine }> {
  const { folded, ...loaded } = await loadModel(source.dir);
  return { loaded, first: await firstEngine(deps, folded, opts) };
}

/** The engine under supervision: restarted when its worker dies, unready while it keeps failing. */
function supervise(
  source: ModelSource,
  first: Engine,
  deps: ModelStackDeps,
  opts: EngineOptions,
  onHealth: (healthy: boolean) => void,
): SupervisedEngine {
  const name = source.name;
  // A replacement reloads the weights (the first engine may have moved them into its worker) and
  // keeps the engine and backend the first one chose.
  const restartOptions: EngineOptions = { ...opts, engine: first.name, backend: first.backend };
  const observer = deps.metrics.engineObserverFor(name);
  return new SupervisedEngine(
    first,
    async () => deps.createEngine((await loadModel(source.dir)).folded, restartOptions),
    deps.supervision,
    {
      ...observer,
      onRestart: () => {
        observer.onRestart?.();
        deps.log.warn(`engine of ${name} restarted after its worker stopped`);
      },
      onHealthChange: (healthy) => {
        onHealth(healthy);
        deps.liveness?.report(name, first.backend, healthy);
        if (healthy) deps.log.info({}, `engine of ${name} healthy again: ready`);
        else
          deps.log.warn(
            `engine of ${name} failed ${deps.supervision.failureThreshold} times in a row: not ready until a probe batch succeeds`,
          );
      },
    },
  );
}

/** Loads `source`, builds its stack and runs the warm-up batch; the service is ready on return. */
export async function buildModelStack(source: ModelSource, deps: ModelStackDeps): Promise<ModelStack> {
  const name = source.name;
  const engineOptions: EngineOptions = { ...deps.engine, warn: (msg) => deps.log.warn(msg) };
  const { loaded, first } = await loadFirstEngine(source, deps, engineOptions);
  if (deps.device === 'gpu' && first.backend === 'cpu') {
    deps.log.warn(
      `model ${name} was planned for a GPU but runs on the cpu: its batch size ` +
        `(${source.serving.maxBatchSize}) and memory estimate assume a GPU; ` +
        'set --backend cpu or fix the GPU (see the fallback warning above)',
    );
  }
  // Engine health drives the service's readiness (the service is built below, before any call).
  const supervised = supervise(source, first, deps, engineOptions, (healthy) => service.setEngineHealthy(healthy));
  const engine = deps.scheduler.wrap(name, supervised);
  const traceBatch = batchTracer(deps.tracing, { model: name, engine: supervised.name, backend: supervised.backend });
  const batching = {
    ...source.serving,
    maxConcurrentBatches: deps.batching.maxConcurrentBatches,
    ...queueWait(source.serving.maxQueueWaitMs ?? deps.batching.maxQueueWaitMs),
  };
  const batcher = new Batcher(engine, batching, {
    observer: deps.metrics.batcherObserverFor(name),
    ...(traceBatch ? { traceBatch } : {}),
  });
  const service = new GenerationService(engine, batcher, deps.metrics, {
    modelName: name,
    maxSamplesPerRequest: deps.maxSamplesPerRequest,
  });
  const dispose = async (): Promise<void> => {
    deps.liveness?.forget(name);
    batcher.close();
    await supervised.dispose();
  };
  let warmMs: number;
  try {
    warmMs = await service.warmUp();
  } catch (err) {
    await dispose();
    throw new BigGanError(
      'INTERNAL',
      `the warm-up batch of ${name} failed: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
  // Admission by predicted wait needs an engine time before the first batch: the warm-up batch
  // (full size, and slower than later ones, so the start is conservative) until one is measured.
  batcher.primeEngineTime(source.serving.maxBatchSize, warmMs);
  // Loading's dead buffers (file bytes, folded weights) would otherwise stay resident: an idle
  // server allocates too little for V8 to run a major GC on its own (issue 20).
  collectGarbage();
  service.setReady();
  return { loaded, engine: supervised, batcher, service, warmMs, dispose };
}

/**
 * Full batches of predicted time (its wait plus its own batch) a request without a deadline may
 * face by default (docs/reliability.md): 2.5 keeps the full-width 128 model (1.23 s per batch of 8
 * on the 2-core build machine) near 3 s, so clients that give up after 5 s are not accepted only
 * to time out, while a 512 model whose batches take seconds gets a proportionally longer limit.
 */
const QUEUE_WAIT_BATCHES = 2.5;

/** The queue-wait limit: serving.json's or --max-queue-wait-ms when set, else QUEUE_WAIT_BATCHES of the model's measured batch time. */
function queueWait(ms: number | undefined): { maxQueueWaitMs: number } | { queueWaitBatches: number } {
  return ms !== undefined ? { maxQueueWaitMs: ms } : { queueWaitBatches: QUEUE_WAIT_BATCHES };
}

/** The default engine factory. */
export const defaultEngineFactory: EngineFactory = createEngine;
