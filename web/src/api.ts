/**
 * The public REST API as the page uses it: JSON requests, error bodies turned into ApiError (with
 * Retry-After), and API keys: on 401 the page asks for a key, keeps it in sessionStorage and sends
 * it as `Authorization: Bearer KEY`.
 */

const KEY_STORAGE = 'biggan-api-key';

/** An error answer of the API: `{error: {code, message, field}}` plus the HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    /** Seconds from Retry-After (429 and 503), when the server sent it. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Asks the user for a key; resolves to null when they decline. */
export type KeyPrompt = (reason: 'missing' | 'rejected') => Promise<string | null>;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

async function toApiError(res: Response): Promise<ApiError> {
  const retry = res.headers.get('retry-after');
  const retryAfter = retry !== null && /^\d+$/.test(retry.trim()) ? Number(retry) : undefined;
  let code = `HTTP_${res.status}`;
  let message = res.statusText || `HTTP ${res.status}`;
  let field: string | undefined;
  try {
    const body: unknown = await res.json();
    const err = isRecord(body) ? body.error : undefined;
    if (isRecord(err)) {
      if (typeof err.code === 'string') code = err.code;
      if (typeof err.message === 'string') message = err.message;
      if (typeof err.field === 'string') field = err.field;
    }
  } catch {
    // Not JSON (a proxy's HTML page, say): keep the status text.
  }
  return new ApiError(res.status, code, message, field, retryAfter);
}

/** The API client of the page. Paths are relative to the page, so a path prefix in front works. */
export class Api {
  constructor(
    private readonly base: URL,
    private readonly promptKey: KeyPrompt,
  ) {}

  /** The stored API key, if any. */
  key(): string | null {
    return sessionStorage.getItem(KEY_STORAGE);
  }

  /** Absolute URL of an API path (e.g. `v1/generate`). */
  url(path: string): string {
    return new URL(path, this.base).href;
  }

  /** Sends a request; asks for a key on 401 and retries; throws ApiError on any other error answer. */
  async call(path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
    for (;;) {
      const headers: Record<string, string> = {};
      if (body !== undefined) headers['content-type'] = 'application/json';
      const key = this.key();
      if (key) headers.authorization = `Bearer ${key}`;
      const res = await fetch(this.url(path), {
        method: body === undefined ? 'GET' : 'POST',
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(signal ? { signal } : {}),
      });
      if (res.status === 401) {
        const entered = await this.promptKey(key ? 'rejected' : 'missing');
        if (entered === null) throw await toApiError(res);
        sessionStorage.setItem(KEY_STORAGE, entered);
        continue;
      }
      if (!res.ok) throw await toApiError(res);
      return res;
    }
  }

  /** GET a JSON document. */
  async getJson(path: string): Promise<unknown> {
    return (await this.call(path)).json();
  }
}

/** Quotes a word for a POSIX shell. */
function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The curl command sending exactly the page's request (same URL, same JSON body). A key, when one
 * is in use, is referenced as $BIGGAN_API_KEY instead of being pasted into the clipboard.
 */
export function curlCommand(url: string, body: unknown, outFile: string, withKey: boolean): string {
  const parts = ['curl -sS -X POST', shellQuote(url), `-H 'content-type: application/json'`];
  if (withKey) parts.push(`-H "Authorization: Bearer $BIGGAN_API_KEY"`);
  parts.push('-d', shellQuote(JSON.stringify(body)), '-o', shellQuote(outFile));
  return parts.join(' ');
}

/** Copies text to the clipboard (the async Clipboard API, else a hidden textarea). */
export async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const ta = document.createElement('textarea');
    ta.value = text;
    ta.setAttribute('readonly', '');
    ta.style.position = 'fixed';
    ta.style.opacity = '0';
    document.body.append(ta);
    ta.select();
    document.execCommand('copy');
    ta.remove();
  }
}
