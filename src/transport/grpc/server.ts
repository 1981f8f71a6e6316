/**
 * The gRPC API (biggan.v1.Generator): a thin adapter over the GeneratorService, plus health
 * checking, server reflection, and connection ageing so clients behind a Kubernetes Service
 * rebalance across replicas. `createGrpcServer` builds it without listening; `start` binds.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { BigGanError, ERROR_TABLE, MAX_MESSAGE_CHARS, truncateText, type RateLimitState } from '../../errors.js';
import type { Metrics } from '../../metrics/metrics.js';
import type { CallContext, GeneratorService, KeyedGeneratorService, ModelInfo, ModelStatus } from '../../service/types.js';
import { GenerateRequestSchema, InterpolateRequestSchema, ModelNameSchema } from '../../service/contract/schemas.js';
import type { GeneratorHandlers } from './generated/biggan/v1/Generator.js';
import type { ListClassesRequest__Output } from './generated/biggan/v1/ListClassesRequest.js';
import type { GetModelRequest__Output } from './generated/biggan/v1/GetModelRequest.js';
import type { ListModelsRequest__Output } from './generated/biggan/v1/ListModelsRequest.js';
import {
  toClosingFrame, toFrameMessage, toGenerateRequest, toGenerateResponse, toInterpolateRequest,
  toListClassesResponse, toListModelsResponse, toModelInfoMessage, withProtoField,
  type FrameMessage, type GenerateRequestMessage, type GenerateResponseMessage, type InterpolateRequestMessage,
  type ListClassesResponseMessage, type ListModelsResponseMessage, type ModelInfoMessage,
} from './codec.js';
import { HEALTH_PROTO_PATH, HealthReporter } from './health.js';
import { observeGrpcCall, type GrpcObservability, type ObservedCall } from '../../tracing/grpc-observer.js';
import { authenticateCall, type GrpcAuth } from './auth.js';
import type { Caller } from '../../auth/key-store.js';
import { GENERATOR_SERVICE, PROTO_LOADER_OPTIONS, UndecodableMessage, bigganProtoPath, generatorServiceDefinition, tolerantServiceDefinition } from './proto.js';

export { createGeneratorClient, loadBigganProto, GENERATOR_SERVICE, type GeneratorClient } from './proto.js';

/** What the gRPC API calls: a GeneratorService, with the model repository's lookups when it has them. */
export type GrpcService = GeneratorService & Pick<KeyedGeneratorService, 'listModels' | 'modelInfo' | 'modelLabel'>;

/** Default largest response: a full request of 512x512 PNGs plus their grid (~1 MB each). */
export const DEFAULT_MAX_SEND_MESSAGE_BYTES = 128 * 1024 * 1024;
/** Default largest request: requests are small; 16 explicit class-vector rows are ~64 kB. */
export const DEFAULT_MAX_RECEIVE_MESSAGE_BYTES = 4 * 1024 * 1024;

/** Settings of the gRPC server. */
export interface GrpcServerOptions {
  /** Connections get GOAWAY after this age (jittered by grpc-js), so clients re-resolve and rebalance. */
  readonly maxConnectionAgeMs: number;
  /** Time calls on an aged connection may still take before it is closed. */
  readonly maxConnectionAgeGraceMs: number;
  /** Largest response message, bytes (default 128 MiB). */
  readonly maxSendMessageBytes?: number;
  /** Largest request message, bytes (default 4 MiB). */
  readonly maxReceiveMessageBytes?: number;
  /** Ping idle connections this often to detect dead peers, ms (default: grpc-js's, 2 h). */
  readonly keepaliveTimeMs?: number;
  /** Close the connection when a ping is not answered within this, ms (default: grpc-js's, 20 s). */
  readonly keepaliveTimeoutMs?: number;
  /** TLS or insecure (default insecure: TLS usually ends at the ingress or mesh). */
  readonly credentials?: grpc.ServerCredentials;
  /** Request counts and durations by method and status (the service records its own rejections). */
  readonly metrics?: Pick<Metrics, 'requests' | 'requestDuration' | 'rejections'>;
  /** Called with every failure answered as INTERNAL (its details are hidden from the client). */
  readonly onInternalError?: (err: unknown, method: string) => void;
  /** Request ids, spans and one log line per call. */
  readonly observe?: GrpcObservability;
  /** API keys required on Generator calls (absent: open). Health and reflection stay open. */
  readonly auth?: GrpcAuth;
}

