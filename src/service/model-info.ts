/**
 * The two catalog rules every model shares, written once: a model's description (ModelInfo) from
 * its config and serving settings, and its class list.
 */
import { parameterCount, type BigGanConfig } from '../model/config.js';
import { listClasses } from '../latents/imagenet-classes.js';
import { IMAGE_FORMATS } from '../image/encode.js';
import { DEFAULT_TRUNCATION, TRUNCATION_MAX, TRUNCATION_MIN } from './contract/limits.js';
import type { ClassInfo, ModelInfo } from './types.js';

/** What a description needs beyond the config. */
export interface ModelFacts {
  readonly name: string;
  readonly engine: string;
  readonly backend: string;
  readonly maxSamplesPerRequest: number;
  readonly maxBatchSize: number;
}

/** The description of a model for /v1/models and gRPC GetModel. */
export function describeModel(config: BigGanConfig, facts: ModelFacts): ModelInfo {
  return Object.freeze({
    name: facts.name,
    resolution: config.outputDim,
    zDim: config.zDim,
    numClasses: config.numClasses,
    parameters: parameterCount(config),
    engine: facts.engine,
    backend: facts.backend,
    maxSamplesPerRequest: facts.maxSamplesPerRequest,
    maxBatchSize: facts.maxBatchSize,
    truncation: { min: TRUNCATION_MIN, max: TRUNCATION_MAX, default: DEFAULT_TRUNCATION },
    formats: [...IMAGE_FORMATS],
  });
}

/** A model's classes: the 1000 ImageNet classes with WordNet ids and names, else bare indices. */
export function classesOf(numClasses: number): readonly ClassInfo[] {
  return numClasses === 1000
    ? listClasses()
    : Array.from({ length: numClasses }, (_, index) => ({ index, wnid: '', names: [] }));
}
