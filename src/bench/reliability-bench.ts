/**
 * `npm run bench -- --reliability`: the two event-loop and memory guarantees at full size.
 * - Stalled readers: 40 clients ask for the same cached seeded answer (count 16 as JSON, about
 *   13 MB: 16 images of 600 KB, about the size of a 512 px PNG) and read nothing past the first chunk.
 *   Reports the server's RSS growth, /healthz latency meanwhile, and whether the send timeout
 *   closed them.
 * - Huge invalid bodies: four at once (a 150,000-key class mixture, the same with index keys, a
 *   200,000-item class list, one z row of 400,000 values); reports each status and time and the
 *   slowest /healthz meanwhile.
 * The HTTP app, response cache and contract are the real ones; the images come from a synthetic
 * generator (random bytes) so that the answer's size is that of the 512 model without its 60 s of
 * CPU per batch: what is measured is what happens after the images exist.
 */
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { buildHttpApp } from '../transport/http/app.js';
import { createMetrics } from '../metrics/metrics.js';
import { CachingService } from '../service/cache/caching-service.js';
import { listClasses } from '../latents/imagenet-classes.js';
import type { CachedModel } from '../service/cache/caching-service.js';
import type {
  Catalog,
  ClassInfo,
  GenerateRequest,
  GenerateResult,
  InterpolateResult,
  ModelInfo,
  ModelStatus,
} from '../service/types.js';

/** 16 of these as base64 JSON make the 13 MB answer. */
const IMAGE_BYTES = 600 * 1024;

/** A generator whose images are random bytes of a 512 px PNG's size (no engine). */
class SyntheticImages implements CachedModel, Catalog {
  readonly model: ModelInfo = {
    name: 'synthetic-512',
    resolution: 512,
    zDim: 128,
    numClasses: 1000,
    parameters: 0,
    engine: 'synthetic',
    backend: 'none',
    maxSamplesPerRequest: 16,
    maxBatchSize: 16,
    truncation: { min: 0, max: 1, default: 0.4 },
    formats: ['png', 'jpeg', 'webp'],
  };

  isReady(): boolean {
    return true;
  }

  accepting(): boolean {
    return true;
  }

  modelInfo(): ModelInfo {
    return this.model;
  }

  modelLabel(): string {
    return this.model.name;
  }

  listModels(): readonly ModelStatus[] {
    return [
      {
        ...this.model,
        state: 'ready',
        default: true,
        maxQueueDelayMs: 0,
        maxQueueSize: 0,
        servingFrom: 'default',
        memoryEstimateBytes: 0,
      },
    ];
  }

  async generate(req: GenerateRequest): Promise<GenerateResult> {
    const n = Array.isArray(req.z) ? req.z.length : 1;
    const images = Array.from({ length: n }, (_, index) => ({
      data: randomBytes(IMAGE_BYTES),
      mimeType: 'image/png',
      truncation: 0.4,
      class: { '1': 1 },
      index,
    }));
    return { images, width: 512, height: 512 };
  }

  interpolate(): Promise<InterpolateResult> {
    return Promise.reject(new Error('not measured'));
  }

  listClasses(): readonly ClassInfo[] {
    return listClasses();
  }

  onReadinessChange(): void {}
}

function rssMiB(): number {
  return process.memoryUsage().rss / 2 ** 20;
}