/** A built gRPC server and its controls. */
export interface GrpcServer {
  readonly server: grpc.Server;
  /** The channel options the server was built with (connection age, message limits, keepalive). */
  readonly channelOptions: Readonly<grpc.ChannelOptions>;
  /** Health says SERVING only while this is true and the service is ready (not draining). */
  setServing(ready: boolean): void;
  /** Binds `host:port` (port 0: any free port) and resolves to the bound port. */
  start(host: string, port: number): Promise<number>;
  /** Health NOT_SERVING, refuse new calls, wait up to `graceMs` for in-flight ones, then cut them. */
  shutdown(graceMs: number): Promise<void>;
}

/** grpc.status name of each code, for metric labels. */
const STATUS_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(grpc.status).filter(([, v]) => typeof v === 'number').map(([k, v]) => [v, k]),
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

/** `metadata` with the call's rate-limit state, when it has one. */
function withRateLimit(metadata: grpc.Metadata, call: object): grpc.Metadata {
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
  return { code, details: err.code === 'INTERNAL' ? 'internal error' : truncateText(err.message, MAX_MESSAGE_CHARS), metadata };
}

/** What finish() needs of a server call. */
interface CallState {
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
function callContext(call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>, requestTimeoutMs: number, observed?: ObservedCall, caller?: Caller): CallContext {
  const controller = new AbortController();
  const abort = () =>
    controller.abort(deadlinePassed(call) ? new BigGanError('DEADLINE_EXCEEDED', 'the call\'s deadline passed') : new BigGanError('CANCELLED', 'the client cancelled the call'));
  if (call.cancelled) abort();
  else call.once('cancelled', abort);
  const at = deadlineOf(call);
  const left = Number.isFinite(at) ? Math.max(1, Math.floor(at - Date.now())) : undefined;
  const budgets = [requestTimeoutMs > 0 ? requestTimeoutMs : undefined, left].filter((t): t is number => t !== undefined);
  return {
    signal: controller.signal,
    transport: 'grpc',
    ...(budgets.length > 0 ? { timeoutMs: Math.min(...budgets) } : {}),
    ...(observed ? { trace: observed.trace } : {}),
    ...(caller ? { caller, onRateLimit: (state: RateLimitState) => void rateLimits.set(call, state) } : {}),
  };
}

/** The call's caller when keys are on (undefined when off); throws UNAUTHENTICATED / PERMISSION_DENIED. */
function authenticate(call: { readonly metadata: grpc.Metadata }, opts: GrpcServerOptions, observed: ObservedCall): Caller | undefined {
  if (!opts.auth) return undefined;
  const caller = authenticateCall(call.metadata, opts.auth);
  observed.trace.keyName = caller.name;
  return caller;
}

/**
 * Decodes a request; a wire-level mistake (bytes that are no valid message, or fields the codec
 * refuses) is recorded as a rejection (the service never saw it).
 */
function decode<T>(message: unknown, messageType: string, fn: () => T, opts: GrpcServerOptions): T {
  try {
    if (message instanceof UndecodableMessage) {
      throw new BigGanError('INVALID_ARGUMENT', truncateText(`the request is not a valid ${messageType} message: ${message.reason}`, MAX_MESSAGE_CHARS), { field: 'request' });
    }
    return fn();
  } catch (err) {
    if (err instanceof BigGanError && err.code === 'INVALID_ARGUMENT') opts.metrics?.rejections.inc({ reason: ERROR_TABLE.INVALID_ARGUMENT.reason });
    throw err;
  }
}

/**
 * Records the outcome of one call and reports INTERNAL failures; returns the status to send. A
 * call cut by its deadline is recorded as DEADLINE_EXCEEDED (what grpc-js told the client), even
 * though the service saw it as cancelled.
 */
function finish(method: string, call: CallState, startedAt: number, err: unknown, opts: GrpcServerOptions, observed?: ObservedCall, model?: string): grpc.StatusObject | undefined {
  const status = err === undefined ? undefined : toGrpcStatus(err);
  if (status && observed) status.metadata.merge(observed.trailer());
  // An answer that came after the client left was never delivered: record why it was not.
  const sent = status?.code ?? (call.cancelled ? grpc.status.CANCELLED : grpc.status.OK);
  const recorded = sent === grpc.status.CANCELLED && deadlinePassed(call) ? grpc.status.DEADLINE_EXCEEDED : sent;
  observed?.finish(recorded, STATUS_NAMES[recorded], err, model);
  if (status?.code === grpc.status.INTERNAL) opts.onInternalError?.(err, method);
  const l = model === undefined ? {} : { model };
  opts.metrics?.requests.inc({ ...l, transport: 'grpc', route: method, status: STATUS_NAMES[recorded] });
  opts.metrics?.requestDuration.observe({ ...l, transport: 'grpc', route: method }, (performance.now() - startedAt) / 1000);
  return status;
}

/** A unary handler running `fn` and answering its result or its failure's status. */
function unary<Req, Res>(method: string, opts: GrpcServerOptions, fn: (call: grpc.ServerUnaryCall<Req, Res>, observed: ObservedCall, caller: Caller | undefined) => Promise<Res> | Res, label?: (request: unknown) => string | undefined): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const startedAt = performance.now();
    const observed = observeGrpcCall(call, GENERATOR_SERVICE, method, opts.observe);
    Promise.resolve()
      .then(() => fn(call, observed, authenticate(call, opts, observed)))
      .then(
        (res) => {
          finish(method, call, startedAt, undefined, opts, observed, label?.(call.request));
          callback(null, res, withRateLimit(observed.trailer(), call));
        },
        (err: unknown) => callback(finish(method, call, startedAt, err, opts, observed, label?.(call.request)) ?? null),
      );
  };
}

