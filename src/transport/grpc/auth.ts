/**
 * API keys on gRPC: `authorization: Bearer KEY` metadata (or `x-api-key: KEY`) on every
 * biggan.v1.Generator call; health and reflection stay open. Failures are UNAUTHENTICATED
 * (missing or unknown key) or PERMISSION_DENIED (a disabled key).
 */
import type { Metadata } from '@grpc/grpc-js';
import { bearerToken, type AuthFailure, type Caller, type KeyStore } from '../../auth/key-store.js';
import { authError } from '../http/auth.js';

/** What the gRPC server needs to check keys. */
export interface GrpcAuth {
  readonly keys: KeyStore;
  readonly onFailure?: (reason: AuthFailure) => void;
}

function firstString(md: Metadata, key: string): string | undefined {
  const v = md.get(key).find((x): x is string => typeof x === 'string');
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

/** The caller of a call, or a thrown UNAUTHENTICATED / PERMISSION_DENIED BigGanError. */
export function authenticateCall(md: Metadata, auth: GrpcAuth): Caller {
  const key = bearerToken(firstString(md, 'authorization')) ?? firstString(md, 'x-api-key');
  const result = auth.keys.authenticate(key);
  if (result.ok) return result.caller;
  auth.onFailure?.(result.reason);
  throw authError(result.reason, result.name);
}
