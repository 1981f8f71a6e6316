// Original file: proto/biggan/v1/biggan.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { Frame as _biggan_v1_Frame, Frame__Output as _biggan_v1_Frame__Output } from '../../biggan/v1/Frame.js';
import type { GenerateRequest as _biggan_v1_GenerateRequest, GenerateRequest__Output as _biggan_v1_GenerateRequest__Output } from '../../biggan/v1/GenerateRequest.js';
import type { GenerateResponse as _biggan_v1_GenerateResponse, GenerateResponse__Output as _biggan_v1_GenerateResponse__Output } from '../../biggan/v1/GenerateResponse.js';
import type { GetModelRequest as _biggan_v1_GetModelRequest, GetModelRequest__Output as _biggan_v1_GetModelRequest__Output } from '../../biggan/v1/GetModelRequest.js';
import type { InterpolateRequest as _biggan_v1_InterpolateRequest, InterpolateRequest__Output as _biggan_v1_InterpolateRequest__Output } from '../../biggan/v1/InterpolateRequest.js';
import type { ListClassesRequest as _biggan_v1_ListClassesRequest, ListClassesRequest__Output as _biggan_v1_ListClassesRequest__Output } from '../../biggan/v1/ListClassesRequest.js';
import type { ListClassesResponse as _biggan_v1_ListClassesResponse, ListClassesResponse__Output as _biggan_v1_ListClassesResponse__Output } from '../../biggan/v1/ListClassesResponse.js';
import type { ListModelsRequest as _biggan_v1_ListModelsRequest, ListModelsRequest__Output as _biggan_v1_ListModelsRequest__Output } from '../../biggan/v1/ListModelsRequest.js';
import type { ListModelsResponse as _biggan_v1_ListModelsResponse, ListModelsResponse__Output as _biggan_v1_ListModelsResponse__Output } from '../../biggan/v1/ListModelsResponse.js';
import type { ModelInfo as _biggan_v1_ModelInfo, ModelInfo__Output as _biggan_v1_ModelInfo__Output } from '../../biggan/v1/ModelInfo.js';

/**
 * Image generation with BigGAN-deep. Samples from concurrent calls are batched together on the
 * server; each call waits at most its timeout in the queue, and is dropped from the queue when
 * the client cancels.
 */
