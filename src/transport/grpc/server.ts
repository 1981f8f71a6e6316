/**
 * The gRPC API (biggan.v1.Generator): a thin adapter over the RequestService and the Catalog, plus health
 * checking, server reflection, and connection ageing so clients behind a Kubernetes Service
 * rebalance across replicas. `createGrpcServer` builds it without listening; `start` binds.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { BigGanError } from '../../errors.js';
import type { Catalog, ModelInfo, RequestService } from '../../service/types.js';
import { GenerateRequestSchema, InterpolateRequestSchema, ModelNameSchema } from '../../service/contract/schemas.js';
import { check } from '../../service/contract/validate.js';
import type { GeneratorHandlers } from './generated/biggan/v1/Generator.js';
import type { ListClassesRequest__Output } from './generated/biggan/v1/ListClassesRequest.js';
import type { GetModelRequest__Output } from './generated/biggan/v1/GetModelRequest.js';
import type { ListModelsRequest__Output } from './generated/biggan/v1/ListModelsRequest.js';
import {
  toClosingFrame,
  toFrameMessage,
  toGenerateRequest,
  toGenerateResponse,
  toInterpolateRequest,
  toListClassesResponse,
  toListModelsResponse,
  toModelInfoMessage,
  withProtoField,
  type FrameMessage,
  type GenerateRequestMessage,
  type GenerateResponseMessage,
  type InterpolateRequestMessage,
  type ListClassesResponseMessage,
  type ListModelsResponseMessage,
  type ModelInfoMessage,
} from './codec.js';
import { HEALTH_PROTO_PATH, HealthReporter } from './health.js';
import { observeGrpcCall } from './observer.js';
import { addOipService, OIP_SERVICE, oipProtoPath } from '../oip/grpc-service.js';
import {
  GENERATOR_SERVICE,
  PROTO_LOADER_OPTIONS,
  UndecodableMessage,
  bigganProtoPath,
  generatorServiceDefinition,
  tolerantServiceDefinition,
} from './proto.js';
import { authenticate, callContext, decode, finishCall, unaryCall, withRateLimit, type GrpcExits } from './call.js';

export { createGeneratorClient, loadBigganProto, GENERATOR_SERVICE, type GeneratorClient } from './proto.js';
export { toGrpcStatus } from './call.js';

/** Default largest response: a full request of 512x512 PNGs plus their grid (~1 MB each). */
export const DEFAULT_MAX_SEND_MESSAGE_BYTES = 128 * 1024 * 1024;
/** Default largest request: requests are small; 16 explicit class-vector rows are ~64 kB. */
export const DEFAULT_MAX_RECEIVE_MESSAGE_BYTES = 4 * 1024 * 1024;

/** Settings of the gRPC server (and where its calls report: GrpcExits). */
export interface GrpcServerOptions extends GrpcExits {
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
  readonly credentials?: grpc.ServerCredentials | undefined;
  /** Why the process is no longer live (a lost GPU engine), or undefined: OIP's ServerLive answers it. */
  readonly liveness?: () => string | undefined;
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

/** The model a request names (the default for none); NOT_FOUND listing the models when unknown. */
function modelOf(catalog: Catalog, name: string): ModelInfo {
  // The name's form first (as REST checks it): a 200-character name is INVALID_ARGUMENT naming `model`, not NOT_FOUND.
  if (name !== '') check(ModelNameSchema, { model: name });
  return catalog.modelInfo(name === '' ? undefined : name);
}

/** Generate: wire shape first, then the one contract every transport shares. */
function generateHandler(
  requests: RequestService,
  catalog: Catalog,
  opts: GrpcServerOptions,
  label: (request: unknown) => string,
) {
  return unaryCall<GenerateRequestMessage, GenerateResponseMessage>(
    GENERATOR_SERVICE,
    'Generate',
    opts,
    async (call, observed, caller) => {
      // Undecodable bytes arrive as an UndecodableMessage (see tolerantServiceDefinition).
      const singleClass = !(call.request instanceof UndecodableMessage) && call.request.classes.length === 1;
      try {
        const wire = decode(call.request, 'biggan.v1.GenerateRequest', () =>
          toGenerateRequest(call.request, modelOf(catalog, call.request.model)),
        );
        const req = check(GenerateRequestSchema, wire);
        return toGenerateResponse(
          await requests.generate(req, callContext(call, call.request.timeoutMs, observed, caller)),
        );
      } catch (err) {
        throw withProtoField(err, 'generate', singleClass);
      }
    },
    label,
  );
}

/**
 * Interpolate: frames are written as the service delivers them, so a client sees the first frame
 * while the later ones are still queued or running.
 */
function interpolateHandler(
  requests: RequestService,
  opts: GrpcServerOptions,
  label: (request: unknown) => string,
): grpc.handleServerStreamingCall<InterpolateRequestMessage, FrameMessage> {
  return (call) => {
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
            const req = check(
              InterpolateRequestSchema,
              decode(call.request, 'biggan.v1.InterpolateRequest', () => toInterpolateRequest(call.request)),
            );
            return requests.interpolate(req, callContext(call, call.request.timeoutMs, observed, caller), (frame) =>
              write(toFrameMessage(frame)),
            );
          })
          .catch((err: unknown) => Promise.reject(withProtoField(err, 'interpolate', false)));
        const closing = toClosingFrame(result);
        if (closing) write(closing);
      })
      .then(
        () => {
          finishCall('Interpolate', call, startedAt, undefined, opts, observed, label(call.request));
          call.end(withRateLimit(observed.trailer(), call));
        },
        (err: unknown) => {
          const status = finishCall('Interpolate', call, startedAt, err, opts, observed, label(call.request))!;
          if (!call.cancelled) call.emit('error', status);
        },
      );
  };
}

