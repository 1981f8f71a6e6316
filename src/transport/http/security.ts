/**
 * Browser-facing hardening: CORS for an allow-list of origins (@fastify/cors; without one, no
 * CORS headers, so browsers keep other sites' pages from reading answers), and security headers
 * (helmet) on HTML pages only (the playground and Swagger UI): API answers are images
 * and JSON, where those headers cost time on the hot path and protect nothing.
 */
import type { FastifyInstance } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import cors from '@fastify/cors';
import helmet from 'helmet';

/** Headers a browser page may read from answers (seed, request id, quota, retry). */
const EXPOSED = [
  'X-Seed',
  'X-Class',
  'X-Class-Count',
  'X-Request-Id',
  'ETag',
  'Retry-After',
  'RateLimit-Limit',
  'RateLimit-Remaining',
  'RateLimit-Reset',
];

/** Options of `registerSecurity`. */
export interface SecurityOptions {
  /** Origins allowed to call the API from a browser (exact `scheme://host[:port]`); empty: none. */
  readonly corsOrigins: readonly string[];
  /** Served over TLS: send HSTS and ask browsers to upgrade subresources. */
  readonly tls: boolean;
}

/**
 * The Content-Security-Policy of the HTML pages: their own scripts and styles only (the
 * playground and Swagger UI load every script from files, no inline script), inline style
 * attributes (Swagger UI sets them), images from data: and blob: URLs (the playground shows
 * generated images from blobs, Swagger UI its icons from data:), fetches to this origin only.
 */
function csp(tls: boolean): Record<string, string[] | null> {
  return {
    defaultSrc: ["'self'"],
    baseUri: ["'self'"],
    scriptSrc: ["'self'"],
    scriptSrcAttr: ["'none'"],
    styleSrc: ["'self'", "'unsafe-inline'"],
    imgSrc: ["'self'", 'data:', 'blob:'],
    fontSrc: ["'self'", 'data:'],
    connectSrc: ["'self'", 'blob:', 'data:'],
    objectSrc: ["'none'"],
    frameAncestors: ["'none'"],
    formAction: ["'self'"],
    // Over plain HTTP, upgrading would send the page's own requests to an HTTPS port that is not there.
    upgradeInsecureRequests: tls ? [] : null,
  };
}

/** Registers CORS (when origins are given) and helmet's headers for HTML answers. */
export function registerSecurity(app: FastifyInstance, opts: SecurityOptions): void {
  if (opts.corsOrigins.length > 0) {
    app.register(cors, {
      origin: [...opts.corsOrigins],
      methods: ['GET', 'POST', 'OPTIONS'],
      allowedHeaders: [
        'Authorization',
        'X-Api-Key',
        'Content-Type',
        'Accept',
        'X-Request-Id',
        'X-Request-Timeout',
        'If-None-Match',
        'traceparent',
      ],
      exposedHeaders: EXPOSED,
      maxAge: 600,
    });
  }
  // helmet itself (the middleware @fastify/helmet wraps), applied to HTML answers only: the fastify
  // plugin adds two onRequest hooks (one async, building a closure) to every request, API answers
  // included, which cost a cache hit more than the headers are worth where they do nothing.
  const applyHelmet: (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void = helmet({
    contentSecurityPolicy: { useDefaults: false, directives: csp(opts.tls) },
    hsts: opts.tls ? { maxAge: 31_536_000 } : false,
    crossOriginEmbedderPolicy: false,
  });
  const ignore = (): void => undefined;
  app.addHook('onSend', (request, reply, payload, done) => {
    const type = reply.getHeader('content-type');
    if (typeof type === 'string' && type.startsWith('text/html')) applyHelmet(request.raw, reply.raw, ignore);
    done(null, payload);
  });
}
