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
  | 'OVERLOADED' // the queue is full: retry later
  | 'DEADLINE_EXCEEDED' // the request's timeout passed before its samples ran
  | 'CANCELLED' // the client went away
  | 'UNAVAILABLE' // not ready yet, or draining
  | 'INVALID_WEIGHTS' // a weight file is malformed, truncated, unsafe or does not fit the config
  | 'INVALID_CONFIG' // a model config.json or a server setting is invalid
  | 'IO_ERROR' // a file or network operation failed
  | 'INTERNAL'; // a bug or an engine failure: never the client's fault

/** gRPC status codes (numeric values from grpc/status.proto), kept here to avoid a transport import. */
export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;

/** How each code is reported: HTTP status, gRPC status and the `reason` label of metrics. */
export const ERROR_TABLE: Record<ErrorCode, { http: number; grpc: number; reason: string }> = {
  INVALID_ARGUMENT: { http: 400, grpc: GrpcCode.INVALID_ARGUMENT, reason: 'invalid' },
  NOT_FOUND: { http: 404, grpc: GrpcCode.NOT_FOUND, reason: 'not_found' },
  NOT_ACCEPTABLE: { http: 406, grpc: GrpcCode.INVALID_ARGUMENT, reason: 'not_acceptable' },
  PAYLOAD_TOO_LARGE: { http: 413, grpc: GrpcCode.RESOURCE_EXHAUSTED, reason: 'too_large' },
  OVERLOADED: { http: 503, grpc: GrpcCode.UNAVAILABLE, reason: 'overload' },
  DEADLINE_EXCEEDED: { http: 504, grpc: GrpcCode.DEADLINE_EXCEEDED, reason: 'deadline' },
  CANCELLED: { http: 499, grpc: GrpcCode.CANCELLED, reason: 'cancelled' },
  UNAVAILABLE: { http: 503, grpc: GrpcCode.UNAVAILABLE, reason: 'unavailable' },
  INVALID_WEIGHTS: { http: 500, grpc: GrpcCode.FAILED_PRECONDITION, reason: 'invalid_weights' },
  INVALID_CONFIG: { http: 500, grpc: GrpcCode.FAILED_PRECONDITION, reason: 'invalid_config' },
  IO_ERROR: { http: 500, grpc: GrpcCode.INTERNAL, reason: 'io' },
  INTERNAL: { http: 500, grpc: GrpcCode.INTERNAL, reason: 'internal' },
};

/** The service's error: a code from `ERROR_TABLE`, a message for humans and optional details. */
export class BigGanError extends Error {
  readonly code: ErrorCode;
  /** For INVALID_ARGUMENT: the request field at fault (e.g. `truncation`, `class[2]`). */
  readonly field?: string;
  /** For OVERLOADED: seconds a client should wait before retrying. */
  readonly retryAfterSeconds?: number;

  constructor(
    code: ErrorCode,
    message: string,
    options: { field?: string; retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BigGanError';
    this.code = code;
    if (options.field !== undefined) this.field = options.field;
    if (options.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** Shorthand for a client error about one field. */
export function invalidArgument(field: string, message: string): BigGanError {
  return new BigGanError('INVALID_ARGUMENT', `${field}: ${message}`, { field });
}

/** Shorthand for a malformed weight file. */
export function invalidWeights(message: string, cause?: unknown): BigGanError {
  return new BigGanError('INVALID_WEIGHTS', message, { cause });
}
