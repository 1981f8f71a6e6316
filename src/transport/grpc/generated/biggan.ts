import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { ClassInfo as _biggan_v1_ClassInfo, ClassInfo__Output as _biggan_v1_ClassInfo__Output } from './biggan/v1/ClassInfo.js';
import type { ClassMixture as _biggan_v1_ClassMixture, ClassMixture__Output as _biggan_v1_ClassMixture__Output } from './biggan/v1/ClassMixture.js';
import type { ClassSpec as _biggan_v1_ClassSpec, ClassSpec__Output as _biggan_v1_ClassSpec__Output } from './biggan/v1/ClassSpec.js';
import type { Endpoint as _biggan_v1_Endpoint, Endpoint__Output as _biggan_v1_Endpoint__Output } from './biggan/v1/Endpoint.js';
import type { Frame as _biggan_v1_Frame, Frame__Output as _biggan_v1_Frame__Output } from './biggan/v1/Frame.js';
import type { GenerateRequest as _biggan_v1_GenerateRequest, GenerateRequest__Output as _biggan_v1_GenerateRequest__Output } from './biggan/v1/GenerateRequest.js';
import type { GenerateResponse as _biggan_v1_GenerateResponse, GenerateResponse__Output as _biggan_v1_GenerateResponse__Output } from './biggan/v1/GenerateResponse.js';
import type { GeneratorClient as _biggan_v1_GeneratorClient, GeneratorDefinition as _biggan_v1_GeneratorDefinition } from './biggan/v1/Generator.js';
import type { GetModelRequest as _biggan_v1_GetModelRequest, GetModelRequest__Output as _biggan_v1_GetModelRequest__Output } from './biggan/v1/GetModelRequest.js';
import type { Image as _biggan_v1_Image, Image__Output as _biggan_v1_Image__Output } from './biggan/v1/Image.js';
import type { InterpolateRequest as _biggan_v1_InterpolateRequest, InterpolateRequest__Output as _biggan_v1_InterpolateRequest__Output } from './biggan/v1/InterpolateRequest.js';
import type { ListClassesRequest as _biggan_v1_ListClassesRequest, ListClassesRequest__Output as _biggan_v1_ListClassesRequest__Output } from './biggan/v1/ListClassesRequest.js';
import type { ListClassesResponse as _biggan_v1_ListClassesResponse, ListClassesResponse__Output as _biggan_v1_ListClassesResponse__Output } from './biggan/v1/ListClassesResponse.js';
import type { ListModelsRequest as _biggan_v1_ListModelsRequest, ListModelsRequest__Output as _biggan_v1_ListModelsRequest__Output } from './biggan/v1/ListModelsRequest.js';
import type { ListModelsResponse as _biggan_v1_ListModelsResponse, ListModelsResponse__Output as _biggan_v1_ListModelsResponse__Output } from './biggan/v1/ListModelsResponse.js';
import type { ModelInfo as _biggan_v1_ModelInfo, ModelInfo__Output as _biggan_v1_ModelInfo__Output } from './biggan/v1/ModelInfo.js';
import type { TruncationRange as _biggan_v1_TruncationRange, TruncationRange__Output as _biggan_v1_TruncationRange__Output } from './biggan/v1/TruncationRange.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  biggan: {
    v1: {
      ClassInfo: MessageTypeDefinition<_biggan_v1_ClassInfo, _biggan_v1_ClassInfo__Output>
      ClassMixture: MessageTypeDefinition<_biggan_v1_ClassMixture, _biggan_v1_ClassMixture__Output>
      ClassSpec: MessageTypeDefinition<_biggan_v1_ClassSpec, _biggan_v1_ClassSpec__Output>
      Endpoint: MessageTypeDefinition<_biggan_v1_Endpoint, _biggan_v1_Endpoint__Output>
      Frame: MessageTypeDefinition<_biggan_v1_Frame, _biggan_v1_Frame__Output>
      GenerateRequest: MessageTypeDefinition<_biggan_v1_GenerateRequest, _biggan_v1_GenerateRequest__Output>
      GenerateResponse: MessageTypeDefinition<_biggan_v1_GenerateResponse, _biggan_v1_GenerateResponse__Output>
      /**
       * Image generation with BigGAN-deep. Samples from concurrent calls are batched together on the
       * server; each call waits at most its timeout in the queue, and is dropped from the queue when
       * the client cancels.
       */
      Generator: SubtypeConstructor<typeof grpc.Client, _biggan_v1_GeneratorClient> & { service: _biggan_v1_GeneratorDefinition }
      GetModelRequest: MessageTypeDefinition<_biggan_v1_GetModelRequest, _biggan_v1_GetModelRequest__Output>
      Image: MessageTypeDefinition<_biggan_v1_Image, _biggan_v1_Image__Output>
      InterpolateRequest: MessageTypeDefinition<_biggan_v1_InterpolateRequest, _biggan_v1_InterpolateRequest__Output>
      InterpolationMethod: EnumTypeDefinition
      ListClassesRequest: MessageTypeDefinition<_biggan_v1_ListClassesRequest, _biggan_v1_ListClassesRequest__Output>
      ListClassesResponse: MessageTypeDefinition<_biggan_v1_ListClassesResponse, _biggan_v1_ListClassesResponse__Output>
      ListModelsRequest: MessageTypeDefinition<_biggan_v1_ListModelsRequest, _biggan_v1_ListModelsRequest__Output>
      ListModelsResponse: MessageTypeDefinition<_biggan_v1_ListModelsResponse, _biggan_v1_ListModelsResponse__Output>
      ModelInfo: MessageTypeDefinition<_biggan_v1_ModelInfo, _biggan_v1_ModelInfo__Output>
      Priority: EnumTypeDefinition
      TruncationRange: MessageTypeDefinition<_biggan_v1_TruncationRange, _biggan_v1_TruncationRange__Output>
    }
  }
}

