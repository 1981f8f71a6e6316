/**
 * One gRPC call from start to finish, shared by every gRPC service of the server (biggan.v1 and
 * any other): its CallContext (cancellation, the smaller of the request's timeout and the
 * deadline), authentication, wire decoding, and its exit (finishCall: metrics, the one count of a
 * refusal, the status sent). A new gRPC service wraps its handlers with `unaryCall`, or calls
 * `finishCall` itself when it streams.
 */
import * as grpc from '@grpc/grpc-js';
import {
  BigGanError,
  ERROR_TABLE,
  MAX_MESSAGE_CHARS,
  refusalReason,
  truncateText,
  type RateLimitState,
} from '../../errors.js';
import type { Metrics } from '../../metrics/metrics.js';
import type { CallContext } from '../../service/types.js';
import { minTimeout } from '../../service/contract/limits.js';
import { observeGrpcCall, type GrpcObservability, type ObservedCall } from './observer.js';
import { authenticateCall, type GrpcAuth } from './auth.js';
import type { Caller } from '../../auth/key-store.js';
import { UndecodableMessage } from './proto.js';

/** Where every call reports, and its authentication. */
export interface GrpcExits {
  /** Request counts and durations by method and status, and refusals (counted here only). */
  readonly metrics?: Pick<Metrics, 'requests' | 'requestDuration' | 'rejections'>;
  /** Called with every failure answered as INTERNAL (its details are hidden from the client). */
  readonly onInternalError?: (err: unknown, method: string) => void;
  /** Request ids, spans and one log line per call. */
  readonly observe?: GrpcObservability;
  /** API keys required on the calls (absent: open). Health and reflection stay open. */
  readonly auth?: GrpcAuth | undefined;
}

/** grpc.status name of each code, for metric labels. */
const STATUS_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(grpc.status)
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => [v, k]),
);

/** The ratelimit-* metadata (as REST's RateLimit-* headers): images, images, seconds. */
function setRateLimit(metadata: grpc.Metadata, state: RateLimitState): grpc.Metadata {
  metadata.set('ratelimit-limit', String(state.limit));
  metadata.set('ratelimit-remaining', String(state.remaining));
  metadata.set('ratelimit-reset', String(state.resetSeconds));
  return metadata;
}

/** The rate-limit state the quota layer reported for a call, sent in its trailers on success too. */
const rateLimits = new WeakMap<object, RateLimitState>();

/** `metadata` with the call's rate-limit state, when it has one (the trailers of a successful call). */
export function withRateLimit(metadata: grpc.Metadata, call: object): grpc.Metadata {
  const state = rateLimits.get(call);
  return state ? setRateLimit(metadata, state) : metadata;
}

/**
 * A failure as a gRPC status, through ERROR_TABLE; internals are never sent to the client. The
 * details are cut to MAX_MESSAGE_CHARS whatever built them: the status travels in the trailers (one
 * HTTP/2 header block), and one past the peer's header-list limit never arrives and wedges the call.
 */
export function toGrpcStatus(err: unknown): grpc.StatusObject {
  const metadata = new grpc.Metadata();
  if (!(err instanceof BigGanError)) return { code: grpc.status.INTERNAL, details: 'internal error', metadata };
  const code = ERROR_TABLE[err.code].grpc;
  if (err.retryAfterSeconds !== undefined) metadata.set('retry-after', String(err.retryAfterSeconds));
  else if (code === grpc.status.UNAVAILABLE) metadata.set('retry-after', '1');
  if (err.rateLimit) setRateLimit(metadata, err.rateLimit);
  return {
    code,
    details: err.code === 'INTERNAL' ? 'internal error' : truncateText(err.message, MAX_MESSAGE_CHARS),
    metadata,
  };
}

/** What finish() needs of a server call. */
export interface CallState {
  readonly cancelled: boolean;
  getDeadline(): grpc.Deadline;
}

/** A call's deadline as epoch ms; Infinity without one. */
function deadlineOf(call: CallState): number {
  const d = call.getDeadline();
  return d instanceof Date ? d.getTime() : d;
}

/** True once a call's deadline has passed (grpc-js cancels the call then, as for a client cancel). */
function deadlinePassed(call: CallState): boolean {
  // grpc-js's deadline timer may fire a little before Date.now() reaches the deadline (timer
  // granularity, a busy event loop); a client cancel that close to its deadline counts as the deadline.
  return Date.now() >= deadlineOf(call) - 25;
}

/**
 * The CallContext of a call: its signal aborts when the client cancels (or the deadline passes),
 * and its queue budget is the smaller of the request's timeout_ms and the deadline's time left.
 */
