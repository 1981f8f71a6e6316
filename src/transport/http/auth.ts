/**
 * API keys on the REST API: an onRequest hook (before the body is read) that checks
 * `Authorization: Bearer KEY` or `x-api-key: KEY` on the API routes, and answers 401 +
 * `WWW-Authenticate: Bearer` (missing or unknown key) or 403 (a disabled key) through the error
 * handler. Probes, static pages (playground, docs, the OpenAPI document) and CORS preflights stay
 * open; /metrics has its own token (`metricsTokenHook`). The key's name goes on the request's
 * log line; the key itself never does.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BigGanError } from '../../errors.js';
import { bearerToken, type AuthFailure, type Caller, type KeyStore } from '../../auth/key-store.js';
import { requestTraceOf } from './observer.js';

/** Routes that compute or describe the model: a key is needed when keys are on. */
const PROTECTED = /^\/(generate|interpolate|v1\/|openai\/v1\/|v2\/models\/)/;

const callers = new WeakMap<FastifyRequest, Caller>();

/** The caller of an authenticated request (undefined when keys are off). */
export function callerOf(request: FastifyRequest): Caller | undefined {
  return callers.get(request);
}

/** The key a request presents: Bearer in Authorization, else x-api-key. */
export function presentedKey(headers: FastifyRequest['headers']): string | undefined {
  const bearer = bearerToken(typeof headers.authorization === 'string' ? headers.authorization : undefined);
  if (bearer !== undefined) return bearer;
  const x = headers['x-api-key'];
  return typeof x === 'string' && x.trim() !== '' ? x.trim() : undefined;
}

/** The refusal for a failed check: 401 (missing, unknown) or 403 (disabled). */
export function authError(reason: AuthFailure, name?: string): BigGanError {
  if (reason === 'disabled')
    return new BigGanError('PERMISSION_DENIED', `API key ${name ?? ''} is disabled`.replace('  ', ' '));
  if (reason === 'missing')
    return new BigGanError(
      'UNAUTHENTICATED',
      'an API key is required: send Authorization: Bearer KEY (or x-api-key: KEY)',
    );
  return new BigGanError('UNAUTHENTICATED', 'the API key is not valid');
}

/**
 * Adds the API-key check to `app`'s API routes. It runs as the first preParsing hook: after every
 * onRequest hook (so a 401 still carries CORS headers a browser page can read), before the body
 * is read.
 */
export function requireApiKeys(app: FastifyInstance, keys: KeyStore, onFailure: (reason: AuthFailure) => void): void {
  // A callback hook (the check is synchronous): an async one costs every request a promise and a
  // microtask turn.
  app.addHook('preParsing', (request, _reply, payload, done) => {
    if (request.method === 'OPTIONS') return done(null, payload); // CORS preflights carry no credentials
    const route = request.routeOptions.url;
    if (route === undefined || !PROTECTED.test(route)) return done(null, payload);
    const result = keys.authenticate(presentedKey(request.headers));
    if (!result.ok) {
      onFailure(result.reason);
      const rt = requestTraceOf(request);
      if (rt && result.name !== undefined) rt.keyName = result.name;
      return done(authError(result.reason, result.name));
    }
    callers.set(request, result.caller);
    const rt = requestTraceOf(request);
    if (rt) rt.keyName = result.caller.name;
    done(null, payload);
  });
}

/** Constant-time comparison of two secrets of any length (compares their SHA-256). */
export function sameSecret(a: string, b: string): boolean {
  const h = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(h(a), h(b));
}

/**
 * A preHandler for /metrics requiring `Authorization: Bearer TOKEN` (Prometheus's
 * `authorization.credentials`); 401 without it, and with a wrong one.
 */
export function metricsTokenHook(token: string, onFailure: (reason: 'metrics_token') => void) {
  return async (request: FastifyRequest): Promise<void> => {
    const sent = bearerToken(
      typeof request.headers.authorization === 'string' ? request.headers.authorization : undefined,
    );
    if (sent !== undefined && sameSecret(sent, token)) return;
    onFailure('metrics_token');
    throw new BigGanError(
      'UNAUTHENTICATED',
      sent === undefined
        ? '/metrics needs Authorization: Bearer TOKEN (--metrics-token)'
        : 'the metrics token is not valid',
    );
  };
}
