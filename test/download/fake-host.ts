/**
 * Test helpers for the download tests: a local HTTP server on 127.0.0.1 (port 0) that records
 * every request, plus a handler serving files with or without Range support.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

/** One request as the server saw it. */
export interface SeenRequest {
  readonly path: string;
  readonly range: string | undefined;
}

/** A running local server. */
export interface FakeHost {
  /** Base URL, e.g. http://127.0.0.1:12345 (no trailing slash). */
  readonly url: string;
  readonly requests: SeenRequest[];
  close(): Promise<void>;
}

/** Handler of one request; `n` counts requests to the same path, from 0. */
export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void;

/** Starts a server on 127.0.0.1:0 with `handler`. */
export async function startHost(handler: Handler): Promise<FakeHost> {
  const requests: SeenRequest[] = [];
  const counts = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const p = req.url ?? '/';
    requests.push({ path: p, range: req.headers.range });
    const n = counts.get(p) ?? 0;
    counts.set(p, n + 1);
    handler(req, res, n);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Serves `files` (URL path -> bytes): 404 for others; Range honoured unless `ignoreRange`. */
export function serveFiles(files: Record<string, Buffer>, opts: { ignoreRange?: boolean } = {}): Handler {
  return (req, res) => {
    const body = files[req.url ?? ''];
    if (body === undefined) {
      res.writeHead(404).end('not found');
      return;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m && !opts.ignoreRange) {
      const start = Number(m[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, {
        'Content-Length': body.length - start,
        'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}`,
      });
      res.end(body.subarray(start));
      return;
    }
    res.writeHead(200, { 'Content-Length': body.length, 'Content-Type': 'application/octet-stream' });
    res.end(body);
  };
}

/** A port on 127.0.0.1 that nothing listens on (bound, then closed). */
export async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** A fresh temp folder. */
export function tempDir(): Promise<string> {
  return fs.promises.mkdtemp(path.join(os.tmpdir(), 'biggan-dl-'));
}

/** The tiny-128 fixture's config.json bytes (tests run from the repo root). */
export function fixtureConfig(): Buffer {
  return fs.readFileSync(path.join(process.cwd(), 'test', 'fixtures', 'tiny-128', 'config.json'));
}

/** `n` bytes of a fixed, non-repeating-looking pattern (so an offset mistake changes the bytes). */
export function fakeWeights(n: number): Buffer {
  const b = Buffer.alloc(n);
  let x = 0x12345678;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}