/** The model a request names (the default for none); NOT_FOUND listing the models when unknown. */
function modelOf(service: GrpcService, name: string): ModelInfo {
  // The name's form first (as REST checks it): a 200-character name is INVALID_ARGUMENT naming `model`, not NOT_FOUND.
  if (name !== '') service.check(ModelNameSchema, { model: name });
  return service.modelInfo ? service.modelInfo(name === '' ? undefined : name) : service.model;
}

/** The status of the model `name` (the default for none), as ListModels lists it. */
function modelStatus(service: GrpcService, name: string): ModelInfo | ModelStatus {
  const wanted = modelOf(service, name).name;
  return service.listModels?.().find((m) => m.name === wanted) ?? service.model;
}

/** The biggan.v1.Generator handlers over `service`. */
function generatorHandlers(service: GrpcService, opts: GrpcServerOptions): GeneratorHandlers {
  // The `model` metric label of a call: the model its request names (the default otherwise).
  const label = (request: unknown): string | undefined =>
    service.modelLabel?.(typeof request === 'object' && request !== null && 'model' in request ? request.model : undefined);
  const Generate = unary<GenerateRequestMessage, GenerateResponseMessage>('Generate', opts, async (call, observed, caller) => {
    // Undecodable bytes arrive as an UndecodableMessage (see tolerantServiceDefinition).
    const singleClass = !(call.request instanceof UndecodableMessage) && call.request.classes.length === 1;
    try {
      // Wire shape first (a wire mistake is counted here), then the one contract both transports share.
      const wire = decode(call.request, 'biggan.v1.GenerateRequest', () => toGenerateRequest(call.request, modelOf(service, call.request.model)), opts);
      const req = service.check(GenerateRequestSchema, wire);
      return toGenerateResponse(await service.generate(req, callContext(call, call.request.timeoutMs, observed, caller)));
    } catch (err) {
      throw withProtoField(err, 'generate', singleClass);
    }
  }, label);

  // Frames are written as the service delivers them, so a client sees the first frame while the
  // later ones are still queued or running.
  const Interpolate: grpc.handleServerStreamingCall<InterpolateRequestMessage, FrameMessage> = (call) => {
    const startedAt = performance.now();
    const observed = observeGrpcCall(call, GENERATOR_SERVICE, 'Interpolate', opts.observe);
    const write = (msg: FrameMessage) => {
      if (!call.cancelled) call.write(msg);
    };
    Promise.resolve()
      .then(async () => {
        const result = await Promise.resolve()
          .then(() => {
            const caller = authenticate(call, opts, observed);
            const req = service.check(InterpolateRequestSchema, decode(call.request, 'biggan.v1.InterpolateRequest', () => toInterpolateRequest(call.request), opts));
            return service.interpolate(req, callContext(call, call.request.timeoutMs, observed, caller), (frame) => write(toFrameMessage(frame)));
          })
          .catch((err: unknown) => Promise.reject(withProtoField(err, 'interpolate', false)));
        const closing = toClosingFrame(result);
        if (closing) write(closing);
      })
      .then(
        () => {
          finish('Interpolate', call, startedAt, undefined, opts, observed, label(call.request));
          call.end(withRateLimit(observed.trailer(), call));
        },
        (err: unknown) => {
          const status = finish('Interpolate', call, startedAt, err, opts, observed, label(call.request))!;
          if (!call.cancelled) call.emit('error', status);
        },
      );
  };

  return {
    Generate,
    Interpolate,
    ListClasses: unary<ListClassesRequest__Output, ListClassesResponseMessage>('ListClasses', opts, (call) => decode(call.request, 'biggan.v1.ListClassesRequest', () => toListClassesResponse(service.listClasses()), opts)),
    GetModel: unary<GetModelRequest__Output, ModelInfoMessage>('GetModel', opts, (call) => decode(call.request, 'biggan.v1.GetModelRequest', () => toModelInfoMessage(modelStatus(service, call.request.name)), opts)),
    ListModels: unary<ListModelsRequest__Output, ListModelsResponseMessage>('ListModels', opts, (call) => decode(call.request, 'biggan.v1.ListModelsRequest', () => toListModelsResponse(service.listModels?.() ?? [service.model]), opts)),
  };
}

