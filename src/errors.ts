/**
 * One error type for the whole service. Every failure that can reach a user carries a code; one
 * table (`ERROR_TABLE`) maps each code to its HTTP status, gRPC status and metric label, so the
 * transports never invent their own mapping.
 */

/** Every error code the service can produce. */
export type ErrorCode =
  | 'INVALID_ARGUMENT' // a client's request is malformed (names the field and the allowed values)
  | 'NOT_FOUND' // an unknown route or resource
  | 'NOT_ACCEPTABLE' // no form of the answer matches the client's Accept header
  | 'PAYLOAD_TOO_LARGE' // request body over the configured limit
  | 'REQUEST_TIMEOUT' // the client did not send its whole request in time
  | 'OVERLOADED' // the queue is full: retry later
  | 'DEADLINE_EXCEEDED' // the request's timeout passed before its samples ran
  | 'CANCELLED' // the client went away
  | 'UNAVAILABLE' // not ready yet, or draining
  | 'RESOURCE_EXHAUSTED' // a model that can never fit in the memory budget
  | 'INVALID_WEIGHTS' // a weight file is malformed, truncated, unsafe or does not fit the config
  | 'INVALID_CONFIG' // a model config.json or a server setting is invalid
  | 'IO_ERROR' // a file or network operation failed
  | 'UNAUTHENTICATED' // no API key, or one the server does not know
  | 'PERMISSION_DENIED' // a known key that may not do this (disabled, or a request larger than its burst)
  | 'RATE_LIMITED' // the key's quota (images per second, or images in flight) is used up: retry later
  | 'INTERNAL'; // a bug or an engine failure: never the client's fault

/** gRPC status codes (numeric values from grpc/status.proto), kept here to avoid a transport import. */
export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/** How each code is reported: HTTP status, gRPC status and the `reason` label of metrics. */
export const ERROR_TABLE: Record<ErrorCode, { http: number; grpc: number; reason: string }> = {
  INVALID_ARGUMENT: { http: 400, grpc: GrpcCode.INVALID_ARGUMENT, reason: 'invalid' },
  NOT_FOUND: { http: 404, grpc: GrpcCode.NOT_FOUND, reason: 'not_found' },
  NOT_ACCEPTABLE: { http: 406, grpc: GrpcCode.INVALID_ARGUMENT, reason: 'not_acceptable' },
  PAYLOAD_TOO_LARGE: { http: 413, grpc: GrpcCode.RESOURCE_EXHAUSTED, reason: 'too_large' },
  REQUEST_TIMEOUT: { http: 408, grpc: GrpcCode.DEADLINE_EXCEEDED, reason: 'request_timeout' },
  OVERLOADED: { http: 503, grpc: GrpcCode.UNAVAILABLE, reason: 'overload' },
  DEADLINE_EXCEEDED: { http: 504, grpc: GrpcCode.DEADLINE_EXCEEDED, reason: 'deadline' },
  CANCELLED: { http: 499, grpc: GrpcCode.CANCELLED, reason: 'cancelled' },
  UNAVAILABLE: { http: 503, grpc: GrpcCode.UNAVAILABLE, reason: 'unavailable' },
  RESOURCE_EXHAUSTED: { http: 503, grpc: GrpcCode.RESOURCE_EXHAUSTED, reason: 'memory' },
  INVALID_WEIGHTS: { http: 500, grpc: GrpcCode.FAILED_PRECONDITION, reason: 'invalid_weights' },
  INVALID_CONFIG: { http: 500, grpc: GrpcCode.FAILED_PRECONDITION, reason: 'invalid_config' },
  IO_ERROR: { http: 500, grpc: GrpcCode.INTERNAL, reason: 'io' },
  UNAUTHENTICATED: { http: 401, grpc: GrpcCode.UNAUTHENTICATED, reason: 'unauthenticated' },
  PERMISSION_DENIED: { http: 403, grpc: GrpcCode.PERMISSION_DENIED, reason: 'permission_denied' },
  RATE_LIMITED: { http: 429, grpc: GrpcCode.RESOURCE_EXHAUSTED, reason: 'rate_limited' },
  INTERNAL: { http: 500, grpc: GrpcCode.INTERNAL, reason: 'internal' },
};

