/**
 * HTTP load for `npm run bench` and the load test: `concurrency` clients, each sending POST
 * /generate back to back for `seconds` (bounded in time and, optionally, count), one image per
 * request with a varying class, seed and truncation. Latencies are recorded per request, so the
 * percentiles are exact.
 */
import http from 'node:http';

/** What one load level measured. */
export interface LoadResult {
  readonly concurrency: number;
  readonly seconds: number;
  readonly ok: number;
  /** Answers by status code other than 200 (e.g. 503 under overload). */
  readonly statuses: Record<string, number>;
  readonly errors: number;
  readonly imagesPerSecond: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
}

const TRUNCATIONS = [0.2, 0.4, 0.55, 0.7, 1.0];

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function postOnce(agent: http.Agent, host: string, port: number, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host,
        port,
        method: 'POST',
        path: '/generate',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Drives POST /generate on `host:port` at `concurrency` for `seconds` (and at most `maxRequests`); `fields` are added to every body (e.g. `model`). */
export async function runHttpLoad(
  host: string,
  port: number,
  concurrency: number,
  seconds: number,
  maxRequests = Infinity,
  fields: Record<string, unknown> = {},
): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  let sent = 0;
  let ok = 0;
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  const client = async () => {
    while (performance.now() < deadline && sent < maxRequests) {
      const n = sent++;
      const body = JSON.stringify({
        class: n % 1000,
        seed: n,
        truncation: TRUNCATIONS[n % TRUNCATIONS.length],
        ...fields,
      });
      const start = performance.now();
      try {
        const status = await postOnce(agent, host, port, body);
        if (status === 200) {
          ok++;
          latencies.push(performance.now() - start);
        } else {
          statuses[status] = (statuses[status] ?? 0) + 1;
        }
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  const elapsed = (performance.now() - t0) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    concurrency,
    seconds: elapsed,
    ok,
    statuses,
    errors,
    imagesPerSecond: ok / elapsed,
    p50Ms: percentile(latencies, 50),
    p95Ms: percentile(latencies, 95),
    p99Ms: percentile(latencies, 99),
  };
}