export function callContext(
  call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>,
  requestTimeoutMs: number,
  observed?: ObservedCall,
  caller?: Caller,
): CallContext {
  const controller = new AbortController();
  const abort = () =>
    controller.abort(
      deadlinePassed(call)
        ? new BigGanError('DEADLINE_EXCEEDED', "the call's deadline passed")
        : new BigGanError('CANCELLED', 'the client cancelled the call'),
    );
  if (call.cancelled) abort();
  else call.once('cancelled', abort);
  const at = deadlineOf(call);
  const left = Number.isFinite(at) ? Math.max(1, Math.floor(at - Date.now())) : undefined;
  const timeoutMs = minTimeout(requestTimeoutMs > 0 ? requestTimeoutMs : undefined, left);
  return {
    signal: controller.signal,
    transport: 'grpc',
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(observed ? { trace: observed.trace } : {}),
    ...(caller ? { caller, onRateLimit: (state: RateLimitState) => void rateLimits.set(call, state) } : {}),
  };
}

/** The call's caller when keys are on (undefined when off); throws UNAUTHENTICATED / PERMISSION_DENIED. */
export function authenticate(
  call: { readonly metadata: grpc.Metadata },
  opts: GrpcExits,
  observed: ObservedCall,
): Caller | undefined {
  if (!opts.auth) return undefined;
  const caller = authenticateCall(call.metadata, opts.auth);
  observed.trace.keyName = caller.name;
  return caller;
}

/**
 * Decodes a request; a wire-level mistake (bytes that are no valid message, or fields the codec
 * refuses) is an INVALID_ARGUMENT like a contract violation (counted at the call's finish).
 */
export function decode<T>(message: unknown, messageType: string, fn: () => T): T {
  if (message instanceof UndecodableMessage) {
    throw new BigGanError(
      'INVALID_ARGUMENT',
      truncateText(`the request is not a valid ${messageType} message: ${message.reason}`, MAX_MESSAGE_CHARS),
      { field: 'request' },
    );
  }
  return fn();
}

/**
 * The exit of one call (every gRPC service's handlers end here): records its outcome, counts a
 * refusal once in biggan_rejections_total from the final error, reports INTERNAL failures, and
 * returns the status to send. A call cut by its deadline is recorded as DEADLINE_EXCEEDED (what
 * grpc-js told the client), even though the service saw it as cancelled.
 */
export function finishCall(
  method: string,
  call: CallState,
  startedAt: number,
  err: unknown,
  exits: GrpcExits,
  observed?: ObservedCall,
  model?: string,
): grpc.StatusObject | undefined {
  const status = err === undefined ? undefined : toGrpcStatus(err);
  if (status && observed) status.metadata.merge(observed.trailer());
  // An answer that came after the client left was never delivered: record why it was not.
  const sent = status?.code ?? (call.cancelled ? grpc.status.CANCELLED : grpc.status.OK);
  const recorded = sent === grpc.status.CANCELLED && deadlinePassed(call) ? grpc.status.DEADLINE_EXCEEDED : sent;
  observed?.finish(recorded, STATUS_NAMES[recorded], err, model);
  if (status?.code === grpc.status.INTERNAL) exits.onInternalError?.(err, method);
  const l = model === undefined ? {} : { model };
  exits.metrics?.requests.inc({ ...l, transport: 'grpc', route: method, status: STATUS_NAMES[recorded] });
  exits.metrics?.requestDuration.observe(
    { ...l, transport: 'grpc', route: method },
    (performance.now() - startedAt) / 1000,
  );
  const reason =
    recorded === grpc.status.DEADLINE_EXCEEDED && err !== undefined
      ? ERROR_TABLE.DEADLINE_EXCEEDED.reason
      : refusalReason(err);
  if (reason !== undefined) exits.metrics?.rejections.inc({ ...l, reason });
  return status;
}

/**
 * A unary handler of service `serviceName` running `fn` (after authentication when keys are on)
 * and answering its result or its failure's status through finishCall.
 */
export function unaryCall<Req, Res>(
  serviceName: string,
  method: string,
  exits: GrpcExits,
  fn: (call: grpc.ServerUnaryCall<Req, Res>, observed: ObservedCall, caller: Caller | undefined) => Promise<Res> | Res,
  label?: (request: unknown) => string | undefined,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const startedAt = performance.now();
    const observed = observeGrpcCall(call, serviceName, method, exits.observe);
    Promise.resolve()
      .then(() => fn(call, observed, authenticate(call, exits, observed)))
      .then(
        (res) => {
          finishCall(method, call, startedAt, undefined, exits, observed, label?.(call.request));
          callback(null, res, withRateLimit(observed.trailer(), call));
        },
        (err: unknown) =>
          callback(finishCall(method, call, startedAt, err, exits, observed, label?.(call.request)) ?? null),
      );
  };
}
