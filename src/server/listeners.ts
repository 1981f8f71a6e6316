/**
 * The three listeners (HTTP API, separate /metrics port, gRPC), each opened by one function that
 * returns its port and its closer, or fails with one message naming the port and what to do.
 */
import type { FastifyInstance } from 'fastify';
import type { GrpcServer } from '../transport/grpc/server.js';
import { BigGanError } from '../errors.js';

/** An open listener. */
export interface Listener {
  readonly port: number;
  /** Stops listening (idempotent). */
  close(): Promise<void>;
}

/** `fn` run at most once; later calls get the first call's promise. */
function once(fn: () => Promise<unknown>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= fn().then(() => undefined));
}

/** Starts `app` on `host:port` (port 0: any free port); on failure the app is closed. */
export async function listenHttp(
  app: FastifyInstance,
  host: string,
  port: number,
  flag: 'http-port' | 'metrics-port',
): Promise<Listener> {
  const close = once(() => app.close());
  try {
    await app.listen({ host, port });
  } catch (err) {
    await close().catch(() => undefined);
    throw listenError('HTTP', host, port, flag, err);
  }
  return { port: (app.server.address() as { port: number }).port, close };
}

/** Binds the gRPC server; closing cuts calls at once (a drain shuts it down with a grace period first). */
export async function listenGrpc(server: GrpcServer, host: string, port: number): Promise<Listener> {
  const close = once(() => server.shutdown(0));
  try {
    return { port: await server.start(host, port), close };
  } catch (err) {
    await close().catch(() => undefined);
    throw listenError('gRPC', host, port, 'grpc-port', err);
  }
}

/** One clear message for a listener that could not start, naming the port and what to do. */
function listenError(what: 'HTTP' | 'gRPC', host: string, port: number, flag: string, err: unknown): BigGanError {
  const text = errorText(err);
  if (text.includes('EADDRINUSE')) {
    return new BigGanError(
      'IO_ERROR',
      `${what} port ${port} is already in use (on ${host}); stop whatever holds it or choose another with --${flag}`,
      { cause: err },
    );
  }
  if (text.includes('EACCES')) {
    return new BigGanError(
      'IO_ERROR',
      `${what} port ${port}: permission denied (ports below 1024 need privileges); choose another with --${flag}`,
      { cause: err },
    );
  }
  if (text.includes('EADDRNOTAVAIL') || text.includes('ENOTFOUND')) {
    return new BigGanError('IO_ERROR', `${what}: cannot listen on ${host}: no such local address; check --host`, {
      cause: err,
    });
  }
  return new BigGanError(
    'IO_ERROR',
    `${what}: cannot listen on ${host}:${port}: ${err instanceof Error ? err.message : String(err)}`,
    { cause: err },
  );
}

/** An error's message, code and causes as one string (grpc-js puts the errno in the message). */
function errorText(err: unknown): string {
  const parts: string[] = [];
  for (let e = err, depth = 0; e !== undefined && depth < 5; depth++) {
    if (!(e instanceof Error)) {
      parts.push(String(e));
      break;
    }
    parts.push(e.message, 'code' in e ? String(e.code) : '');
    e = e.cause;
  }
  return parts.join(' ');
}
