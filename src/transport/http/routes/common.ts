/**
 * Schema pieces the REST routes share: error answers and binary image bodies, for validation-free
 * serialisation and for the OpenAPI document.
 */
import { Type } from 'typebox';
import { ErrorResponseSchema } from '../../../service/contract/schemas.js';
import type { Catalog, RequestService } from '../../../service/types.js';

/** Options of every route plugin. */
export interface RouteOptions {
  /** What a route calls for images. */
  readonly requests: RequestService;
  /** Models, classes and readiness. */
  readonly catalog: Catalog;
}

/** Encoded image bytes (a Buffer in the handler, `format: binary` in OpenAPI). */
export const BinaryImage = Type.Unsafe<Buffer>({ type: 'string', format: 'binary' });

/** The error answers of a computing route. */
export const ERROR_RESPONSES = {
  400: { ...ErrorResponseSchema, description: 'Invalid request: the message names the field and the allowed values.' },
  401: {
    ...ErrorResponseSchema,
    description: 'No API key, or an unknown one (when the server has a key file); see WWW-Authenticate.',
  },
  403: {
    ...ErrorResponseSchema,
    description: 'The API key is disabled, or the request needs more images than its quota allows at once.',
  },
  404: { ...ErrorResponseSchema, description: 'Unknown model: the message lists the models served.' },
  413: { ...ErrorResponseSchema, description: 'Request body too large.' },
  429: {
    ...ErrorResponseSchema,
    description: "Over the API key's quota; see Retry-After and RateLimit-Limit/-Remaining/-Reset.",
  },
  503: {
    ...ErrorResponseSchema,
    description:
      'Overloaded (the queue cannot start it in time) or not ready / draining (see Retry-After), or a model that can never fit the memory budget (RESOURCE_EXHAUSTED).',
  },
  504: { ...ErrorResponseSchema, description: 'The request waited in the queue longer than its timeout.' },
  500: { ...ErrorResponseSchema, description: "A server fault (never the client's); details are logged, not sent." },
};

/** Response bodies of single images, by MIME type. */
export const IMAGE_CONTENT = {
  'image/png': { schema: BinaryImage },
  'image/jpeg': { schema: BinaryImage },
  'image/webp': { schema: BinaryImage },
};

/** Response bodies of animations and images, by MIME type. */
export const ANIMATION_CONTENT = { 'image/gif': { schema: BinaryImage }, ...IMAGE_CONTENT };
