/**
 * Request ids: the client's `X-Request-Id` when it is safe to log and echo (at most 128
 * characters of `A-Z a-z 0-9 . _ : -`), otherwise a fresh UUID.
 */
import { randomUUID } from 'node:crypto';

/** Header (HTTP) and metadata key (gRPC) of the request id. */
export const REQUEST_ID_HEADER = 'x-request-id';

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The client's id when it is a safe single value, else a new UUID. */
export function requestIdFrom(value: unknown): string {
  const v = Array.isArray(value) ? (value.length === 1 ? value[0] : undefined) : value;
  return typeof v === 'string' && SAFE_ID.test(v) ? v : randomUUID();
}