/** The biggan.v1.Generator handlers over `requests` and `catalog`. */
function generatorHandlers(requests: RequestService, catalog: Catalog, opts: GrpcServerOptions): GeneratorHandlers {
  // The `model` metric label of a call: the model its request names (the default otherwise).
  const label = (request: unknown): string =>
    catalog.modelLabel(
      typeof request === 'object' && request !== null && 'model' in request ? request.model : undefined,
    );
  const status = (name: string) => {
    const wanted = modelOf(catalog, name).name;
    return catalog.listModels().find((m) => m.name === wanted) ?? modelOf(catalog, name);
  };
  return {
    Generate: generateHandler(requests, catalog, opts, label),
    Interpolate: interpolateHandler(requests, opts, label),
    ListClasses: unaryCall<ListClassesRequest__Output, ListClassesResponseMessage>(
      GENERATOR_SERVICE,
      'ListClasses',
      opts,
      (call) =>
        decode(call.request, 'biggan.v1.ListClassesRequest', () => toListClassesResponse(catalog.listClasses())),
    ),
    GetModel: unaryCall<GetModelRequest__Output, ModelInfoMessage>(GENERATOR_SERVICE, 'GetModel', opts, (call) =>
      decode(call.request, 'biggan.v1.GetModelRequest', () => toModelInfoMessage(status(call.request.name))),
    ),
    ListModels: unaryCall<ListModelsRequest__Output, ListModelsResponseMessage>(
      GENERATOR_SERVICE,
      'ListModels',
      opts,
      (call) => decode(call.request, 'biggan.v1.ListModelsRequest', () => toListModelsResponse(catalog.listModels())),
    ),
  };
}

/** biggan.proto and health.proto in one definition, so reflection describes both services. */
function reflectionDefinition(): protoLoader.PackageDefinition {
  return protoLoader.loadSync([bigganProtoPath(), oipProtoPath(), HEALTH_PROTO_PATH], PROTO_LOADER_OPTIONS);
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
 * Builds the gRPC server: biggan.v1.Generator over `requests` and `catalog`, grpc.health.v1.Health
 * (NOT_SERVING until `setServing(true)`, and again whenever the catalog stops being ready) and reflection.
 */
export function createGrpcServer(requests: RequestService, catalog: Catalog, opts: GrpcServerOptions): GrpcServer {
  const channelOptions = Object.freeze(channelOptionsOf(opts));
  const server = new grpc.Server(channelOptions);
  const health = new HealthReporter(['', GENERATOR_SERVICE, OIP_SERVICE]);
  health.addToServer(server);
  new ReflectionService(reflectionDefinition()).addToServer(server);
  server.addService(
    tolerantServiceDefinition(generatorServiceDefinition()),
    generatorHandlers(requests, catalog, opts),
  );
  addOipService(server, requests, catalog, opts);

  let wanted = false;
  let closing: Promise<void> | undefined;
  const update = () => health.set(wanted && closing === undefined && catalog.isReady());
  catalog.onReadinessChange(update);

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
          if (err)
            reject(new BigGanError('IO_ERROR', `gRPC: cannot listen on ${address}: ${err.message}`, { cause: err }));
          else resolve(bound);
        });
      });
    },
    shutdown(graceMs: number): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        const force = setTimeout(
          () => {
            server.forceShutdown();
            resolve();
          },
          Math.max(0, graceMs),
        );
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
