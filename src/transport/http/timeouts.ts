/**
 * Bounding how long a client may take to send its request, and answering the connection-level
 * failures Node reports before fastify sees a request (a request not received in time, a malformed
 * one, oversized headers) in the API's JSON error form, counted in the metrics.
 *
 * Node's HTTP server measures `headersTimeout` (request line and headers) and `requestTimeout`
 * (the whole request, headers and body) from the request's first byte; on expiry it emits
 * `clientError` with ERR_HTTP_REQUEST_TIMEOUT and we answer 408 and close the socket. Both stop
 * counting once the request has been received, so a request that then waits in the queue or runs
 * long is never cut by them. Node checks for expiry every `connectionsCheckingInterval` ms (30 s
 * by default, far coarser than the timeouts), so the interval is derived from the timeout.
 */
import type { ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import type { Metrics } from '../../metrics/metrics.js';
import { ERROR_TABLE } from '../../errors.js';
import { errorPayload } from './errors.js';

/** Default time to receive a whole request (headers and body), ms: a 4 MiB body at about 1 Mbit/s. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** Default time to receive the request line and headers, ms. */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;

/** The request-receiving limits of the HTTP server, ms. */
export interface RequestTimeouts {
  readonly requestTimeoutMs: number;
  readonly headersTimeoutMs: number;
}

/**
 * Node http.ServerOptions enforcing `t`: headers within `headersTimeoutMs` (capped at the request
 * timeout, as Node requires), the whole request within `requestTimeoutMs`, checked every quarter
 * of the shorter one (between 10 ms and 1 s) instead of Node's 30 s. Measured: 300 clients dripping
 * a byte a second all got 408 at 31.2 s with the 30 s default.
 */
export function serverTimeoutOptions(t: RequestTimeouts): ServerOptions {
  const headersTimeout = Math.min(t.headersTimeoutMs, t.requestTimeoutMs);
  return {
    requestTimeout: t.requestTimeoutMs,
    headersTimeout,
    connectionsCheckingInterval: Math.min(1000, Math.max(10, Math.floor(headersTimeout / 4))),
  };
}

/** A Node connection-level error as it reaches `clientError`. */
type ConnectionError = Error & { code?: string };

/** True when a response is already being written on `socket` (a second one would corrupt it). */
function responseStarted(socket: Socket): boolean {
  // Node keeps the in-flight ServerResponse on the socket; not part of its typed API.
  const message: unknown = Reflect.get(socket, '_httpMessage');
  return typeof message === 'object' && message !== null && 'headersSent' in message && message.headersSent === true;
}

/** Writes a complete HTTP/1.1 error answer on a raw socket (unless one is under way) and closes it. */
function answerRaw(socket: Socket, status: number, reason: string, body: unknown): void {
  if (socket.writable && !responseStarted(socket)) {
    const text = JSON.stringify(body);
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
    );
  }
  socket.destroy();
}

/**
 * fastify's `clientErrorHandler`: 408 for a request not received in time, 431 for oversized
 * headers, 400 for anything unparsable; each in the API's error form, closing the socket, and
 * counted in biggan_requests_total (route "unmatched") and biggan_rejections_total.
 */
export function clientErrorHandler(
  metrics: Pick<Metrics, 'requests' | 'rejections'>,
  timeouts: RequestTimeouts,
): (err: ConnectionError, socket: Socket) => void {
  return (err, socket) => {
    // A reset or already-closed connection has no one to answer.
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    let status: number;
    let reason: string;
    let body: unknown;
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      status = 408;
      reason = 'Request Timeout';
      body = errorPayload(
        'REQUEST_TIMEOUT',
        `the request was not received in time: headers within ${Math.min(timeouts.headersTimeoutMs, timeouts.requestTimeoutMs)} ms and the whole request within ${timeouts.requestTimeoutMs} ms`,
      );
      metrics.rejections.inc({ reason: ERROR_TABLE.REQUEST_TIMEOUT.reason });
    } else if (err.code === 'HPE_HEADER_OVERFLOW') {
      status = 431;
      reason = 'Request Header Fields Too Large';
      body = errorPayload('INVALID_ARGUMENT', 'the request headers are larger than the server accepts');
      metrics.rejections.inc({ reason: ERROR_TABLE.INVALID_ARGUMENT.reason });
    } else {
      status = 400;
      reason = 'Bad Request';
      body = errorPayload('INVALID_ARGUMENT', 'the request is not valid HTTP/1.1');
      metrics.rejections.inc({ reason: ERROR_TABLE.INVALID_ARGUMENT.reason });
    }
    metrics.requests.inc({ transport: 'http', route: 'unmatched', status: String(status) });
    answerRaw(socket, status, reason, body);
  };
}
