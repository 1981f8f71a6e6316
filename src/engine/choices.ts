/**
 * The names a user may choose between for `--engine` and `--backend`, in one place, with no
 * runtime imports: config parsing and help text read them without loading TensorFlow.js or
 * ONNX Runtime.
 */
import type { EngineName } from './engine.js';

/** `--engine` values. */
export type EngineChoice = EngineName | 'auto';
export const ENGINE_CHOICES: readonly EngineChoice[] = ['auto', 'ort', 'tfjs'];

/** TensorFlow.js backends accepted by `--backend` for the tfjs engine, fastest first. */
export const TFJS_BACKENDS = ['tensorflow', 'wasm', 'cpu'] as const;
export type TfjsBackendName = (typeof TFJS_BACKENDS)[number];

/** ONNX Runtime execution providers accepted by `--backend` for the ort engine. */
export const EXECUTION_PROVIDERS = ['cpu', 'cuda', 'tensorrt'] as const;
/** What an ort session runs on. */
export type ExecutionProvider = (typeof EXECUTION_PROVIDERS)[number];

/** Narrows `value` to one of `choices` (a type guard, so callers need no cast). */
export function isOneOf<T extends string>(choices: readonly T[], value: string | undefined): value is T {
  return choices.some((c) => c === value);
}