/** biggan.proto and health.proto in one definition, so reflection describes both services. */
function reflectionDefinition(): protoLoader.PackageDefinition {
  return protoLoader.loadSync([bigganProtoPath(), HEALTH_PROTO_PATH], PROTO_LOADER_OPTIONS);
}

/** The server's channel options from the settings. */
function channelOptionsOf(opts: GrpcServerOptions): grpc.ChannelOptions {
  return {
    'grpc.max_connection_age_ms': opts.maxConnectionAgeMs,
    'grpc.max_connection_age_grace_ms': opts.maxConnectionAgeGraceMs,
    'grpc.max_send_message_length': opts.maxSendMessageBytes ?? DEFAULT_MAX_SEND_MESSAGE_BYTES,
    'grpc.max_receive_message_length': opts.maxReceiveMessageBytes ?? DEFAULT_MAX_RECEIVE_MESSAGE_BYTES,
    ...(opts.keepaliveTimeMs !== undefined ? { 'grpc.keepalive_time_ms': opts.keepaliveTimeMs } : {}),
    ...(opts.keepaliveTimeoutMs !== undefined ? { 'grpc.keepalive_timeout_ms': opts.keepaliveTimeoutMs } : {}),
  };
}

/**
 * Builds the gRPC server: biggan.v1.Generator over `service`, grpc.health.v1.Health (NOT_SERVING
 * until `setServing(true)`, and again whenever the service stops being ready) and reflection.
 */
export function createGrpcServer(service: GrpcService, opts: GrpcServerOptions): GrpcServer {
  const channelOptions = Object.freeze(channelOptionsOf(opts));
  const server = new grpc.Server(channelOptions);
  const health = new HealthReporter(['', GENERATOR_SERVICE]);
  health.addToServer(server);
  new ReflectionService(reflectionDefinition()).addToServer(server);
  server.addService(tolerantServiceDefinition(generatorServiceDefinition()), generatorHandlers(service, opts));

  let wanted = false;
  let closing: Promise<void> | undefined;
  const update = () => health.set(wanted && closing === undefined && service.isReady());
  service.onReadinessChange(update);

  return {
    server,
    channelOptions,
    setServing(ready: boolean): void {
      wanted = ready;
      update();
    },
    start(host: string, port: number): Promise<number> {
      // An IPv6 literal needs brackets before the port.
      const address = host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
      return new Promise((resolve, reject) => {
        server.bindAsync(address, opts.credentials ?? grpc.ServerCredentials.createInsecure(), (err, bound) => {
          if (err) reject(new BigGanError('IO_ERROR', `gRPC: cannot listen on ${address}: ${err.message}`, { cause: err }));
          else resolve(bound);
        });
      });
    },
    shutdown(graceMs: number): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, Math.max(0, graceMs));
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      update();
      return closing;
    },
  };
}
