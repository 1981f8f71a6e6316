/**
 * `npm run bench -- --oip`: the Open Inference Protocol's overhead. One server; the same work (one
 * seeded 128 image per request, varying class, seed and truncation, answered as one PNG) is sent
 * as POST /generate and as binary OIP requests (INT64 seed, INT32 class_index, FP32 truncation in,
 * the `png` BYTES output as binary data), alternating runs so drift in the machine's speed hits
 * both alike. A third row asks for the `image` UINT8 output (decoded pixels) instead. The cache is
 * off, so every request is computed. Target: OIP at least 95% of /generate's images/s.
 */
import http from 'node:http';
import type { ServerConfig } from '../config/server-config.js';
import { startServer } from '../server/start.js';

const TRUNCATIONS = [0.2, 0.4, 0.55, 0.7, 1.0];

/** One request to send: path, headers and body for request number `n`. */
type RequestOf = (n: number) => { path: string; headers: Record<string, string>; body: Buffer };

/** What one run measured. */
interface Run {
  readonly ok: number;
  readonly failed: number;
  readonly imagesPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

const generateRequest: RequestOf = (n) => ({
  path: '/generate',
  headers: { 'content-type': 'application/json', accept: 'image/png' },
  body: Buffer.from(JSON.stringify({ class: n % 1000, seed: n, truncation: TRUNCATIONS[n % TRUNCATIONS.length] })),
});

/** A binary OIP request (as tritonclient sends it: no Content-Type) for model `model`, asking for `output`. */
function oipRequest(model: string, output: 'png' | 'image'): RequestOf {
  return (n) => {
    const header = Buffer.from(
      JSON.stringify({
        inputs: [
          { name: 'seed', datatype: 'INT64', shape: [1], parameters: { binary_data_size: 8 } },
          { name: 'class_index', datatype: 'INT32', shape: [1], parameters: { binary_data_size: 4 } },
          { name: 'truncation', datatype: 'FP32', shape: [1], parameters: { binary_data_size: 4 } },
        ],
        outputs: [{ name: output, parameters: { binary_data: true } }],
      }),
    );
    const data = Buffer.alloc(16);
    data.writeBigInt64LE(BigInt(n), 0);
    data.writeInt32LE(n % 1000, 8);
    data.writeFloatLE(TRUNCATIONS[n % TRUNCATIONS.length], 12);
    return {
      path: `/v2/models/${model}/infer`,
      headers: { 'inference-header-content-length': String(header.length) },
      body: Buffer.concat([header, data]),
    };
  };
}

function send(agent: http.Agent, port: number, r: ReturnType<RequestOf>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: r.path,
        agent,
        headers: { ...r.headers, 'content-length': r.body.length },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(r.body);
  });
}

/** `concurrency` clients sending `requestOf` back to back for `seconds`; seeds start at `firstSeed` (all unique). */
async function load(
  port: number,
  requestOf: RequestOf,
  concurrency: number,
  seconds: number,
  firstSeed: number,
): Promise<Run> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  let failed = 0;
  let n = firstSeed;
  const t0 = performance.now();
  const client = async () => {
    while (performance.now() - t0 < seconds * 1000) {
      const start = performance.now();
      const status = await send(agent, port, requestOf(n++)).catch(() => 0);
      if (status === 200) latencies.push(performance.now() - start);
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  const elapsed = (performance.now() - t0) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  return {
    ok: latencies.length,
    failed,
    imagesPerSecond: latencies.length / elapsed,
    p50Ms: pct(0.5),
    p99Ms: pct(0.99),
  };
}

/** Runs the comparison at each concurrency and prints one row per mode with OIP's share of /generate. */
export async function runOipBench(
  config: ServerConfig,
  concurrencies: readonly number[],
  seconds: number,
  rounds = 2,
): Promise<void> {
  const server = await startServer({ ...config, cache: { sizeBytes: 0 } }, { logger: false });
  const model = server.catalog.modelInfo().name;
  const modes: [string, RequestOf][] = [
    ['POST /generate (PNG)', generateRequest],
    ['OIP binary, png output', oipRequest(model, 'png')],
    ['OIP binary, image output', oipRequest(model, 'image')],
  ];
  process.stdout.write(
    `OIP vs /generate: one seeded image per request, cache off, ${seconds} s per run, ${rounds} runs per mode (alternating)\n`,
  );
  process.stdout.write(
    'concurrency  mode                        images/s   p50 ms   p99 ms  failed  share of /generate\n',
  );
  let seed = 1;
  try {
    // Warm-up: a short run of each so JIT and sockets start equal.
    for (const [, r] of modes) await load(server.httpPort, r, 2, 1, (seed += 100_000));
    for (const c of concurrencies) {
      const runs = modes.map((): Run[] => []);
      for (let round = 0; round < rounds; round++) {
        for (const [i, [, r]] of modes.entries())
          runs[i].push(await load(server.httpPort, r, c, seconds, (seed += 1_000_000)));
      }
      const mean = (rs: Run[], f: (r: Run) => number) => rs.reduce((a, r) => a + f(r), 0) / rs.length;
      const base = mean(runs[0], (r) => r.imagesPerSecond);
      for (const [i, [name]] of modes.entries()) {
        const ips = mean(runs[i], (r) => r.imagesPerSecond);
        const share =
          i === 0
            ? ''
            : `${((100 * ips) / base).toFixed(1)}%${i === 1 ? (ips >= 0.95 * base ? '  (target >= 95%: met)' : '  (target >= 95%: NOT met)') : ''}`;
        const failed = runs[i].reduce((a, r) => a + r.failed, 0);
        process.stdout.write(
          `${String(c).padStart(11)}  ${name.padEnd(26)} ${ips.toFixed(2).padStart(9)} ${mean(runs[i], (r) => r.p50Ms)
            .toFixed(1)
            .padStart(8)} ${mean(runs[i], (r) => r.p99Ms)
            .toFixed(1)
            .padStart(8)} ${String(failed).padStart(7)}  ${share}\n`,
        );
      }
    }
  } finally {
    await server.stop();
  }
}
