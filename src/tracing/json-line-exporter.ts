/**
 * `OTEL_TRACES_EXPORTER=console` as one JSON line per span on stdout, like every other record of
 * the log. The SDK's ConsoleSpanExporter prints each span with console.dir (many lines, and a
 * client's raw `tracestate` of up to 10 KB whole), which broke one-JSON-line-per-record log
 * collection. Hand-written: twenty lines over the SDK's own span fields; no exporter on npm writes
 * JSON lines.
 */
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

/** Longest `tracestate` echoed (the W3C limit is 512 characters of list members). */
const MAX_TRACE_STATE_CHARS = 512;

/** One span as a flat JSON record (times in microseconds since the epoch, durations in microseconds). */
function spanRecord(span: ReadableSpan): Record<string, unknown> {
  const ctx = span.spanContext();
  const micros = ([s, ns]: readonly [number, number]): number => s * 1e6 + Math.round(ns / 1e3);
  const traceState = ctx.traceState?.serialize();
  return {
    msg: 'span',
    name: span.name,
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    ...(span.parentSpanContext ? { parentSpanId: span.parentSpanContext.spanId } : {}),
    ...(traceState ? { traceState: traceState.slice(0, MAX_TRACE_STATE_CHARS) } : {}),
    kind: span.kind,
    startUs: micros(span.startTime),
    durationUs: micros(span.duration),
    status: span.status,
    attributes: span.attributes,
    ...(span.events.length > 0 ? { events: span.events.map((e) => ({ name: e.name, attributes: e.attributes })) } : {}),
    ...(span.links.length > 0
      ? { links: span.links.map((l) => ({ traceId: l.context.traceId, spanId: l.context.spanId })) }
      : {}),
  };
}

/** Writes each span as one JSON line (default: to stdout). */
export class JsonLineSpanExporter implements SpanExporter {
  constructor(private readonly write: (line: string) => void = (line) => void process.stdout.write(line)) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    for (const span of spans) this.write(`${JSON.stringify(spanRecord(span))}\n`);
    done({ code: 0 });
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
