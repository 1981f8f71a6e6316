/**
 * The package's public API (package.json `main`): load a model, create an engine and generate
 * images in-process, or start the whole server. Everything here is also what the CLI uses.
 * `createRestClient` is a typed client for the REST API, its request types from the contract.
 */
// Serving: the REST + gRPC server and its validated settings.
export { startServer, type RunningServer } from './server/start.js';
export {
  parseServerConfig,
  serverConfig,
  SERVER_OPTIONS,
  SERVER_OPTION_GROUPS,
  type ServerConfig,
  type PartialServerConfig,
} from './config/server-config.js';
// Models: configs of the published presets, loading a model folder.
export {
  PRESET_NAMES,
  presetConfig,
  parseConfig,
  parameterCount,
  type BigGanConfig,
  type PresetName,
} from './model/config.js';
export { loadModel, loadModelFolder, type LoadedModel } from './model/load-model.js';
export { randomStateDict } from './model/random-weights.js';
// Engines: one forward pass over a batch of latents, class vectors and truncations.
export { createEngine, type EngineOptions } from './engine/create-engine.js';
export { ENGINE_CHOICES, type EngineChoice } from './engine/choices.js';
export type { Engine, EngineBatch, EngineOutput, EngineName } from './engine/engine.js';
// Inputs and outputs: latents, classes, truncation, images.
export { sampleLatents, sampleZ } from './latents/truncnorm.js';
export { DEFAULT_TRUNCATION, checkTruncation } from './latents/truncation.js';
export { classVector, type ClassSpec } from './latents/class-vector.js';
export { interpolate, type InterpolationMethod } from './latents/interpolate.js';
export { toRgb8, sampleView } from './image/convert.js';
export { encodeImage, makeGrid, IMAGE_FORMATS, type ImageFormat, type Rgb8Image } from './image/encode.js';
// Errors: one type with a code, mapped to HTTP and gRPC statuses by ERROR_TABLE.
export { BigGanError, ERROR_TABLE, type ErrorCode } from './errors.js';
// Clients: the REST API, typed by the request contract.
export { createRestClient, type RestClient, type RestClientOptions, type ClientImage } from './client/rest-client.js';
export type { GenerateRequest, InterpolateRequest } from './service/contract/schemas.js';
