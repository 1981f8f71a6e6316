/**
 * Mapping every failure to an HTTP answer, once: BigGanError via ERROR_TABLE, fastify's own
 * client errors (bad JSON, body too large, schema violations) to 4xx with a message naming the
 * field, and anything else to a 500 that never leaks internals.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { BigGanError, ERROR_TABLE, MAX_MESSAGE_CHARS, quoteValue, truncateText, type ErrorCode } from '../../errors.js';

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
  schema?: unknown;
}

/** Turns a JSON-pointer instance path (`/from/seed`, `/class/2`) into a field name (`from.seed`, `class[2]`). */
function fieldName(instancePath: string): string {
  const parts = instancePath.split('/').filter(Boolean);
  return parts.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

/** A readable message for one schema error, naming the field and what is allowed. */
export function describeSchemaError(e: AjvError, allowedFields?: readonly string[]): { field: string; message: string } {
  const field = fieldName(e.instancePath) || 'body';
  switch (e.keyword) {
    case 'additionalProperties': {
      // The unknown name is the client's: quoted only when it is not a plain short identifier.
      const raw = String(e.params.additionalProperty);
      const extra = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(raw) ? raw : quoteValue(raw);
      const name = field === 'body' ? extra : `${field}.${extra}`;
      return { field: name, message: `${name}: unknown field${allowedFields ? `; allowed fields: ${allowedFields.join(', ')}` : ''}` };
    }
    case 'enum':
      return { field, message: `${field}: must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    case 'required':
      return { field: String(e.params.missingProperty), message: `${String(e.params.missingProperty)}: is required` };
    case 'oneOf':
    case 'anyOf':
      return { field, message: `${field}: has the wrong form; see /openapi.json for the allowed forms` };
    default:
      return { field, message: `${field}: ${e.message ?? 'is invalid'}` };
  }
}

/** The JSON body of an error answer; message and field are cut to a bounded length whatever built them. */
export function errorPayload(code: ErrorCode | string, message: string, field?: string): { error: { code: string; message: string; field?: string } } {
  return { error: { code, message: truncateText(message, MAX_MESSAGE_CHARS), ...(field ? { field: truncateText(field, MAX_MESSAGE_CHARS) } : {}) } };
}

/** fastify error handler: the single place errors become HTTP answers. */
export function handleError(err: FastifyError | BigGanError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (err instanceof BigGanError) {
    const status = ERROR_TABLE[err.code].http;
    if (err.retryAfterSeconds !== undefined) reply.header('Retry-After', String(err.retryAfterSeconds));
    else if (status === 503) reply.header('Retry-After', '1');
    if (status >= 500 && err.code === 'INTERNAL') request.log.error({ err }, 'internal error');
    const message = err.code === 'INTERNAL' ? 'internal error' : err.message;
    return reply.status(status).send(errorPayload(err.code, message, err.field));
  }
  const fe = err as FastifyError & { validation?: AjvError[]; validationContext?: string };
  if (fe.validation && fe.validation.length > 0) {
    const allowed = (request.routeOptions.schema?.body as { properties?: Record<string, unknown> } | undefined)?.properties;
    const { field, message } = describeSchemaError(fe.validation[0], allowed ? Object.keys(allowed) : undefined);
    return reply.status(400).send(errorPayload('INVALID_ARGUMENT', message, field));
  }
  const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
  if (status === 413) return reply.status(413).send(errorPayload('PAYLOAD_TOO_LARGE', `request body is larger than the limit (${fe.message})`));
  if (status >= 400 && status < 500) {
    const code = fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'UNSUPPORTED_MEDIA_TYPE' : 'INVALID_ARGUMENT';
    return reply.status(status).send(errorPayload(code, fe.message));
  }
  request.log.error({ err }, 'unhandled error');
  return reply.status(500).send(errorPayload('INTERNAL', 'internal error'));
}
