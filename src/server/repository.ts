/**
 * The model repository as the server runs it: every model folder read (config, serving settings,
 * memory estimate), a loader that builds each model's stack on demand, and the state of each
 * model reported in biggan_model_info and the log.
 */
import type { Logger } from 'pino';
import type { BatchingSettings, RepositorySettings } from '../config/server-config.js';
import type { EngineChoice } from '../engine/choices.js';
import type { Metrics } from '../metrics/metrics.js';
import { ModelRepository, type ModelLoader } from '../service/repository/model-repository.js';
import { readModelSources, type ModelSource } from '../service/repository/model-source.js';
import type { BrokenFolder } from '../service/repository/model-failures.js';
import { BigGanError } from '../errors.js';
import { defaultMemoryBudget, gpuMemoryWarnings } from '../service/repository/memory.js';
import type { ComputeDevice } from '../engine/device.js';
import { gpuMemoryBytes } from '../engine/gpu.js';
import { resolveModelFolders } from './model-folders.js';
import { buildModelStack, type ModelStack, type ModelStackDeps } from './model-stack.js';

/** The model folders read: those that can be served, and those that cannot (listed as failed, answered 503). */
export interface ReadSources {
  readonly sources: ModelSource[];
  readonly broken: BrokenFolder[];
}

/**
 * Every model folder to serve, read and checked. A folder that cannot be read is a failed model
 * (listed, answered 503) and the others are served; the start fails only when none can be. On a
 * GPU (`device`, decided before loading) the batch defaults are not scaled down by resolution and
 * activations count against GPU memory.
 */
export async function readSources(
  config: RepositorySettings,
  batching: BatchingSettings,
  log: Logger,
  device: ComputeDevice,
): Promise<ReadSources> {
  const folders = await resolveModelFolders(config, (msg) => log.info(msg));
  // The batching group's sizes are each model's defaults (its serving.json may override them); not
  // --max-queue-wait-ms: a model's serving settings carry only its own serving.json value of that.
  const { maxBatchSize, maxQueueDelayMs, maxQueueSize } = batching;
  const { sources, broken } = await readModelSources(folders, { maxBatchSize, maxQueueDelayMs, maxQueueSize }, device);
  for (const b of broken) log.warn(`model ${b.name} cannot be served: ${b.detail}`);
  if (sources.length === 0) {
    throw new BigGanError(
      'INVALID_CONFIG',
      `no model can be served: ${broken.map((b) => `${b.name}: ${b.detail}`).join('; ')}`,
    );
  }
  return { sources, broken };
}

/** The loader of the repository: builds a model's stack, keeps it in `stacks` while loaded, logs it. */
function stackLoader(deps: ModelStackDeps, stacks: Map<string, ModelStack>, tracingDescription: string): ModelLoader {
  return async (source) => {
    const rssBefore = process.memoryUsage().rss;
    const stack = await buildModelStack(source, deps);
    stacks.set(source.name, stack);
    const { loaded, engine, service } = stack;
    deps.log.info(
      {
        model: source.name,
        weights: loaded.weightFile,
        format: loaded.format,
        loadSeconds: +(loaded.loadMs / 1000).toFixed(3),
        warmUpSeconds: +(stack.warmMs / 1000).toFixed(3),
        rssMiB: Math.round((process.memoryUsage().rss - rssBefore) / 2 ** 20),
        estimateMiB: Math.round(source.memory.totalBytes / 2 ** 20),
        engine: engine.name,
        backend: engine.backend,
        parameters: service.model.parameters,
        maxBatchSize: source.serving.maxBatchSize,
        tracing: tracingDescription,
        sha256: source.digest,
      },
      'model loaded',
    );
    const dispose = async (): Promise<void> => {
      stacks.delete(source.name);
      await stack.dispose();
    };
    return { service, engine: engine.name, backend: engine.backend, dispose };
  };
}

