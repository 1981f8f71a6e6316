/**
 * inference.GRPCInferenceService (the Open Inference Protocol over gRPC) on the same server as
 * biggan.v1.Generator: the same API-key check, request ids, spans, log lines, metrics, deadline
 * and cancellation as Generate, and the same exit counting each refusal once (grpc/call.ts,
 * unaryCall). Probes and server metadata stay open, as grpc.health.v1 does; model metadata,
 * readiness and infer need a key when keys are on.
 * Answers larger than the server's send limit are refused before they are sent, naming the flag.
 */
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { packageRoot, packageVersion } from '../../package-root.js';
import { BigGanError } from '../../errors.js';
import { PROTO_LOADER_OPTIONS, tolerantServiceDefinition } from '../grpc/proto.js';
import { DEFAULT_MAX_SEND_MESSAGE_BYTES, type GrpcServerOptions } from '../grpc/server.js';
import { callContext, decode, unaryCall, type GrpcExits } from '../grpc/call.js';
import type { ObservedCall } from '../grpc/observer.js';
import { tensorMetadata } from './biggan-tensors.js';
import { MODEL_VERSION, resolveModel, runInfer } from './infer.js';
import {
  responseTensorBytes,
  toInferRequest,
  toInferResponse,
  type ModelInferRequestMessage,
  type ModelInferResponseMessage,
} from './grpc-codec.js';
import { SERVER_NAME, EXTENSIONS } from './rest-routes.js';
import { oipPort, type OipPort } from './service-port.js';
import type { Catalog, RequestService } from '../../service/types.js';
import type { GRPCInferenceServiceHandlers } from './generated/inference/GRPCInferenceService.js';
import type { ModelReadyRequest__Output } from './generated/inference/ModelReadyRequest.js';
import type { ModelReadyResponse__Output } from './generated/inference/ModelReadyResponse.js';
import type { ModelMetadataRequest__Output } from './generated/inference/ModelMetadataRequest.js';
import type { ModelMetadataResponse__Output } from './generated/inference/ModelMetadataResponse.js';
import type { Caller } from '../../auth/key-store.js';

/** Fully-qualified name of the service (also its health-check service name). */
export const OIP_SERVICE = 'inference.GRPCInferenceService';

/** Room for the response's non-tensor fields under the send limit. */
const ENVELOPE_BYTES = 64 * 1024;

/** Absolute path of our open_inference_grpc.proto inside the installed package. */
export function oipProtoPath(): string {
  return path.join(packageRoot(), 'proto', 'inference', 'open_inference_grpc.proto');
}

let definition: protoLoader.PackageDefinition | undefined;
function oipDefinition(): protoLoader.PackageDefinition {
  definition ??= protoLoader.loadSync(oipProtoPath(), PROTO_LOADER_OPTIONS);
  return definition;
}

/** A client of the service for `address` (tests, the bench and users), accepting answers of any size. */
export function createOipClient(
  address: string,
  credentials = grpc.credentials.createInsecure(),
): grpc.Client & Record<string, grpc.MethodDefinition<unknown, unknown> & ((...args: unknown[]) => unknown)> {
  const Client = grpc.makeGenericClientConstructor(
    oipDefinition()[OIP_SERVICE] as grpc.ServiceDefinition,
    'GRPCInferenceService',
  );
  return new Client(address, credentials, { 'grpc.max_receive_message_length': -1 }) as never;
}

type Handler<Req, Res> = (
  request: Req,
  call: grpc.ServerUnaryCall<Req, Res>,
  observed: ObservedCall,
  caller: Caller | undefined,
) => Promise<Res> | Res;

/**
 * A unary handler through the gRPC server's one exit (unaryCall: request ids, spans, the log line,
 * metrics and the one count of a refusal), authenticated only when `keyed` (probes and server
 * metadata stay open, as grpc.health.v1 does).
 */
