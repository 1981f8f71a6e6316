/**
 * OpenTelemetry set-up from the standard `OTEL_*` environment variables. Tracing is on only when
 * an exporter is configured (`OTEL_TRACES_EXPORTER=otlp|console`, or an OTLP endpoint is set);
 * otherwise every hook gets the API's no-op tracer and skips its extra work, so it costs nothing.
 * Spans are passed explicitly (no global provider, no async-context manager): several servers
 * can run in one process (tests) and the hot path pays no async-hooks cost. The SDK and exporter
 * are imported only when tracing is on, so a server without it does not even load them.
 */
import { JsonLineSpanExporter } from './json-line-exporter.js';
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type SpanContext,
  type TextMapGetter,
  type Tracer,
} from '@opentelemetry/api';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { BigGanError } from '../errors.js';
import { packageVersion } from '../package-root.js';

/** The tracing of one server: a tracer (no-op when off), W3C context extraction and shutdown. */
export interface Tracing {
  /** True when spans are recorded and exported; hooks skip all extra work when false. */
  readonly enabled: boolean;
  readonly tracer: Tracer;
  /** Where spans go, for the start-up log line: e.g. `otlp http://collector:4318/v1/traces`, or `off`. */
  readonly description: string;
  /** The parent context carried by a W3C `traceparent`/`tracestate` in `carrier` (ROOT_CONTEXT when absent or invalid). */
  extract<C>(carrier: C, getter: TextMapGetter<C>): Context;
  /** Flushes pending spans and stops the exporter. */
  shutdown(): Promise<void>;
}

/** Tracing off: the API's no-op tracer (no global provider is registered, so this never records). */
export const NOOP_TRACING: Tracing = Object.freeze({
  enabled: false,
  tracer: trace.getTracerProvider().getTracer('biggan-serve'),
  description: 'off',
  extract: () => ROOT_CONTEXT,
  shutdown: () => Promise.resolve(),
});

/** The OTLP/HTTP traces URL from the env: the signal-specific endpoint as is, else the base endpoint + `/v1/traces`. */
export function otlpTracesUrl(env: NodeJS.ProcessEnv): string | undefined {
  const specific = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (specific) return specific;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (base) return `${base.replace(/\/+$/, '')}/v1/traces`;
  return undefined;
}

/**
 * Tracing as the `OTEL_*` variables of `env` ask: `OTEL_SDK_DISABLED=true` or
 * `OTEL_TRACES_EXPORTER=none` turn it off; `otlp` (OTLP over HTTP, JSON) and `console` are the
 * exporters; with `OTEL_TRACES_EXPORTER` unset, an OTLP endpoint alone turns OTLP on. Sampler
 * (`OTEL_TRACES_SAMPLER[_ARG]`), batching (`OTEL_BSP_*`), headers and timeouts
 * (`OTEL_EXPORTER_OTLP_*`) are read by the SDK from the process environment.
 */
export async function tracingFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<Tracing> {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return NOOP_TRACING;
  const url = otlpTracesUrl(env);
  const names = (env.OTEL_TRACES_EXPORTER ?? (url ? 'otlp' : 'none'))
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '' && s !== 'none');
  if (names.length === 0) return NOOP_TRACING;
  const unknown = names.find((n) => n !== 'otlp' && n !== 'console');
  if (unknown)
    throw new BigGanError(
      'INVALID_CONFIG',
      `OTEL_TRACES_EXPORTER: unsupported exporter '${unknown}' (supported: otlp, console, none)`,
    );
  const [
    { W3CTraceContextPropagator },
    { OTLPTraceExporter },
    { detectResources, envDetector, resourceFromAttributes },
    { BasicTracerProvider, BatchSpanProcessor },
    { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION },
  ] = await Promise.all([
    import('@opentelemetry/core'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/semantic-conventions'),
  ]);
  const propagator = new W3CTraceContextPropagator();
  const processors: SpanProcessor[] = [];
  const where: string[] = [];
  for (const name of names) {
    if (name === 'otlp') {
      // The SDK's own default when no endpoint is given.
      const target = url ?? 'http://localhost:4318/v1/traces';
      processors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url: target })));
      where.push(`otlp ${target}`);
    } else {
      processors.push(new BatchSpanProcessor(new JsonLineSpanExporter()));
      where.push('console');
    }
  }
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (envDetector) override the defaults.
  const resource = resourceFromAttributes({
    [ATTR_SERVICE_NAME]: 'biggan-serve',
    [ATTR_SERVICE_VERSION]: packageVersion(),
  })
    .merge(detectResources({ detectors: [envDetector] }))
    .merge(env.OTEL_SERVICE_NAME ? resourceFromAttributes({ [ATTR_SERVICE_NAME]: env.OTEL_SERVICE_NAME }) : null);
  const provider = new BasicTracerProvider({ resource, spanProcessors: processors });
  return {
    enabled: true,
    tracer: provider.getTracer('biggan-serve', packageVersion()),
    description: where.join(', '),
    extract: (carrier, getter) => propagator.extract(ROOT_CONTEXT, carrier, getter),
    shutdown: () => provider.shutdown(),
  };
}

/** Starts a SERVER span for one call, child of the remote parent in `parent` (if any). */
export function startServerSpan(tracing: Tracing, name: string, parent: Context, attributes: Attributes): Span {
  return tracing.tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
}

/** Ends `span` with an error status when `error` is given. */
export function endSpan(span: Span, error?: unknown): void {
  if (error !== undefined) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  }
  span.end();
}

/** One request's share of an engine batch, as the batcher reports it to the batch hook. */
export interface BatchMember {
  /** The request's server span. */
  readonly traceContext: SpanContext;
  /** How long (ms) its oldest sample in this batch waited in the queue. */
  readonly queuedMs: number;
  /** Its samples in this batch. */
  readonly samples: number;
}

/** Labels of the engine batch span. */
export interface BatchSpanLabels {
  readonly model: string;
  readonly engine: string;
  readonly backend: string;
}

/**
 * The batcher's tracing hook: when a batch starts, records a `queue` span under each request's
 * span (ending now, started `queuedMs` ago) and starts an `engine.batch` span that links every
 * request whose samples it carries; the returned function ends it.
 */
export function batchTracer(
  tracing: Tracing,
  labels: BatchSpanLabels,
): ((batch: { size: number; members: readonly BatchMember[] }) => (error?: unknown) => void) | undefined {
  if (!tracing.enabled) return undefined;
  return ({ size, members }) => {
    const now = performance.timeOrigin + performance.now(); // epoch ms, sub-ms precision
    for (const m of members) {
      const parent = trace.setSpanContext(ROOT_CONTEXT, m.traceContext);
      const span = tracing.tracer.startSpan(
        'queue',
        { startTime: now - m.queuedMs, attributes: { 'biggan.samples': m.samples } },
        parent,
      );
      span.end(now);
    }
    const span = tracing.tracer.startSpan('engine.batch', {
      startTime: now,
      links: members.map((m) => ({ context: m.traceContext })),
      attributes: {
        'biggan.model': labels.model,
        'biggan.batch.size': size,
        'biggan.engine': labels.engine,
        'biggan.backend': labels.backend,
        'biggan.batch.requests': members.length,
      },
    });
    return (error?: unknown) => endSpan(span, error);
  };
}
