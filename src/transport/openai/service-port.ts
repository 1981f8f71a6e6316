/**
 * Everything the OpenAI transport uses of the service, in one place: the request path
 * (`RequestService.generate` with the native GenerateRequest, so quotas, the response cache, deadlines, batching,
 * metrics and tracing apply exactly as on POST /generate) and the `Catalog` (the models served).
 * Request bodies are checked by the service's contract through the app's validator (route schemas).
 * When the service seam changes, this file is the one to adapt.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Catalog, GenerateRequest, GenerateResult, RequestService } from '../../service/types.js';
import { callContext } from '../http/call-context.js';

/** A model as this transport needs it. */
export interface ServedModel {
  readonly name: string;
  /** Output width and height, pixels. */
  readonly resolution: number;
  /** Answers requests naming no model. */
  readonly isDefault: boolean;
  readonly maxSamplesPerRequest: number;
  readonly defaultTruncation: number;
}

/** The service as the OpenAI routes see it. */
export interface OpenAiServicePort {
  /** Every model served (of a repository: all of them, loaded or not). */
  models(): readonly ServedModel[];
  /** Runs a native generate request for an HTTP request (its cancellation, timeout header, key and trace). */
  generate(req: GenerateRequest, request: FastifyRequest, reply: FastifyReply): Promise<GenerateResult>;
}

/** The port over the request path and the catalog every transport is built with. */
export function servicePort(requests: RequestService, catalog: Catalog): OpenAiServicePort {
  return {
    models: () =>
      catalog.listModels().map((m) => ({
        name: m.name,
        resolution: m.resolution,
        isDefault: m.default,
        maxSamplesPerRequest: m.maxSamplesPerRequest,
        defaultTruncation: m.truncation.default,
      })),
    generate: (req, request, reply) => requests.generate(req, callContext(request, reply)),
  };
}
