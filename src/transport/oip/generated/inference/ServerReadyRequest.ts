// Original file: proto/inference/open_inference_grpc.proto


export interface ServerReadyRequest {
}

export interface ServerReadyRequest__Output {
}
