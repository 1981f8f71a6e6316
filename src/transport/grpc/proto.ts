/**
 * Loading proto/biggan/v1/biggan.proto at runtime with @grpc/proto-loader (one set of loader
 * options for server, clients and reflection), and a typed client for tests, the bench and users.
 */
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { packageRoot } from '../../package-root.js';
import type {
  FrameMessage, GenerateRequestMessage, GenerateResponseMessage, InterpolateRequestMessage,
  ListClassesResponseMessage, ModelInfoMessage,
} from './codec.js';

/** Fully-qualified name of the Generator service (also its health-check service name). */
export const GENERATOR_SERVICE = 'biggan.v1.Generator';

/**
 * Loader options: camelCase field names (as in the REST API), uint64 as decimal strings (seeds
 * reach 2^64-1, past a double's 2^53), enums as names, defaults filled in (proto3 zero values
 * mean "unset"), and the name of the set member on each oneof (ClassSpec.spec, `_seed`).
 */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = Object.freeze({
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});

/** Absolute path of biggan.proto inside the installed package. */
export function bigganProtoPath(): string {
  return path.join(packageRoot(), 'proto', 'biggan', 'v1', 'biggan.proto');
}

let definition: protoLoader.PackageDefinition | undefined;

/** The package definition of biggan.proto (parsed once). */
export function loadBigganPackageDefinition(): protoLoader.PackageDefinition {
  definition ??= protoLoader.loadSync(bigganProtoPath(), PROTO_LOADER_OPTIONS);
  return definition;
}

/** The loaded proto as a grpc-js object tree: `loadBigganProto().biggan.v1.Generator`. */
export function loadBigganProto(): grpc.GrpcObject {
  return grpc.loadPackageDefinition(loadBigganPackageDefinition());
}

/** The Generator service definition (method paths and serializers). */
export function generatorServiceDefinition(): grpc.ServiceDefinition {
  return loadBigganPackageDefinition()[GENERATOR_SERVICE] as grpc.ServiceDefinition;
}

/** What a request deserializer returns for bytes that are not a valid message (see tolerantServiceDefinition). */
export class UndecodableMessage {
  constructor(
    /** Why the bytes could not be decoded (protobufjs's words, not client input). */
    readonly reason: string,
  ) {}
}

/**
 * `definition` with every request deserializer made total: bytes that are not a valid message
 * decode to an UndecodableMessage instead of throwing. grpc-js answers a throwing deserializer with
 * INTERNAL and never calls the handler; this way the handler answers INVALID_ARGUMENT and counts it.
 */
export function tolerantServiceDefinition(definition: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(definition)) {
    const decode = method.requestDeserialize;
    out[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer): unknown => {
        try {
          return decode(bytes);
        } catch (err) {
          return new UndecodableMessage(err instanceof Error ? err.message : String(err));
        }
      },
    };
  }
  return out;
}

/** Every field optional, recursively: what a client may send (unset fields take their defaults). */
export type DeepPartial<T> = T extends Buffer ? T : T extends readonly (infer E)[] ? DeepPartial<E>[] : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> | null } : T;

/** Seeds a client may send: a decimal string (exact up to 2^64-1) or a safe integer. */
type ClientSeed = { seed?: string | number };

/** A GenerateRequest as a client sends it. */
export type GenerateRequestInput = Omit<DeepPartial<GenerateRequestMessage>, 'seed'> & ClientSeed;
/** An InterpolateRequest as a client sends it. */
export type InterpolateRequestInput = Omit<DeepPartial<InterpolateRequestMessage>, 'from' | 'to'> & {
  from?: Omit<NonNullable<DeepPartial<InterpolateRequestMessage['from']>>, 'seed'> & ClientSeed;
  to?: Omit<NonNullable<DeepPartial<InterpolateRequestMessage['to']>>, 'seed'> & ClientSeed;
};

/** A Generator client; each unary method also takes (request, metadata, options, callback). */
export interface GeneratorClient extends grpc.Client {
  Generate(request: GenerateRequestInput, callback: grpc.requestCallback<GenerateResponseMessage>): grpc.ClientUnaryCall;
  Generate(request: GenerateRequestInput, metadata: grpc.Metadata, options: Partial<grpc.CallOptions>, callback: grpc.requestCallback<GenerateResponseMessage>): grpc.ClientUnaryCall;
  Interpolate(request: InterpolateRequestInput, metadata?: grpc.Metadata, options?: Partial<grpc.CallOptions>): grpc.ClientReadableStream<FrameMessage>;
  ListClasses(request: Record<string, never>, callback: grpc.requestCallback<ListClassesResponseMessage>): grpc.ClientUnaryCall;
  GetModel(request: Record<string, never>, callback: grpc.requestCallback<ModelInfoMessage>): grpc.ClientUnaryCall;
}

/** Client channel defaults: answers hold whole batches of images, far above grpc's 4 MiB default. */
export const CLIENT_CHANNEL_OPTIONS: grpc.ChannelOptions = Object.freeze({
  'grpc.max_receive_message_length': -1,
});

/**
 * A Generator client for `address` ("host:port"), insecure by default, accepting answers of any
 * size. `options` are channel options merged over the defaults.
 */
export function createGeneratorClient(
  address: string,
  credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
  options: grpc.ChannelOptions = {},
): GeneratorClient {
  const Client = grpc.makeGenericClientConstructor(generatorServiceDefinition(), 'Generator');
  return new Client(address, credentials, { ...CLIENT_CHANNEL_OPTIONS, ...options }) as unknown as GeneratorClient;
}
