/**
 * Keeping secrets out of request logs: query parameters that look like credentials (`api_key`,
 * `token`, `password`, ...) are logged as REDACTED. Clients do put keys in URLs (webhooks, some
 * SDKs, curl one-liners), and logs are kept longer and read by more people than the requests.
 */

/** The request fields the log serializer reads (a fastify request has them). */
export interface LoggedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly host?: string;
  readonly ip?: string;
  readonly socket?: { readonly remotePort?: number };
}

/** What replaces a secret value. */
export const REDACTED = 'REDACTED';

/** Parameter names (lower case, `-` as `_`) that always hold secrets. */
const SECRET_NAMES = new Set([
  'api_key',
  'apikey',
  'key',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'auth',
  'authorization',
  'password',
  'passwd',
  'pwd',
  'secret',
  'client_secret',
  'signature',
  'sig',
  'session',
  'sessionid',
  'credential',
  'credentials',
  'jwt',
  'bearer',
  'x_api_key',
  'private_key',
]);
/** Name endings that mark a secret too (`github_token`, `aws_secret`, `db_password`, `my_api_key`). */
const SECRET_SUFFIX = /_(?:key|token|secret|password|passwd|signature|credentials?)$/;

/**
 * True for every query that could hold a secret name: some fragment of each SECRET_NAMES entry and
 * suffix (case-insensitive), an escape or `+` (a name written encoded is judged after decoding), or
 * any character outside printable ASCII (some lower-case to ASCII letters, e.g. the Kelvin sign to `k`).
 */
const MAYBE_SECRET = /key|token|auth|pass|pwd|secret|sig|session|credential|jwt|bearer|%|\+|[^ -~]/i;

function isSecretName(rawName: string): boolean {
  let name = rawName;
  try {
    name = decodeURIComponent(rawName.replace(/\+/g, ' '));
  } catch {
    // A malformed escape: judge the raw text.
  }
  const norm = name.trim().toLowerCase().replace(/-/g, '_');
  return SECRET_NAMES.has(norm) || SECRET_SUFFIX.test(norm);
}

/**
 * `url` (path and query) with the value of every secret-looking query parameter replaced by
 * REDACTED; everything else is kept byte for byte (no re-encoding).
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const hash = url.indexOf('#', q);
  const query = url.slice(q + 1, hash < 0 ? undefined : hash);
  // Every request's log line passes here: a query naming nothing secret-looking (the common
  // `class=207&seed=7&truncation=0.4`) is returned as it is, without splitting it.
  if (!MAYBE_SECRET.test(query)) return url;
  const parts = query.split('&').map((part) => {
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    return eq >= 0 && isSecretName(name) ? `${name}=${REDACTED}` : part;
  });
  return `${url.slice(0, q)}?${parts.join('&')}${hash < 0 ? '' : url.slice(hash)}`;
}

/** fastify's request log serializer with the URL redacted (same fields as fastify's default). */
export function redactedRequestSerializer(req: LoggedRequest): Record<string, unknown> {
  return {
    method: req.method,
    url: redactUrl(req.url),
    version: req.headers['accept-version'],
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}
