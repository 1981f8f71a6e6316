/**
 * Loading proto/biggan/v1/biggan.proto at runtime with @grpc/proto-loader (one set of loader
 * options for server, clients and reflection), and a typed client for tests, the bench and users.
 */
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { packageRoot } from '../../package-root.js';
import type { GeneratorClient as GeneratedGeneratorClient } from './generated/biggan/v1/Generator.js';
import type { GenerateRequest } from './generated/biggan/v1/GenerateRequest.js';
import type { InterpolateRequest } from './generated/biggan/v1/InterpolateRequest.js';

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

/** A GenerateRequest as a client sends it (generated from the .proto: every field optional). */
export type GenerateRequestInput = GenerateRequest;
/** An InterpolateRequest as a client sends it. */
export type InterpolateRequestInput = InterpolateRequest;
/** A Generator client (generated from the .proto); each method also takes metadata and options. */
export type GeneratorClient = GeneratedGeneratorClient;

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
  // makeGenericClientConstructor is untyped; the generated interface names the methods it creates.
  return new Client(address, credentials, { ...CLIENT_CHANNEL_OPTIONS, ...options }) as unknown as GeneratorClient;
}
