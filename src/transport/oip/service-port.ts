/**
 * The one place the Open Inference Protocol transport touches the service (everything else in
 * this folder talks to `OipPort` only): the request path (`RequestService.generate`), the
 * `Catalog` (models, their description and readiness) and the contract check (`check`).
 *
 * Pixels: the service hands out encoded images only, so the `image` output decodes the PNG it
 * produced back to RGB with sharp. PNG is lossless, so these are exactly the pixels of
 * POST /generate; the cost is one PNG decode per sample when `image` is asked for.
 */
import sharp from 'sharp';
import { BigGanError } from '../../errors.js';
import { GenerateRequestSchema, RequestHeadersSchema } from '../../service/contract/schemas.js';
import { MAX_ABS_Z, TRUNCATION_MAX, TRUNCATION_MIN } from '../../service/contract/limits.js';
import { check } from '../../service/contract/validate.js';
import type { CallContext, Catalog, GenerateRequest, ModelInfo, RequestService } from '../../service/types.js';

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

/** The port over the request path and the catalog every transport is built with. */
export function oipPort(requests: RequestService, catalog: Catalog): OipPort {
  return {
    defaultModel: () => catalog.modelInfo(),
    model: (name: string) => catalog.modelInfo(name),
    modelNames: () => catalog.listModels().map((m) => m.name),
    serverReady: () => catalog.isReady(),
    metricLabel: (name: unknown) => catalog.modelLabel(name),
    modelReady(name: string): boolean {
      const wanted = catalog.modelInfo(name).name;
      const status = catalog.listModels().find((m) => m.name === wanted);
      if (status === undefined) return catalog.isReady();
      return status.state === 'ready' && (status.default ? catalog.isReady() : true);
    },
    async generate(req: Record<string, unknown>, ctx: CallContext): Promise<SampleImage[]> {
      const checked: GenerateRequest = check(GenerateRequestSchema, req);
      const result = await requests.generate(checked, ctx);
      return result.images.map((img) => ({ png: img.data, width: result.width, height: result.height }));
    },
  };
}
