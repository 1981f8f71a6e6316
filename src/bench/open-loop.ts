/**
 * Open-loop overload for `npm run bench -- --overload` and the overload test: requests arrive at
 * Poisson times at a fixed rate whatever the server does (as real users do; a closed loop would
 * slow down with the server and hide overload), and each client gives up after a timeout. One
 * `send` per transport (HTTP POST /generate, gRPC Generate with a deadline) classifies answers.
 */
import http from 'node:http';
import * as grpc from '@grpc/grpc-js';
import type { GeneratorClient } from '../transport/grpc/proto.js';

/** How one request ended, as its client saw it. */
export type Outcome =
  | { readonly kind: 'ok' }
  /** 503 / UNAVAILABLE: refused; `retryAfter` in seconds when the server said. */
  | { readonly kind: 'refused'; readonly retryAfter?: number }
  /** The client gave up (its timeout or deadline passed) or the server answered 504 / DEADLINE_EXCEEDED. */
  | { readonly kind: 'timeout' }
  | { readonly kind: 'error'; readonly code: string };

/** Sends request number `n`; must settle by itself within about `timeoutMs`. */
export type Sender = (n: number, timeoutMs: number) => Promise<Outcome>;

/** What one open-loop run measured (times in ms, rates per second). */
export interface OpenLoopResult {
  readonly seconds: number;
  readonly sent: number;
  /** Answered successfully within the client timeout. */
  readonly ok: number;
  readonly refused: number;
  readonly timedOut: number;
  /** Other failures by code. */
  readonly errors: Record<string, number>;
  /** ok / seconds: answers that reached a client still waiting. */
  readonly goodput: number;
  readonly okMs: Percentiles;
  readonly refusalMs: Percentiles & { readonly max: number };
  /** Mean Retry-After of refusals that carried one, seconds. */
  readonly meanRetryAfter: number;
}

/** Latency percentiles in ms (NaN when no sample). */
export interface Percentiles {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function percentiles(values: number[]): Percentiles {
  const s = [...values].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99) };
}

/** A seeded uniform generator in [0, 1) (xorshift32), so arrival times are reproducible. */
function uniform(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

/**
 * Sends requests at Poisson arrival times, `rate` per second for `seconds`, each given up after
 * `timeoutMs`; resolves when every request has ended. A success later than the timeout (a
 * sender that could not cancel) counts as a timeout.
 */
export async function runOpenLoop(
  send: Sender,
  opts: { rate: number; seconds: number; timeoutMs: number; seed?: number },
): Promise<OpenLoopResult> {
  const rand = uniform(opts.seed ?? 1);
  const okMs: number[] = [];
  const refusalMs: number[] = [];
  const retryAfters: number[] = [];
  const errors: Record<string, number> = {};
  let timedOut = 0;
  const pending: Promise<void>[] = [];
  const t0 = performance.now();
  const end = t0 + opts.seconds * 1000;
  let next = t0;
  for (let n = 0; ; n++) {
    next += (-Math.log(1 - rand()) / opts.rate) * 1000; // exponential inter-arrival time, ms
    if (next >= end) break;
    const wait = next - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const start = performance.now();
    pending.push(
      send(n, opts.timeoutMs).then(
        (outcome) => {
          const ms = performance.now() - start;
          if (outcome.kind === 'ok' && ms <= opts.timeoutMs) okMs.push(ms);
          else if (outcome.kind === 'ok' || outcome.kind === 'timeout') timedOut++;
          else if (outcome.kind === 'refused') {
            refusalMs.push(ms);
            if (outcome.retryAfter !== undefined) retryAfters.push(outcome.retryAfter);
          } else errors[outcome.code] = (errors[outcome.code] ?? 0) + 1;
        },
        (err: unknown) => {
          const code = err instanceof Error ? err.message : String(err);
          errors[code] = (errors[code] ?? 0) + 1;
        },
      ),
    );
  }
  await Promise.all(pending);
  const seconds = opts.seconds; // goodput per second of offered load, not of the tail
  return {
    seconds,
    sent: pending.length,
    ok: okMs.length,
    refused: refusalMs.length,
    timedOut,
    errors,
    goodput: okMs.length / seconds,
    okMs: percentiles(okMs),
    refusalMs: { ...percentiles(refusalMs), max: refusalMs.length > 0 ? Math.max(...refusalMs) : NaN },
    meanRetryAfter: retryAfters.length > 0 ? retryAfters.reduce((a, b) => a + b, 0) / retryAfters.length : NaN,
  };
}

const TRUNCATIONS = [0.2, 0.4, 0.55, 0.7, 1.0];

/**
 * POST /generate of one image per request (class, seed and truncation vary with `n`) on a
 * keep-alive agent without a socket limit; the socket is destroyed at the timeout, as a client
 * that gives up does. `headers` are added (e.g. X-Request-Timeout).
 */
export function httpSender(
  host: string,
  port: number,
  headers: Record<string, string> = {},
): { send: Sender; close(): void } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const send: Sender = (n, timeoutMs) =>
    new Promise<Outcome>((resolve) => {
      const body = JSON.stringify({ class: n % 1000, seed: n, truncation: TRUNCATIONS[n % TRUNCATIONS.length] });
      const req = http.request(
        {
          host,
          port,
          method: 'POST',
          path: '/generate',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            clearTimeout(timer);
            const status = res.statusCode ?? 0;
            if (status === 200) resolve({ kind: 'ok' });
            else if (status === 503) {
              const retryAfter = Number(res.headers['retry-after']);
              resolve({ kind: 'refused', ...(Number.isFinite(retryAfter) ? { retryAfter } : {}) });
            } else if (status === 504) resolve({ kind: 'timeout' });
            else resolve({ kind: 'error', code: `HTTP ${status}` });
          });
          res.on('error', () => undefined); // settled by the timer or 'close'
        },
      );
      const timer = setTimeout(() => {
        req.destroy();
        resolve({ kind: 'timeout' });
      }, timeoutMs);
      req.on('error', (err) => {
        clearTimeout(timer);
        resolve({ kind: 'error', code: (err as NodeJS.ErrnoException).code ?? err.message });
      });
      req.end(body);
    });
  return { send, close: () => agent.destroy() };
}

/** gRPC Generate of one image per request with a deadline of `timeoutMs` from the send. */
export function grpcSender(client: GeneratorClient): Sender {
  return (n, timeoutMs) =>
    new Promise<Outcome>((resolve) => {
      const request = {
        classes: [{ index: n % 1000 }],
        seed: String(n),
        truncation: TRUNCATIONS[n % TRUNCATIONS.length],
      };
      client.Generate(request, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err) => {
        if (!err) resolve({ kind: 'ok' });
        else if (err.code === grpc.status.UNAVAILABLE) {
          const retryAfter = Number(err.metadata?.get('retry-after')[0]);
          resolve({ kind: 'refused', ...(Number.isFinite(retryAfter) ? { retryAfter } : {}) });
        } else if (err.code === grpc.status.DEADLINE_EXCEEDED) resolve({ kind: 'timeout' });
        else resolve({ kind: 'error', code: grpc.status[err.code] ?? String(err.code) });
      });
    });
}
