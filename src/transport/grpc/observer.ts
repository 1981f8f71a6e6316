/**
 * Observability of one gRPC call: request id from `x-request-id` metadata (echoed in the initial
 * and trailing metadata), a server span whose parent comes from `traceparent` metadata, and one
 * log line when the call ends.
 */
import { INVALID_SPAN_CONTEXT, trace, type TextMapGetter } from '@opentelemetry/api';
import { Metadata } from '@grpc/grpc-js';
import { REQUEST_ID_HEADER, requestIdFrom } from '../../tracing/request-id.js';
import { RequestTrace } from '../../tracing/request-trace.js';
import { endSpan, NOOP_TRACING, startServerSpan, type Tracing } from '../../tracing/tracing.js';

/** The part of a pino logger the gRPC server uses. */
export interface CallLogger {
  child(bindings: Record<string, unknown>): CallLogger;
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Where gRPC calls report: tracing, the logger and the model name for log lines. */
export interface GrpcObservability {
  readonly tracing?: Tracing;
  readonly logger?: CallLogger;
  readonly model?: () => string;
}

/** One call being observed. */
export interface ObservedCall {
  readonly trace: RequestTrace;
  /** Metadata carrying the request id, for the trailers / error status. */
  trailer(): Metadata;
  /** Ends the span and writes the log line; `status` is the gRPC status name (OK, UNAVAILABLE, ...). */
  finish(code: number, status: string, error?: unknown, model?: string): void;
}

const UNTRACED = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

const metadataGetter: TextMapGetter<Metadata> = {
  keys: (md) => Object.keys(md.getMap()),
  get: (md, key) => {
    const values = md.get(key).filter((v): v is string => typeof v === 'string');
    return values.length === 0 ? undefined : values;
  },
};

/** Starts observing a call of `method` (e.g. `Generate`) and sends the request id as initial metadata. */
export function observeGrpcCall(
  call: { readonly metadata: Metadata; sendMetadata(md: Metadata): void },
  service: string,
  method: string,
  obs: GrpcObservability | undefined,
): ObservedCall {
  const tracing = obs?.tracing ?? NOOP_TRACING;
  const startedAt = performance.now();
  const requestId = requestIdFrom(call.metadata.get(REQUEST_ID_HEADER).filter((v) => typeof v === 'string'));
  const span = tracing.enabled
    ? startServerSpan(tracing, `${service}/${method}`, tracing.extract(call.metadata, metadataGetter), {
        'rpc.system': 'grpc',
        'rpc.service': service,
        'rpc.method': method,
        'biggan.request_id': requestId,
      })
    : UNTRACED;
  const rt = new RequestTrace(requestId, span, tracing);
  const trailer = (): Metadata => {
    const md = new Metadata();
    md.set(REQUEST_ID_HEADER, requestId);
    return md;
  };
  try {
    call.sendMetadata(trailer());
  } catch {
    // The call already ended (cancelled before we started): nothing to send to.
  }
  return {
    trace: rt,
    trailer,
    finish(code, status, error, model) {
      const modelName = model ?? obs?.model?.();
      const line = {
        route: method,
        status,
        latencyMs: +(performance.now() - startedAt).toFixed(1),
        ...(rt.images > 0 ? { images: rt.images, ...(modelName !== undefined ? { model: modelName } : {}) } : {}),
        ...(rt.keyName !== undefined ? { key: rt.keyName } : {}),
      };
      const log = obs?.logger?.child({ requestId, transport: 'grpc' });
      // INTERNAL, UNKNOWN, DATA_LOSS and UNIMPLEMENTED are server faults; the rest are answers.
      if ([2, 12, 13, 15].includes(code)) log?.error(line, 'request');
      else log?.info(line, 'request');
      if (span !== UNTRACED) {
        span.setAttribute('rpc.grpc.status_code', code);
        if (modelName !== undefined) span.setAttribute('biggan.model', modelName);
        endSpan(span, [2, 12, 13, 15].includes(code) ? (error ?? new Error(status)) : undefined);
      }
    },
  };
}
