/**
 * Errors under /openai/v1 in OpenAI's shape, `{ error: { message, type, param, code } }`, which
 * the SDKs turn into BadRequestError, AuthenticationError, RateLimitError and so on by status.
 * Every refusal is still raised and answered by the app's one error handler (same statuses,
 * Retry-After, RateLimit-*, WWW-Authenticate, logs and metrics); a preSerialization hook of this
 * prefix only rewrites the body, so the API-key check, the contract check, fastify's own client
 * errors and our refusals all come out in this shape here and nowhere else.
 */
import type { FastifyInstance } from 'fastify';
import type { OpenAiError } from './schemas.js';

/** The native error body (src/transport/http/errors.ts). */
interface NativeError {
  readonly error: { readonly code: string; readonly message: string; readonly field?: string };
}

function isNativeError(payload: unknown): payload is NativeError {
  const e = (payload as { error?: unknown } | null)?.error as Record<string, unknown> | undefined;
  return (
    typeof e === 'object' && e !== null && typeof e.code === 'string' && typeof e.message === 'string' && !('type' in e)
  );
}

/** OpenAI's error `type` for an HTTP status. */
export function errorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 429) return 'rate_limit_error';
  return status >= 500 ? 'server_error' : 'invalid_request_error';
}

/** OpenAI's `code` where it has a well-known one, else ours in lower case. */
function errorCode(code: string, param: string | null): string {
  if (code === 'UNAUTHENTICATED') return 'invalid_api_key';
  if (code === 'RATE_LIMITED') return 'rate_limit_exceeded';
  if (code === 'NOT_FOUND' && param === 'model') return 'model_not_found';
  return code.toLowerCase();
}

/** The request field at fault, by OpenAI's names: the native `count` is `n`, a native `class` the prompt. */
function paramOf(field: string | undefined): string | null {
  if (field === undefined) return null;
  if (field === 'count') return 'n';
  if (/^class\b/.test(field)) return 'prompt';
  return field;
}

/** An OpenAI error body. */
export function openAiError(status: number, code: string, message: string, field?: string): OpenAiError {
  const param = paramOf(field);
  return { error: { message, type: errorType(status), param, code: errorCode(code, param) } };
}

/**
 * Installs the OpenAI error shape on `app` (an encapsulated plugin under the prefix): the body
 * rewrite, and 404 / 405 (with Allow) for paths under the prefix that match no route.
 */
export function useOpenAiErrors(app: FastifyInstance): void {
  app.addHook('preSerialization', async (_request, reply, payload) =>
    reply.statusCode >= 400 && isNativeError(payload)
      ? openAiError(reply.statusCode, payload.error.code, payload.error.message, payload.error.field)
      : payload,
  );
  const methods = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    const set = methods.get(route.url) ?? new Set<string>();
    for (const m of [route.method].flat()) set.add(m);
    methods.set(route.url, set);
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    const allowed = methods.get(path);
    reply.header('Cache-Control', 'no-store');
    if (allowed) {
      const allow = [...allowed].sort().join(', ');
      return reply
        .status(405)
        .header('Allow', allow)
        .send(openAiError(405, 'METHOD_NOT_ALLOWED', `${path} does not answer ${request.method}; allowed: ${allow}`));
    }
    return reply
      .status(404)
      .send(
        openAiError(
          404,
          'NOT_FOUND',
          `no route ${request.method} ${path.slice(0, 200)}; ` +
            'this API answers POST /openai/v1/images/generations and GET /openai/v1/models',
        ),
      );
  });
}