/** What the repository needs beyond the model stacks' dependencies. */
export interface RepositoryDeps {
  readonly stackDeps: ModelStackDeps;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly tracingDescription: string;
  /** The device the sources were planned for (their GPU estimates are checked against its memory; default cpu). */
  readonly device?: ComputeDevice;
}

/** The settings the repository reads. */
export interface RepositoryConfig {
  readonly memoryBudgetBytes?: RepositorySettings['memoryBudgetBytes'];
  readonly defaultModel?: RepositorySettings['defaultModel'];
  /** Engine reported for a model before it is loaded. */
  readonly engine: EngineChoice;
}

/** The repository over `sources`, its loaded stacks in `stacks`; biggan_model_info follows each model's state. */
export function openRepository(
  read: ReadSources,
  config: RepositoryConfig,
  deps: RepositoryDeps,
  stacks: Map<string, ModelStack>,
): ModelRepository {
  const { sources, broken } = read;
  const { metrics, log } = deps;
  const names = sources.map((m) => m.name).sort();
  const budgetBytes = config.memoryBudgetBytes ?? defaultMemoryBudget();
  const defaultModel = config.defaultModel ?? names[0];
  // biggan_model_info: one series per model, its labels following the state.
  const infoLabels = new Map<string, Record<string, string>>();
  const repository = new ModelRepository(sources, {
    budgetBytes,
    defaultModel,
    load: stackLoader(deps.stackDeps, stacks, deps.tracingDescription),
    broken,
    onState: (source, state, detail) => {
      const prev = infoLabels.get(source.name);
      if (prev) metrics.modelInfo.remove(prev);
      const labels = {
        model: source.name,
        engine: detail.engine ?? config.engine,
        backend: detail.backend ?? '',
        resolution: String(source.config.outputDim),
        state,
      };
      infoLabels.set(source.name, labels);
      metrics.modelInfo.set(labels, 1);
      if (state !== 'ready') metrics.ready.set({ model: source.name }, 0);
      if (state === 'failed') log.warn(`model ${source.name} failed to load: ${detail.detail ?? detail.reason}`);
      else if (state === 'unloaded' && detail.loadMs !== undefined) log.info({ model: source.name }, 'model unloaded');
    },
  });
  log.info(
    {
      models: sources.map((m) => ({
        name: m.name,
        resolution: m.config.outputDim,
        maxBatchSize: m.serving.maxBatchSize,
        estimateMiB: Math.round(m.memory.totalBytes / 2 ** 20),
        ...(m.memory.gpuBytes !== undefined ? { gpuEstimateMiB: Math.round(m.memory.gpuBytes / 2 ** 20) } : {}),
      })),
      default: defaultModel,
      memoryBudgetMiB: Math.round(budgetBytes / 2 ** 20),
      device: deps.device ?? 'cpu',
    },
    'models',
  );
  if (deps.device === 'gpu') for (const w of gpuMemoryWarnings(sources, gpuMemoryBytes())) log.warn(w);
  return repository;
}

/** Preload: the default model first (start-up fails when it cannot load), then the others that fit. */
export async function preload(
  repository: ModelRepository,
  setting: RepositorySettings['preload'],
  log: Logger,
): Promise<void> {
  const defaultModel = repository.defaultModel;
  const order = [
    defaultModel,
    ...repository
      .names()
      .sort()
      .filter((n) => n !== defaultModel),
  ];
  const fitsAll = repository.fitting(order).length === order.length;
  const chosen = setting ?? (fitsAll ? 'all' : 'default');
  const toLoad = chosen === 'none' ? [] : chosen === 'default' ? [defaultModel] : repository.fitting(order);
  const failures = await repository.preload(toLoad);
  const defaultFailure = failures.find((f) => f.name === defaultModel);
  if (defaultFailure) throw defaultFailure.error;
  log.info({ models: toLoad, preload: chosen, default: defaultModel }, 'ready');
}