function unary<Req, Res>(
  method: string,
  keyed: boolean,
  { opts, port }: { opts: GrpcServerOptions; port: OipPort },
  fn: Handler<Req, Res>,
): grpc.handleUnaryCall<Req, Res> {
  // The `model` metric label: the model the request names (model_name or name), else the default.
  const label = (r: unknown): string =>
    port.metricLabel(
      typeof r === 'object' && r !== null
        ? ((r as { modelName?: unknown; name?: unknown }).modelName ?? (r as { name?: unknown }).name)
        : undefined,
    );
  const exits: GrpcExits = keyed ? opts : { ...opts, auth: undefined };
  return unaryCall<Req, Res>(
    OIP_SERVICE,
    `oip.${method}`,
    exits,
    (call, observed, caller) => {
      const request = decode(call.request, `inference.${method}Request`, () => call.request);
      return fn(request, call, observed, caller);
    },
    label,
  );
}

/** ModelInfer: decode, run, and refuse an answer above the send limit with a message naming the flag. */
async function modelInfer(
  port: OipPort,
  opts: GrpcServerOptions,
  call: grpc.ServerUnaryCall<ModelInferRequestMessage, ModelInferResponseMessage>,
  observed: ObservedCall,
  caller: Caller | undefined,
): Promise<ModelInferResponseMessage> {
  resolveModel(port, call.request.modelName, call.request.modelVersion); // an unknown model is NOT_FOUND before any tensor check
  const req = toInferRequest(call.request);
  const limit = (opts.maxSendMessageBytes ?? DEFAULT_MAX_SEND_MESSAGE_BYTES) - ENVELOPE_BYTES;
  const what = 'the gRPC send limit (--grpc-max-send-message-bytes, less 64 KiB for the envelope)';
  const result = await runInfer(port, req, callContext(call, 0, observed, caller), {
    maxImageBytes: { bytes: limit, what },
  });
  const res = toInferResponse(result, req.id, req.raw);
  const size = responseTensorBytes(res);
  if (size > limit) {
    throw new BigGanError(
      'PAYLOAD_TOO_LARGE',
      `the answer's tensors take ${size} bytes, above ${what} (${limit} bytes): send fewer samples per request`,
    );
  }
  return res;
}

/** The handlers over `port`. */
function handlers(port: OipPort, version: string, opts: GrpcServerOptions): GRPCInferenceServiceHandlers {
  const ctx = { opts, port };
  return {
    // The same liveness as /healthz and GET /v2/health/live (false once a GPU engine is presumed lost).
    ServerLive: unary('ServerLive', false, ctx, () => ({ live: opts.liveness?.() === undefined })),
    ServerReady: unary('ServerReady', false, ctx, () => ({ ready: port.serverReady() })),
    ServerMetadata: unary('ServerMetadata', false, ctx, () => ({
      name: SERVER_NAME,
      version,
      extensions: EXTENSIONS,
    })),
    ModelReady: unary<ModelReadyRequest__Output, ModelReadyResponse__Output>('ModelReady', true, ctx, (r) => ({
      ready: port.modelReady(resolveModel(port, r.name, r.version).name),
    })),
    ModelMetadata: unary<ModelMetadataRequest__Output, ModelMetadataResponse__Output>(
      'ModelMetadata',
      true,
      ctx,
      (r) => {
        const model = resolveModel(port, r.name, r.version);
        const { inputs, outputs } = tensorMetadata(model);
        const wire = (t: { name: string; datatype: string; shape: number[] }) => ({ ...t, shape: t.shape.map(String) });
        return {
          name: model.name,
          versions: [MODEL_VERSION],
          platform: `biggan_${model.engine}`,
          inputs: inputs.map(wire),
          outputs: outputs.map(wire),
          properties: {},
        };
      },
    ),
    ModelInfer: unary<ModelInferRequestMessage, ModelInferResponseMessage>(
      'ModelInfer',
      true,
      ctx,
      (_r, call, observed, caller) => modelInfer(port, opts, call, observed, caller),
    ),
  };
}

/** Adds inference.GRPCInferenceService over `requests` and `catalog` to `server` (built with `opts`). */
export function addOipService(
  server: grpc.Server,
  requests: RequestService,
  catalog: Catalog,
  opts: GrpcServerOptions,
): void {
  server.addService(
    tolerantServiceDefinition(oipDefinition()[OIP_SERVICE] as grpc.ServiceDefinition),
    handlers(oipPort(requests, catalog), packageVersion(), opts),
  );
}