/** Latencies of /healthz polled every 20 ms until `stop` resolves. */
async function pollHealthz(base: string, stop: Promise<unknown>): Promise<number[]> {
  let done = false;
  void stop.finally(() => (done = true));
  const out: number[] = [];
  while (!done) {
    const t0 = performance.now();
    await (await fetch(`${base}/healthz`)).arrayBuffer();
    out.push(performance.now() - t0);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return out;
}

/** A client that asks for `body`'s answer and stops reading after the first chunk. */
function stalledReader(port: number, body: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(
        `POST /generate HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    });
    socket.once('error', reject);
    socket.once('data', () => {
      socket.pause();
      resolve(socket);
    });
  });
}

async function stalledReaders(clients: number, sendTimeoutMs: number): Promise<void> {
  const images = new SyntheticImages();
  const cache = new CachingService(images, {
    maxBytes: 512 * 2 ** 20,
    keyContext: { modelDigest: 'bench', encoderId: 'bench' },
  });
  const app = buildHttpApp(cache, images, createMetrics(), {
    bodyLimitBytes: 4 * 2 ** 20,
    version: 'bench',
    send: { sendTimeoutMs },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as { port: number }).port;
  const base = `http://127.0.0.1:${port}`;
  const body = JSON.stringify({ class: 207, seed: '7', count: 16 });
  const first = await fetch(`${base}/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body,
  });
  const answerMB = (await first.arrayBuffer()).byteLength / 1e6;
  global.gc?.();
  const before = rssMiB();
  const open = () => new Promise<number>((resolve) => app.server.getConnections((_e, n) => resolve(n)));
  const idle = await open(); // keep-alive connections of the fetches
  const connecting = Promise.all(Array.from({ length: clients }, () => stalledReader(port, body)));
  const settle = connecting.then(() => new Promise((resolve) => setTimeout(resolve, 2000)));
  const healthz = await pollHealthz(base, settle);
  const sockets = await connecting;
  const peak = rssMiB();
  const openBefore = (await open()) - idle;
  const t0 = performance.now();
  while ((await open()) > idle + 1 && performance.now() - t0 < sendTimeoutMs + 10_000)
    await new Promise((resolve) => setTimeout(resolve, 100));
  const openAfter = Math.max(0, (await open()) - idle - 1);
  process.stdout.write(
    `stalled readers: ${clients} clients of one cached ${answerMB.toFixed(1)} MB answer: RSS +${(peak - before).toFixed(0)} MiB ` +
      `(${before.toFixed(0)} -> ${peak.toFixed(0)} MiB), /healthz max ${Math.max(...healthz).toFixed(0)} ms over ${healthz.length} probes; ` +
      `stalled connections ${openBefore} -> ${openAfter} within ${((performance.now() - t0) / 1000).toFixed(1)} s (send timeout ${sendTimeoutMs} ms)\n`,
  );
  for (const s of sockets) s.destroy();
  await app.close();
}

async function hugeBodies(): Promise<void> {
  const images = new SyntheticImages();
  const service = new CachingService(images, { maxBytes: 0, keyContext: { modelDigest: 'bench', encoderId: 'bench' } });
  const app = buildHttpApp(service, images, createMetrics(), { bodyLimitBytes: 4 * 2 ** 20, version: 'bench' });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const mixture = (n: number, key: (i: number) => string) =>
    JSON.stringify({ class: Object.fromEntries(Array.from({ length: n }, (_, i) => [key(i), 1])) });
  const bodies: [string, string][] = [
    ['150,000-key mixture', mixture(150_000, (i) => `k${i}`)],
    ['150,000 index keys', mixture(150_000, (i) => String(i))],
    ['200,000-item class list', JSON.stringify({ class: Array.from({ length: 200_000 }, (_, i) => i % 1000) })],
    ['400,000-value z row', JSON.stringify({ z: [Array.from({ length: 400_000 }, () => 0.123456789)] })],
  ];
  await fetch(`${base}/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"class": "warm-up"}',
  });
  const t0 = performance.now();
  const all = Promise.all(
    bodies.map(async ([name, body]) => {
      const res = await fetch(`${base}/generate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      await res.arrayBuffer();
      return `${name} (${(body.length / 1e6).toFixed(1)} MB) ${res.status} in ${(performance.now() - t0).toFixed(0)} ms`;
    }),
  );
  const healthz = await pollHealthz(base, all);
  process.stdout.write(
    `huge bodies, four at once: ${(await all).join('; ')}; /healthz max ${Math.max(...healthz).toFixed(0)} ms over ${healthz.length} probes\n`,
  );
  await app.close();
}

/** Runs both measurements and prints one line each. */
export async function runReliabilityBench(opts: { clients: number; sendTimeoutMs: number }): Promise<void> {
  await stalledReaders(opts.clients, opts.sendTimeoutMs);
  await hugeBodies();
}
