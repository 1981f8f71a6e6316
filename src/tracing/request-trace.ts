/**
 * What one request carries through the service for observability: its id, its server span (a
 * non-recording one when tracing is off) and the number of images it produced (for the log line).
 */
import { ROOT_CONTEXT, trace, type Span, type SpanContext } from '@opentelemetry/api';
import { endSpan, type Tracing } from './tracing.js';

/** Per-request observability state shared by the transport (creates it) and the service (adds to it). */
export class RequestTrace {
  /** Images returned, for the request's log line. */
  images = 0;
  /** The API key's name (never the key), for the log line and span; undefined without a key file. */
  keyName: string | undefined;

  constructor(
    readonly requestId: string,
    readonly span: Span,
    private readonly tracing: Tracing,
  ) {}

  /** The span's context for the batcher to link, or undefined when this request is not traced. */
  get spanContext(): SpanContext | undefined {
    return this.tracing.enabled && this.span.isRecording() ? this.span.spanContext() : undefined;
  }

  /** Runs `fn` inside a child span `name` (nothing extra when not traced). */
  async child<T>(name: string, attributes: Record<string, string | number>, fn: () => Promise<T>): Promise<T> {
    if (this.spanContext === undefined) return fn();
    const span = this.tracing.tracer.startSpan(name, { attributes }, trace.setSpan(ROOT_CONTEXT, this.span));
    try {
      const result = await fn();
      endSpan(span);
      return result;
    } catch (err) {
      endSpan(span, err);
      throw err;
    }
  }
}
