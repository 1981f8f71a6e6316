/**
 * Observability hooks of the fastify app: request ids (X-Request-Id in and out, on every log
 * line), one server span per request (parent from a W3C `traceparent`), and one log line per
 * request instead of fastify's pair; probes and /metrics scrapes log at debug.
 */
import { INVALID_SPAN_CONTEXT, trace, type TextMapGetter } from '@opentelemetry/api';
import { LogController, type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import { REQUEST_ID_HEADER, requestIdFrom } from '../../tracing/request-id.js';
import { RequestTrace } from '../../tracing/request-trace.js';
import { endSpan, startServerSpan, type Tracing } from '../../tracing/tracing.js';
import { redactUrl } from '../../tracing/redact.js';

/** Routes logged at debug: probes and scrapes would otherwise drown the request lines. */
const QUIET_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);

/** A span that records nothing, shared by every request when tracing is off. */
const UNTRACED = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

const headerGetter: TextMapGetter<IncomingHttpHeaders> = {
  keys: (h) => Object.keys(h),
  get: (h, key) => h[key.toLowerCase()],
};

const traces = new WeakMap<FastifyRequest, RequestTrace>();

/** fastify options for request ids: validated client id or a UUID, logged as `requestId`; no default request logging. */
export function requestIdOptions(): Pick<FastifyServerOptions, 'genReqId' | 'requestIdHeader' | 'logController'> {
  return {
    requestIdHeader: false, // read and validated by genReqId instead
    genReqId: (req) => requestIdFrom(req.headers[REQUEST_ID_HEADER]),
    // fastify's 'incoming request' / 'request completed' pair gives way to observeHttp's one line.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
  };
}

/** The request's observability state (set by `observeHttp`'s onRequest hook). */
export function requestTraceOf(request: FastifyRequest): RequestTrace | undefined {
  return traces.get(request);
}

/** Adds the span, request-id and log-line hooks to `app`. */
export function observeHttp(
  app: FastifyInstance,
  opts: { tracing: Tracing; model: (request: FastifyRequest) => string; traceProbes?: boolean },
): void {
  const { tracing } = opts;
  // Callback hooks, not async ones: every request runs them, and an async hook costs a promise
  // and a microtask turn each.
  app.addHook('onRequest', (request, _reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    // Probes and /metrics are polled every few seconds: untraced unless asked for (BIGGAN_TRACE_PROBES=1).
    const traced = tracing.enabled && (opts.traceProbes === true || !QUIET_ROUTES.has(route));
    const span = traced
      ? startServerSpan(tracing, `${request.method} ${route}`, tracing.extract(request.headers, headerGetter), {
          'http.request.method': request.method,
          'http.route': route,
          'url.path': request.url.split('?')[0],
          'biggan.request_id': request.id,
        })
      : UNTRACED;
    traces.set(request, new RequestTrace(request.id, span, tracing));
    done();
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    done(null, payload);
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const status = reply.statusCode;
    const rt = traces.get(request);
    const line = {
      route,
      method: request.method,
      // The URL as sent, with secret-looking query parameters (api_key, token, ...) redacted.
      url: redactUrl(request.url),
      status,
      latencyMs: +reply.elapsedTime.toFixed(1),
      ...(rt && rt.images > 0 ? { images: rt.images, model: opts.model(request) } : {}),
      ...(rt?.keyName !== undefined ? { key: rt.keyName } : {}),
    };
    if (QUIET_ROUTES.has(route)) request.log.debug(line, 'request');
    else if (status >= 500) request.log.error(line, 'request');
    else request.log.info(line, 'request');
    if (rt && rt.span !== UNTRACED) {
      rt.span.setAttribute('http.response.status_code', status);
      rt.span.setAttribute('biggan.model', opts.model(request));
      endSpan(rt.span, status >= 500 ? new Error(`HTTP ${status}`) : undefined);
    }
    done();
  });
}
