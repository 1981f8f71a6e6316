import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { BigGanError } from '../../src/errors.js';
import { downloadModel, resolveBaseUrl, DEFAULT_BASE_URL, type DownloadProgress } from '../../src/download/download.js';
import { isModelCached } from '../../src/download/cache.js';
import { closedPort, fakeWeights, fixtureConfig, serveFiles, startHost, tempDir } from './fake-host.js';

const NAME = 'biggan-deep-128';
const CONFIG_PATH = `/${NAME}-config.json`;
const BIN_PATH = `/${NAME}-pytorch_model.bin`;
const BIN = fakeWeights(3 * 1024 * 1024 + 17);
const CONFIG = fixtureConfig();

function isIoError(re: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof BigGanError, `expected a BigGanError, got ${String(e)}`);
    assert.equal(e.code, 'IO_ERROR');
    assert.match(e.message, re);
    return true;
  };
}

const exists = (p: string) => fs.existsSync(p);

describe('downloadModel', () => {
  let cache: string;
  before(async () => {
    cache = await tempDir();
  });
  after(async () => {
    await fs.promises.rm(cache, { recursive: true, force: true });
  });
  // A fresh model folder per test: each test gets its own cache subfolder.
  let seq = 0;
  const freshCache = () => path.join(cache, String(seq++));

  it('downloads both files, byte-identical, and reports progress', async () => {
    const host = await startHost(serveFiles({ [CONFIG_PATH]: CONFIG, [BIN_PATH]: BIN }));
    try {
      const events: DownloadProgress[] = [];
      const dir0 = freshCache();
      const { dir, files } = await downloadModel(NAME, {
        cacheDir: dir0,
        baseUrl: host.url + '/',
        onProgress: (p) => events.push(p),
      });
      assert.equal(dir, path.join(dir0, NAME));
      assert.deepEqual(fs.readFileSync(path.join(dir, 'config.json')), CONFIG);
      assert.ok(fs.readFileSync(path.join(dir, 'pytorch_model.bin')).equals(BIN));
      assert.deepEqual(
        files.map((f) => [f.name, f.bytes, f.fetched]),
        [
          ['config.json', CONFIG.length, true],
          ['pytorch_model.bin', BIN.length, true],
        ],
      );
      assert.ok(isModelCached(dir));
      // Each file with the marker recording its SHA-256; no lock, no .partial left.
      assert.deepEqual(fs.readdirSync(dir).sort(), [
        'config.json',
        'config.json.verified',
        'pytorch_model.bin',
        'pytorch_model.bin.verified',
      ]);
      // A trailing slash on the base URL does not produce '//' paths.
      assert.deepEqual(
        host.requests.map((r) => r.path),
        [CONFIG_PATH, BIN_PATH],
      );
      const bin = events.filter((e) => e.file === 'pytorch_model.bin');
      const transfers = bin.filter((e) => e.phase === 'transfer');
      assert.ok(transfers.length > 1);
      for (let i = 1; i < transfers.length; i++) assert.ok(transfers[i].bytesDone > transfers[i - 1].bytesDone);
      assert.ok(transfers.every((e) => e.bytesTotal === BIN.length));
      assert.deepEqual(
        { ...bin.at(-1), elapsedMs: 0 },
        {
          file: 'pytorch_model.bin',
          phase: 'done',
          bytesDone: BIN.length,
          bytesTotal: BIN.length,
          resumedFrom: 0,
          elapsedMs: 0,
        },
      );

      // Second run: everything is cached, nothing is requested.
      const again = await downloadModel(NAME, { cacheDir: dir0, baseUrl: host.url });
      assert.deepEqual(
        again.files.map((f) => f.fetched),
        [false, false],
      );
      assert.equal(host.requests.length, 2);
    } finally {
      await host.close();
    }
  });

  it('resumes with a Range request after the server cut the connection', async () => {
    const host = await startHost((req, res, n) => {
      if (req.url === BIN_PATH && n === 0) {
        // First try: announce the whole file, send half, then drop the connection.
        res.writeHead(200, { 'Content-Length': BIN.length });
        res.write(BIN.subarray(0, BIN.length >> 1), () => setTimeout(() => res.socket?.destroy(), 50));
        return;
      }
      serveFiles({ [CONFIG_PATH]: CONFIG, [BIN_PATH]: BIN })(req, res, n);
    });
    try {
      const dir0 = freshCache();
      const dir = path.join(dir0, NAME);
      await assert.rejects(downloadModel(NAME, { cacheDir: dir0, baseUrl: host.url }), isIoError(/resume/));
      // Failed: only the .partial, never a final file.
      assert.ok(!exists(path.join(dir, 'pytorch_model.bin')));
      assert.ok(!isModelCached(dir));
      const partialSize = fs.statSync(path.join(dir, 'pytorch_model.bin.partial')).size;
      assert.ok(partialSize > 0 && partialSize <= BIN.length >> 1, `partial size ${partialSize}`);

      const events: DownloadProgress[] = [];
      const { files } = await downloadModel(NAME, {
        cacheDir: dir0,
        baseUrl: host.url,
        onProgress: (p) => events.push(p),
      });
      const binRequests = host.requests.filter((r) => r.path === BIN_PATH);
      assert.equal(binRequests.length, 2);
      assert.equal(binRequests[0].range, undefined);
      assert.equal(binRequests[1].range, `bytes=${partialSize}-`);
      // The config finished in the first run and is not fetched again.
      assert.equal(host.requests.filter((r) => r.path === CONFIG_PATH).length, 1);
      assert.deepEqual(
        files.map((f) => f.fetched),
        [false, true],
      );
      assert.ok(fs.readFileSync(path.join(dir, 'pytorch_model.bin')).equals(BIN));
      assert.ok(!exists(path.join(dir, 'pytorch_model.bin.partial')));
      assert.equal(events.find((e) => e.phase === 'transfer')?.resumedFrom, partialSize);
    } finally {
      await host.close();
    }
  });

  it('restarts from zero when the server ignores Range (200)', async () => {
    const host = await startHost(serveFiles({ [CONFIG_PATH]: CONFIG, [BIN_PATH]: BIN }, { ignoreRange: true }));
    try {
      const dir0 = freshCache();
      const dir = path.join(dir0, NAME);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'pytorch_model.bin.partial'), Buffer.alloc(1000, 0xff));
      await downloadModel(NAME, { cacheDir: dir0, baseUrl: host.url });
      assert.equal(host.requests.find((r) => r.path === BIN_PATH)?.range, 'bytes=1000-');
      assert.ok(fs.readFileSync(path.join(dir, 'pytorch_model.bin')).equals(BIN));
    } finally {
      await host.close();
    }
  });

  it('finishes a complete .partial on 416 without fetching it again', async () => {
    const host = await startHost(serveFiles({ [CONFIG_PATH]: CONFIG, [BIN_PATH]: BIN }));
    try {
      const dir0 = freshCache();
      const dir = path.join(dir0, NAME);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'pytorch_model.bin.partial'), BIN);
      await downloadModel(NAME, { cacheDir: dir0, baseUrl: host.url });
      assert.equal(host.requests.find((r) => r.path === BIN_PATH)?.range, `bytes=${BIN.length}-`);
      assert.ok(fs.readFileSync(path.join(dir, 'pytorch_model.bin')).equals(BIN));
      assert.ok(isModelCached(dir));
    } finally {
      await host.close();
    }
  });

  it('restarts when a .partial is longer than the file (416 with another total)', async () => {
    const host = await startHost(serveFiles({ [CONFIG_PATH]: CONFIG, [BIN_PATH]: BIN }));
    try {
      const dir0 = freshCache();
      const dir = path.join(dir0, NAME);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'pytorch_model.bin.partial'), Buffer.alloc(BIN.length + 5));
      await downloadModel(NAME, { cacheDir: dir0, baseUrl: host.url });
      assert.deepEqual(
        host.requests.filter((r) => r.path === BIN_PATH).map((r) => r.range),
        [`bytes=${BIN.length + 5}-`, undefined],
      );
      assert.ok(fs.readFileSync(path.join(dir, 'pytorch_model.bin')).equals(BIN));
    } finally {
      await host.close();
    }
  });

  it('follows redirects, and gives up after 5', async () => {
    const files = serveFiles({ [CONFIG_PATH]: CONFIG, [BIN_PATH]: BIN });
    const host = await startHost((req, res, n) => {
      if (req.url?.startsWith('/mirror/')) res.writeHead(302, { Location: req.url.slice('/mirror'.length) }).end();
      else if (req.url?.startsWith('/loop/')) res.writeHead(301, { Location: req.url }).end();
      else files(req, res, n);
    });
    try {
      const dir0 = freshCache();
      await downloadModel(NAME, { cacheDir: dir0, baseUrl: `${host.url}/mirror` });
      assert.ok(fs.readFileSync(path.join(dir0, NAME, 'pytorch_model.bin')).equals(BIN));
      await assert.rejects(
        downloadModel(NAME, { cacheDir: freshCache(), baseUrl: `${host.url}/loop` }),
        isIoError(/too many redirects/),
      );
      assert.equal(host.requests.filter((r) => r.path.startsWith('/loop/')).length, 6);
    } finally {
      await host.close();
    }
  });

  it('reports a 404 naming the URL and leaves no file', async () => {
    const host = await startHost(serveFiles({}));
    try {
      const dir0 = freshCache();
      await assert.rejects(
        downloadModel(NAME, { cacheDir: dir0, baseUrl: host.url }),
        isIoError(new RegExp(`^${host.url}${CONFIG_PATH}: HTTP 404 Not Found`)),
      );
      assert.deepEqual(fs.readdirSync(path.join(dir0, NAME)), []);
    } finally {
      await host.close();
    }
  });

  it('reports a 5xx on the weights naming their URL; the config stays, no weights file', async () => {
    const files = serveFiles({ [CONFIG_PATH]: CONFIG });
    const host = await startHost((req, res, n) =>
      req.url === BIN_PATH ? res.writeHead(503).end() : files(req, res, n),
    );
    try {
      const dir0 = freshCache();
      await assert.rejects(
        downloadModel(NAME, { cacheDir: dir0, baseUrl: host.url }),
        isIoError(new RegExp(`${host.url}${BIN_PATH}: HTTP 503 .*try again later`)),
      );
      assert.deepEqual(fs.readdirSync(path.join(dir0, NAME)).sort(), ['config.json', 'config.json.verified']);
    } finally {
      await host.close();
    }
  });

  it('says "cannot reach" quickly when the connection is refused', async () => {
    const port = await closedPort();
    const t0 = Date.now();
    await assert.rejects(
      downloadModel(NAME, { cacheDir: freshCache(), baseUrl: `http://127.0.0.1:${port}` }),
      isIoError(
        new RegExp(
          `^cannot reach 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\): check your network, or use --weights DIR .*init-random`,
        ),
      ),
    );
    assert.ok(Date.now() - t0 < 2000);
  });

  it('aborts a server that accepts and never answers after stallTimeoutMs', async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      const t0 = Date.now();
      await assert.rejects(
        downloadModel(NAME, { cacheDir: freshCache(), baseUrl: `http://127.0.0.1:${port}`, stallTimeoutMs: 200 }),
        isIoError(/no data from 127\.0\.0\.1:\d+ for 0\.2 s, the connection stalled/),
      );
      const took = Date.now() - t0;
      assert.ok(took >= 150 && took < 3000, `took ${took} ms`);
      assert.equal(sockets.length, 1);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('aborts a transfer that stops mid-body, keeping only the .partial', async () => {
    const files = serveFiles({ [CONFIG_PATH]: CONFIG });
    const host = await startHost((req, res, n) => {
      if (req.url !== BIN_PATH) return files(req, res, n);
      res.writeHead(200, { 'Content-Length': BIN.length });
      res.write(BIN.subarray(0, 100_000)); // then silence, connection left open
    });
    try {
      const dir0 = freshCache();
      const dir = path.join(dir0, NAME);
      await assert.rejects(
        downloadModel(NAME, { cacheDir: dir0, baseUrl: host.url, stallTimeoutMs: 200 }),
        isIoError(/stalled after 0\.1 MiB; run the command again to resume/),
      );
      assert.ok(!exists(path.join(dir, 'pytorch_model.bin')));
      assert.equal(fs.statSync(path.join(dir, 'pytorch_model.bin.partial')).size, 100_000);
    } finally {
      await host.close();
    }
  });

  it('is cancelled by its AbortSignal, keeping the .partial', async () => {
    const files = serveFiles({ [CONFIG_PATH]: CONFIG });
    const host = await startHost((req, res, n) => {
      if (req.url !== BIN_PATH) return files(req, res, n);
      res.writeHead(200, { 'Content-Length': BIN.length });
      res.write(BIN.subarray(0, 50_000));
    });
    try {
      const dir0 = freshCache();
      const ac = new AbortController();
      await assert.rejects(
        downloadModel(NAME, {
          cacheDir: dir0,
          baseUrl: host.url,
          signal: ac.signal,
          onProgress: (p) => p.phase === 'transfer' && p.file === 'pytorch_model.bin' && ac.abort(),
        }),
        (e: unknown) => e instanceof BigGanError && e.code === 'CANCELLED' && /resume/.test(e.message),
      );
      assert.ok(exists(path.join(dir0, NAME, 'pytorch_model.bin.partial')));
      assert.ok(!exists(path.join(dir0, NAME, 'pytorch_model.bin')));
    } finally {
      await host.close();
    }
  });

  it('refuses and deletes an invalid config.json, before fetching the weights', async () => {
    const host = await startHost(
      serveFiles({ [CONFIG_PATH]: Buffer.from('{"z_dim": 128, "channel_width": -3}'), [BIN_PATH]: BIN }),
    );
    try {
      const dir0 = freshCache();
      await assert.rejects(downloadModel(NAME, { cacheDir: dir0, baseUrl: host.url }), (e: unknown) => {
        assert.ok(e instanceof BigGanError);
        assert.equal(e.code, 'INVALID_CONFIG');
        assert.match(
          e.message,
          new RegExp(`${host.url}${CONFIG_PATH} is not a valid BigGAN-deep config: .*channel_width.*deleted`),
        );
        return true;
      });
      assert.deepEqual(fs.readdirSync(path.join(dir0, NAME)), []);
      assert.ok(!host.requests.some((r) => r.path === BIN_PATH));
    } finally {
      await host.close();
    }
  });

  it('refuses a config that is not JSON, or is for another resolution', async () => {
    const host = await startHost(
      serveFiles({ [CONFIG_PATH]: Buffer.from('<html>oops</html>'), ['/biggan-deep-256-config.json']: CONFIG }),
    );
    try {
      await assert.rejects(
        downloadModel(NAME, { cacheDir: freshCache(), baseUrl: host.url }),
        (e: unknown) => e instanceof BigGanError && e.code === 'INVALID_CONFIG' && /is not valid JSON/.test(e.message),
      );
      await assert.rejects(
        downloadModel('biggan-deep-256', { cacheDir: freshCache(), baseUrl: host.url }),
        (e: unknown) =>
          e instanceof BigGanError &&
          e.code === 'INVALID_CONFIG' &&
          /128 px model, but biggan-deep-256 is 256 px/.test(e.message),
      );
    } finally {
      await host.close();
    }
  });

  it('fetches again a cached config that no longer parses, and an empty weights file', async () => {
    const host = await startHost(serveFiles({ [CONFIG_PATH]: CONFIG, [BIN_PATH]: BIN }));
    try {
      const dir0 = freshCache();
      const dir = path.join(dir0, NAME);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'config.json'), '{"truncated":');
      fs.writeFileSync(path.join(dir, 'pytorch_model.bin'), '');
      const { files } = await downloadModel(NAME, { cacheDir: dir0, baseUrl: host.url });
      assert.deepEqual(
        files.map((f) => f.fetched),
        [true, true],
      );
      assert.deepEqual(fs.readFileSync(path.join(dir, 'config.json')), CONFIG);
      assert.ok(fs.readFileSync(path.join(dir, 'pytorch_model.bin')).equals(BIN));
    } finally {
      await host.close();
    }
  });

  it('does not start when its AbortSignal is already aborted', async () => {
    const host = await startHost(serveFiles({ [CONFIG_PATH]: CONFIG, [BIN_PATH]: BIN }));
    try {
      await assert.rejects(
        downloadModel(NAME, { cacheDir: freshCache(), baseUrl: host.url, signal: AbortSignal.abort() }),
        (e: unknown) => e instanceof BigGanError && e.code === 'CANCELLED',
      );
      assert.equal(host.requests.length, 0);
    } finally {
      await host.close();
    }
  });

  it('reports a disk error naming the path', async () => {
    const host = await startHost(serveFiles({ [CONFIG_PATH]: CONFIG, [BIN_PATH]: BIN }));
    try {
      const dir0 = freshCache();
      // A file where the model folder should go: mkdir fails with a disk error, not a crash.
      fs.mkdirSync(dir0, { recursive: true });
      fs.writeFileSync(path.join(dir0, NAME), 'not a folder');
      await assert.rejects(
        downloadModel(NAME, { cacheDir: dir0, baseUrl: host.url }),
        isIoError(new RegExp(`^cannot create folder ${path.join(dir0, NAME).replace(/[.\\]/g, '\\$&')}: EEXIST`)),
      );
      assert.equal(host.requests.length, 0);
    } finally {
      await host.close();
    }
  });
});

describe('resolveBaseUrl', () => {
  it('prefers the explicit URL, then BIGGAN_DOWNLOAD_BASE_URL, then the default', () => {
    assert.equal(
      resolveBaseUrl('http://a.example/x/', { BIGGAN_DOWNLOAD_BASE_URL: 'http://b.example' }),
      'http://a.example/x',
    );
    assert.equal(resolveBaseUrl(undefined, { BIGGAN_DOWNLOAD_BASE_URL: 'http://b.example/' }), 'http://b.example');
    assert.equal(resolveBaseUrl(undefined, {}), DEFAULT_BASE_URL);
    assert.equal(DEFAULT_BASE_URL, 'https://s3.amazonaws.com/models.huggingface.co/biggan');
  });

  it('rejects a URL that is not http(s)', () => {
    assert.throws(
      () => resolveBaseUrl('ftp://x/y', {}),
      (e: unknown) =>
        e instanceof BigGanError && e.code === 'INVALID_ARGUMENT' && /http:\/\/ or https:\/\//.test(e.message),
    );
    assert.throws(
      () => resolveBaseUrl('not a url', {}),
      (e: unknown) => e instanceof BigGanError && e.code === 'INVALID_ARGUMENT',
    );
  });
});
