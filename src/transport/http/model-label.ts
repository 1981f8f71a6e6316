/**
 * The `model` label of an HTTP request (request and refusal metrics, the request's log line): the
 * model its route resolved it to (a route whose model is not a `model` field sets it: the OIP
 * routes from the URL's `:name`, the OpenAI API from `model` or `size`), else the model its body
 * or query names, else the default model. The catalog maps unknown names to the default, so the
 * label's cardinality stays bounded by the models served.
 */
import type { FastifyRequest } from 'fastify';
import type { Catalog } from '../../service/types.js';

const resolved = new WeakMap<FastifyRequest, string>();

/** Records the model `request` resolves to, for its `model` label. */
export function setRequestModel(request: FastifyRequest, name: string): void {
  resolved.set(request, name);
}

/** The `model` label of `request`. */
export function modelLabel(catalog: Catalog, request: FastifyRequest): string {
  const named = (v: unknown): unknown => (typeof v === 'object' && v !== null && 'model' in v ? v.model : undefined);
  return catalog.modelLabel(resolved.get(request) ?? named(request.body) ?? named(request.query));
}
