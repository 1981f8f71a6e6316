/**
 * A typed client for the REST API, for Node 20+ and browsers (global fetch). Its request types are
 * the contract's (src/service/contract/schemas.ts), so a field added to the schema appears here
 * too; errors come back as BigGanError with the server's code, message and field.
 */
import type { GenerateRequest, InterpolateRequest, ImageJson } from '../service/contract/schemas.js';
import { BigGanError, ERROR_TABLE, type ErrorCode } from '../errors.js';

/** Options of a client. */
export interface RestClientOptions {
  /** Sent as `Authorization: Bearer KEY` when the server requires API keys. */
  readonly apiKey?: string;
  /** Client deadline sent as `X-Request-Timeout`, ms. */
  readonly timeoutMs?: number;
  /** fetch implementation (default: the global one). */
  readonly fetch?: typeof fetch;
}

/** One encoded image and how to reproduce it. */
export interface ClientImage {
  readonly bytes: Uint8Array;
  readonly mimeType: string;
  readonly seed?: number | string;
  readonly truncation: number;
  readonly class: Record<string, number>;
}

/** A REST client bound to a server's base URL (e.g. `http://localhost:8080`). */
export interface RestClient {
  /** Every image of a generate request (several samples come as JSON; one is asked for as JSON too). */
  generate(req: GenerateRequest): Promise<ClientImage[]>;
  /** One combined image: the grid of a `grid` request. */
  generateGrid(req: GenerateRequest): Promise<Uint8Array>;
  /** An interpolation's frames. */
  interpolateFrames(req: InterpolateRequest): Promise<ClientImage[]>;
  /** An interpolation as one animation (GIF or WebP) or grid. */
  interpolateAnimation(req: InterpolateRequest): Promise<Uint8Array>;
  /** What the server serves. */
  models(): Promise<{ models: Record<string, unknown>[] }>;
  classes(): Promise<{ classes: { index: number; wnid: string; names: string[] }[] }>;
}

const KNOWN_CODES = new Set(Object.keys(ERROR_TABLE));

function toImage(img: ImageJson): ClientImage {
  return {
    bytes: Uint8Array.from(atob(img.data), (c) => c.charCodeAt(0)),
    mimeType: img.mimeType,
    ...(img.seed !== undefined ? { seed: img.seed } : {}),
    truncation: img.truncation,
    class: img.class,
  };
}

/** Creates a client for `baseUrl`. */
export function createRestClient(baseUrl: string, opts: RestClientOptions = {}): RestClient {
  const doFetch = opts.fetch ?? fetch;
  const headers = (accept: string): Record<string, string> => ({
    'content-type': 'application/json',
    accept,
    ...(opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {}),
    ...(opts.timeoutMs !== undefined ? { 'x-request-timeout': String(opts.timeoutMs) } : {}),
  });
  async function call(method: 'GET' | 'POST', path: string, accept: string, body?: unknown): Promise<Response> {
    const res = await doFetch(new URL(path, baseUrl), {
      method,
      headers: headers(accept),
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (res.ok) return res;
    let code: ErrorCode = 'INTERNAL';
    let message = `HTTP ${res.status}`;
    let field: string | undefined;
    try {
      const err = ((await res.json()) as { error?: { code?: string; message?: string; field?: string } }).error;
      if (err?.code && KNOWN_CODES.has(err.code)) code = err.code as ErrorCode;
      if (err?.message) message = err.message;
      field = err?.field;
    } catch {
      // not JSON: keep the status line
    }
    const retry = Number(res.headers.get('retry-after'));
    throw new BigGanError(code, message, {
      ...(field ? { field } : {}),
      ...(Number.isFinite(retry) && retry > 0 ? { retryAfterSeconds: retry } : {}),
    });
  }
  const bytes = async (res: Response) => new Uint8Array(await res.arrayBuffer());
  return {
    async generate(req) {
      const res = await call('POST', '/v1/generate', 'application/json', req);
      return ((await res.json()) as { images: ImageJson[] }).images.map(toImage);
    },
    async generateGrid(req) {
      return bytes(await call('POST', '/v1/generate', 'image/*', { ...req, grid: true }));
    },
    async interpolateFrames(req) {
      const res = await call('POST', '/v1/interpolate', 'application/json', req);
      return ((await res.json()) as { frames: ImageJson[] }).frames.map(toImage);
    },
    async interpolateAnimation(req) {
      return bytes(await call('POST', '/v1/interpolate', 'image/*', req));
    },
    async models() {
      return (await call('GET', '/v1/models', 'application/json')).json() as Promise<{
        models: Record<string, unknown>[];
      }>;
    },
    async classes() {
      return (await call('GET', '/v1/classes', 'application/json')).json() as Promise<{
        classes: { index: number; wnid: string; names: string[] }[];
      }>;
    },
  };
}