/** Codes that are not refusals: server faults, and failed authentication (biggan_auth_failures_total counts those). */
const NOT_REFUSALS: ReadonlySet<ErrorCode> = new Set([
  'INTERNAL',
  'INVALID_WEIGHTS',
  'INVALID_CONFIG',
  'IO_ERROR',
  'UNAUTHENTICATED',
]);

/**
 * The `reason` label of biggan_rejections_total for a request that failed with `err`, or
 * undefined when it is no refusal. Only the transports' exits call it, once per request.
 */
export function refusalReason(err: unknown): string | undefined {
  if (err instanceof BigGanError) return NOT_REFUSALS.has(err.code) ? undefined : ERROR_TABLE[err.code].reason;
  // fastify's own client errors (malformed JSON, body too large, wrong media type).
  const status = err instanceof Error ? (err as { statusCode?: unknown }).statusCode : undefined;
  if (typeof status !== 'number' || status < 400 || status >= 500) return undefined;
  return status === 413 ? ERROR_TABLE.PAYLOAD_TOO_LARGE.reason : ERROR_TABLE.INVALID_ARGUMENT.reason;
}

/** A key's quota state, for `RateLimit-*` headers (and gRPC metadata of the same names). */
export interface RateLimitState {
  /** The bucket's size (burst), images. */
  readonly limit: number;
  /** Images left in the bucket now (rounded down). */
  readonly remaining: number;
  /** Seconds until the bucket is full again (rounded up). */
  readonly resetSeconds: number;
}

/** The service's error: a code from `ERROR_TABLE`, a message for humans and optional details. */
export class BigGanError extends Error {
  readonly code: ErrorCode;
  /** For INVALID_ARGUMENT: the request field at fault (e.g. `truncation`, `class[2]`). */
  readonly field?: string;
  /** For OVERLOADED and RATE_LIMITED: seconds a client should wait before retrying. */
  readonly retryAfterSeconds?: number;
  /** For RATE_LIMITED: the key's quota state (RateLimit-* headers). */
  readonly rateLimit?: RateLimitState;

  constructor(
    code: ErrorCode,
    message: string,
    options: { field?: string; retryAfterSeconds?: number; rateLimit?: RateLimitState; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BigGanError';
    this.code = code;
    if (options.field !== undefined) this.field = options.field;
    if (options.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
    if (options.rateLimit !== undefined) this.rateLimit = options.rateLimit;
  }
}

/** Longest client value quoted in an error message, characters. */
export const MAX_QUOTED_CHARS = 64;
/** Longest error message (and field path) sent to a client, characters: a gRPC status is a header. */
export const MAX_MESSAGE_CHARS = 1024;

/** `text` cut to `maxChars` UTF-16 units without splitting a surrogate pair, with "..." when cut. */
export function truncateText(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  let end = Math.max(0, maxChars - 3);
  // Never leave half of a surrogate pair (it would not survive UTF-8 encoding).
  const last = text.charCodeAt(end - 1);
  if (end > 0 && last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}...`;
}

/**
 * A client's value as quoted in an error message: strings JSON-quoted and cut to `maxChars`
 * (noting the full length), numbers and booleans as written, lists and objects by kind and size.
 * Error messages must never echo client input unbounded: a gRPC status travels in one HTTP/2
 * header block, and an oversized one never reaches the client.
 */
export function quoteValue(v: unknown, maxChars = MAX_QUOTED_CHARS): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  switch (typeof v) {
    case 'string':
      return v.length <= maxChars
        ? JSON.stringify(v)
        : `${JSON.stringify(truncateText(v, maxChars))} (${v.length} characters)`;
    case 'number':
    case 'boolean':
    case 'bigint':
      return truncateText(String(v), maxChars);
    case 'object': {
      if (Array.isArray(v)) return `a list of ${v.length}`;
      const keys = Object.keys(v).length;
      return `an object with ${keys} key${keys === 1 ? '' : 's'}`;
    }
    default:
      return typeof v;
  }
}

/** Shorthand for a client error about one field (field and message bounded in length). */
export function invalidArgument(field: string, message: string): BigGanError {
  const name = truncateText(field, MAX_QUOTED_CHARS * 2);
  return new BigGanError('INVALID_ARGUMENT', truncateText(`${name}: ${message}`, MAX_MESSAGE_CHARS), { field: name });
}

/** Shorthand for a malformed weight file. */
export function invalidWeights(message: string, cause?: unknown): BigGanError {
  return new BigGanError('INVALID_WEIGHTS', message, { cause });
}
