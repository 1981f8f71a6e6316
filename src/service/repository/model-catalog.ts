/**
 * The Catalog of a model repository: every model's description and state, the classes, the
 * `model` metric label, and readiness (the default model's), for every transport. It owns one
 * ModelHandle per model; readiness follows the repository's states and each loaded service.
 */
import type { Catalog, ClassInfo, ModelInfo, ModelStatus } from '../types.js';
import { classesOf } from '../model-info.js';
import { DEFAULT_TRUNCATION, TRUNCATION_MAX, TRUNCATION_MIN } from '../contract/limits.js';
import { brokenStatus } from './model-failures.js';
import type { ModelRepository } from './model-repository.js';
import { ModelHandle, type HandleOptions } from './model-handle.js';

/** The models of a repository as the transports see them. */
export class ModelCatalog implements Catalog {
  private readonly handles = new Map<string, ModelHandle>();

  constructor(
    private readonly repository: ModelRepository,
    options: HandleOptions,
  ) {
    for (const name of repository.names())
      this.handles.set(name, new ModelHandle(repository.source(name), repository, options));
    // Readiness follows each model's state and, while it is loaded, its service's own readiness.
    const followed = new WeakSet<object>();
    repository.watch((name) => {
      const loaded = repository.loaded(name);
      if (loaded && !followed.has(loaded.service)) {
        followed.add(loaded.service);
        loaded.service.onReadinessChange(() => this.handles.get(name)?.readinessMaybeChanged());
      }
      this.handles.get(name)?.readinessMaybeChanged();
    });
  }

  /** The handle of model `name` (the default without one); NOT_FOUND listing the models. */
  handle(name?: string): ModelHandle {
    const key = this.repository.source(name).name; // throws NOT_FOUND with the list
    return this.handles.get(key)!;
  }

  /** Every model's handle. */
  allHandles(): readonly ModelHandle[] {
    return [...this.handles.values()];
  }

  /** Every model, folders that could not be read as models among them (state `failed`), by name. */
  listModels(): readonly ModelStatus[] {
    const truncation = { min: TRUNCATION_MIN, max: TRUNCATION_MAX, default: DEFAULT_TRUNCATION };
    const broken = this.repository.brokenFolders().map((b) => brokenStatus(b, truncation));
    return [...this.repository.names().map((name) => this.status(name)), ...broken].sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
  }

  modelInfo(name?: string): ModelInfo {
    return this.handle(name).model;
  }

  listClasses(): readonly ClassInfo[] {
    return classesOf(this.handle().source.config.numClasses);
  }

  modelLabel(name: unknown): string {
    return typeof name === 'string' && this.repository.has(name) ? name : this.repository.defaultModel;
  }

  isReady(): boolean {
    return this.handle().isReady();
  }

  accepting(): boolean {
    return this.handle().accepting();
  }

  onReadinessChange(listener: (ready: boolean) => void): void {
    this.handle().onReadinessChange(listener);
  }

  /** Every model stops taking new work (server drain); readiness goes false at once. */
  startDrain(): void {
    for (const h of this.handles.values()) h.startDrain();
  }

  /** One model's status (NOT_FOUND when unknown). */
  private status(name: string): ModelStatus {
    const handle = this.handle(name);
    const source = handle.source;
    const s = this.repository.status(source.name);
    return {
      ...handle.model,
      state: s.state,
      ...(s.reason !== undefined ? { reason: s.reason } : {}),
      default: source.name === this.repository.defaultModel,
      maxQueueDelayMs: source.serving.maxQueueDelayMs,
      maxQueueSize: source.serving.maxQueueSize,
      servingFrom: source.servingFrom,
      memoryEstimateBytes: source.memory.totalBytes,
      ...(s.loadMs !== undefined ? { loadSeconds: +(s.loadMs / 1000).toFixed(3) } : {}),
    };
  }
}
