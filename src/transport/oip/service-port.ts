/**
 * The one place the Open Inference Protocol transport touches the service (its seam is being
 * redesigned; everything else in this folder talks to `OipPort` only): the request path
 * (`generate`), the catalog (models, their description and readiness) and the contract check.
 *
 * Pixels: the service hands out encoded images only, so the `image` output decodes the PNG it
 * produced back to RGB with sharp. PNG is lossless, so these are exactly the pixels of
 * POST /generate; the cost is one PNG decode per sample when `image` is asked for.
 */
import sharp from 'sharp';
import { BigGanError, quoteValue } from '../../errors.js';
import { GenerateRequestSchema, RequestHeadersSchema } from '../../service/contract/schemas.js';
import { MAX_ABS_Z, TRUNCATION_MAX, TRUNCATION_MIN } from '../../service/contract/limits.js';
import type { CallContext, GenerateRequest, KeyedGeneratorService, ModelInfo } from '../../service/types.js';

export { RequestHeadersSchema, MAX_ABS_Z, TRUNCATION_MAX, TRUNCATION_MIN };
export type { CallContext, ModelInfo };

/** One sample's encoded PNG (and its RGB pixels when asked for). */
export interface SampleImage {
  readonly png: Buffer;
  readonly width: number;
  readonly height: number;
}

/** What this transport needs of the service. */
export interface OipPort {
  /** The default model (answers for requests and probes naming none). */
  defaultModel(): ModelInfo;
  /** A model by name; NOT_FOUND listing the served models when unknown. */
  model(name: string): ModelInfo;
  /** Every model name served. */
  modelNames(): string[];
  /** The server takes work (default model loaded, not draining). */
  serverReady(): boolean;
  /** The named model is loaded and takes work; NOT_FOUND when unknown. */
  modelReady(name: string): boolean;
  /** The `model` metric label of a request naming `name`: its model, or the default (bounded cardinality). */
  metricLabel(name: unknown): string;
  /** Checks a generate request against the service's contract (throws INVALID_ARGUMENT) and runs it. */
  generate(req: Record<string, unknown>, ctx: CallContext): Promise<SampleImage[]>;
}

/** RGB bytes (row-major HWC) of a PNG the service encoded. */
export async function pngToRgb(png: Buffer): Promise<Buffer> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new BigGanError('INTERNAL', `decoded PNG has ${info.channels} channels, expected 3`);
  return data;
}

/** What the port calls: the request path, the catalog and the contract check. */
export type OipService = Pick<KeyedGeneratorService, 'model' | 'isReady' | 'check' | 'generate'> &
  Partial<Pick<KeyedGeneratorService, 'listModels' | 'modelInfo' | 'modelLabel'>>;

/** The port over the service the HTTP app and the gRPC server are built with. */
export function oipPort(service: OipService): OipPort {
  const model = (name: string): ModelInfo => {
    if (service.modelInfo) return service.modelInfo(name);
    if (name !== service.model.name) {
      throw new BigGanError('NOT_FOUND', `model ${quoteValue(name)} is not served; models: ${service.model.name}`);
    }
    return service.model;
  };
  return {
    defaultModel: () => service.model,
    model,
    modelNames: () => (service.listModels?.() ?? [service.model]).map((m) => m.name),
    serverReady: () => service.isReady(),
    metricLabel: (name: unknown) => service.modelLabel?.(name) ?? service.model.name,
    modelReady(name: string): boolean {
      const wanted = model(name).name;
      const status = service.listModels?.().find((m) => m.name === wanted);
      if (status === undefined) return service.isReady();
      return status.state === 'ready' && (status.default ? service.isReady() : true);
    },
    async generate(req: Record<string, unknown>, ctx: CallContext): Promise<SampleImage[]> {
      const checked: GenerateRequest = service.check(GenerateRequestSchema, req);
      const result = await service.generate(checked, ctx);
      return result.images.map((img) => ({ png: img.data, width: result.width, height: result.height }));
    },
  };
}