export interface GeneratorClient extends grpc.Client {
  /**
   * Generates `count` images (or one grid of them) for the given classes, seed or latents.
   */
  Generate(argument: _biggan_v1_GenerateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_biggan_v1_GenerateResponse__Output>): grpc.ClientUnaryCall;
  Generate(argument: _biggan_v1_GenerateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_biggan_v1_GenerateResponse__Output>): grpc.ClientUnaryCall;
  Generate(argument: _biggan_v1_GenerateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_biggan_v1_GenerateResponse__Output>): grpc.ClientUnaryCall;
  Generate(argument: _biggan_v1_GenerateRequest, callback: grpc.requestCallback<_biggan_v1_GenerateResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Generates `count` images (or one grid of them) for the given classes, seed or latents.
   */
  generate(argument: _biggan_v1_GenerateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_biggan_v1_GenerateResponse__Output>): grpc.ClientUnaryCall;
  generate(argument: _biggan_v1_GenerateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_biggan_v1_GenerateResponse__Output>): grpc.ClientUnaryCall;
  generate(argument: _biggan_v1_GenerateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_biggan_v1_GenerateResponse__Output>): grpc.ClientUnaryCall;
  generate(argument: _biggan_v1_GenerateRequest, callback: grpc.requestCallback<_biggan_v1_GenerateResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Describes one model (by name; the default model when none is given) and the server's limits.
   */
  GetModel(argument: _biggan_v1_GetModelRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_biggan_v1_ModelInfo__Output>): grpc.ClientUnaryCall;
  GetModel(argument: _biggan_v1_GetModelRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_biggan_v1_ModelInfo__Output>): grpc.ClientUnaryCall;
  GetModel(argument: _biggan_v1_GetModelRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_biggan_v1_ModelInfo__Output>): grpc.ClientUnaryCall;
  GetModel(argument: _biggan_v1_GetModelRequest, callback: grpc.requestCallback<_biggan_v1_ModelInfo__Output>): grpc.ClientUnaryCall;
  /**
   * Describes one model (by name; the default model when none is given) and the server's limits.
   */
  getModel(argument: _biggan_v1_GetModelRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_biggan_v1_ModelInfo__Output>): grpc.ClientUnaryCall;
  getModel(argument: _biggan_v1_GetModelRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_biggan_v1_ModelInfo__Output>): grpc.ClientUnaryCall;
  getModel(argument: _biggan_v1_GetModelRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_biggan_v1_ModelInfo__Output>): grpc.ClientUnaryCall;
  getModel(argument: _biggan_v1_GetModelRequest, callback: grpc.requestCallback<_biggan_v1_ModelInfo__Output>): grpc.ClientUnaryCall;
  
  /**
   * Interpolates between two (latent, class) endpoints. Streams one Frame per step, in order,
   * each as soon as its batch is done; for animations (format gif/webp) or `grid`, a last
   * message carries the combined image in `animation` or `grid`.
   */
  Interpolate(argument: _biggan_v1_InterpolateRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_biggan_v1_Frame__Output>;
  Interpolate(argument: _biggan_v1_InterpolateRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_biggan_v1_Frame__Output>;
  /**
   * Interpolates between two (latent, class) endpoints. Streams one Frame per step, in order,
   * each as soon as its batch is done; for animations (format gif/webp) or `grid`, a last
   * message carries the combined image in `animation` or `grid`.
   */
  interpolate(argument: _biggan_v1_InterpolateRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_biggan_v1_Frame__Output>;
  interpolate(argument: _biggan_v1_InterpolateRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_biggan_v1_Frame__Output>;
  
  /**
   * Lists the model's classes (the 1000 ImageNet classes for the published models).
   */
  ListClasses(argument: _biggan_v1_ListClassesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_biggan_v1_ListClassesResponse__Output>): grpc.ClientUnaryCall;
  ListClasses(argument: _biggan_v1_ListClassesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_biggan_v1_ListClassesResponse__Output>): grpc.ClientUnaryCall;
  ListClasses(argument: _biggan_v1_ListClassesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_biggan_v1_ListClassesResponse__Output>): grpc.ClientUnaryCall;
  ListClasses(argument: _biggan_v1_ListClassesRequest, callback: grpc.requestCallback<_biggan_v1_ListClassesResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Lists the model's classes (the 1000 ImageNet classes for the published models).
   */
  listClasses(argument: _biggan_v1_ListClassesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_biggan_v1_ListClassesResponse__Output>): grpc.ClientUnaryCall;
  listClasses(argument: _biggan_v1_ListClassesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_biggan_v1_ListClassesResponse__Output>): grpc.ClientUnaryCall;
  listClasses(argument: _biggan_v1_ListClassesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_biggan_v1_ListClassesResponse__Output>): grpc.ClientUnaryCall;
  listClasses(argument: _biggan_v1_ListClassesRequest, callback: grpc.requestCallback<_biggan_v1_ListClassesResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Every model served, with its state (loading, ready, unloaded, failed).
   */
  ListModels(argument: _biggan_v1_ListModelsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_biggan_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  ListModels(argument: _biggan_v1_ListModelsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_biggan_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  ListModels(argument: _biggan_v1_ListModelsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_biggan_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  ListModels(argument: _biggan_v1_ListModelsRequest, callback: grpc.requestCallback<_biggan_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Every model served, with its state (loading, ready, unloaded, failed).
   */
  listModels(argument: _biggan_v1_ListModelsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_biggan_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  listModels(argument: _biggan_v1_ListModelsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_biggan_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  listModels(argument: _biggan_v1_ListModelsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_biggan_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  listModels(argument: _biggan_v1_ListModelsRequest, callback: grpc.requestCallback<_biggan_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  
}

/**
 * Image generation with BigGAN-deep. Samples from concurrent calls are batched together on the
 * server; each call waits at most its timeout in the queue, and is dropped from the queue when
 * the client cancels.
 */
export interface GeneratorHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Generates `count` images (or one grid of them) for the given classes, seed or latents.
   */
  Generate: grpc.handleUnaryCall<_biggan_v1_GenerateRequest__Output, _biggan_v1_GenerateResponse>;
  
  /**
   * Describes one model (by name; the default model when none is given) and the server's limits.
   */
  GetModel: grpc.handleUnaryCall<_biggan_v1_GetModelRequest__Output, _biggan_v1_ModelInfo>;
  
  /**
   * Interpolates between two (latent, class) endpoints. Streams one Frame per step, in order,
   * each as soon as its batch is done; for animations (format gif/webp) or `grid`, a last
   * message carries the combined image in `animation` or `grid`.
   */
  Interpolate: grpc.handleServerStreamingCall<_biggan_v1_InterpolateRequest__Output, _biggan_v1_Frame>;
  
  /**
   * Lists the model's classes (the 1000 ImageNet classes for the published models).
   */
  ListClasses: grpc.handleUnaryCall<_biggan_v1_ListClassesRequest__Output, _biggan_v1_ListClassesResponse>;
  
  /**
   * Every model served, with its state (loading, ready, unloaded, failed).
   */
  ListModels: grpc.handleUnaryCall<_biggan_v1_ListModelsRequest__Output, _biggan_v1_ListModelsResponse>;
  
}

export interface GeneratorDefinition extends grpc.ServiceDefinition {
  Generate: MethodDefinition<_biggan_v1_GenerateRequest, _biggan_v1_GenerateResponse, _biggan_v1_GenerateRequest__Output, _biggan_v1_GenerateResponse__Output>
  GetModel: MethodDefinition<_biggan_v1_GetModelRequest, _biggan_v1_ModelInfo, _biggan_v1_GetModelRequest__Output, _biggan_v1_ModelInfo__Output>
  Interpolate: MethodDefinition<_biggan_v1_InterpolateRequest, _biggan_v1_Frame, _biggan_v1_InterpolateRequest__Output, _biggan_v1_Frame__Output>
  ListClasses: MethodDefinition<_biggan_v1_ListClassesRequest, _biggan_v1_ListClassesResponse, _biggan_v1_ListClassesRequest__Output, _biggan_v1_ListClassesResponse__Output>
  ListModels: MethodDefinition<_biggan_v1_ListModelsRequest, _biggan_v1_ListModelsResponse, _biggan_v1_ListModelsRequest__Output, _biggan_v1_ListModelsResponse__Output>
}
