/**
 * SHA-256 checks of downloaded and cached files: a mismatch is an error naming the file and both
 * hashes, and the bad bytes are never left where the server would load them.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BigGanError } from '../../src/errors.js';
import { downloadModel } from '../../src/download/download.js';
import { isModelCached } from '../../src/download/cache.js';
import { fakeWeights, fixtureConfig, serveFiles, startHost, tempDir } from './fake-host.js';

const NAME = 'biggan-deep-128';
const CONFIG_PATH = `/${NAME}-config.json`;
const BIN_PATH = `/${NAME}-pytorch_model.bin`;
const BIN = fakeWeights(1024 * 1024 + 3);
const CONFIG = fixtureConfig();
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const PINS = { 'config.json': sha(CONFIG), 'pytorch_model.bin': sha(BIN) };

/** A copy of BIN with one byte changed at `at`. */
function flipped(at: number): Buffer {
  const b = Buffer.from(BIN);
  b[at] ^= 0xff;
  return b;
}

function isChecksumError(file: string, expected: string, actual: string) {
  return (e: unknown) => {
    assert.ok(e instanceof BigGanError, `expected a BigGanError, got ${String(e)}`);
    assert.equal(e.code, 'INVALID_WEIGHTS');
    assert.ok(e.message.startsWith(`${file}: SHA-256 mismatch, expected ${expected}, got ${actual}`), e.message);
    return true;
  };
}

describe('SHA-256 verification', () => {
  let cache: string;
  before(async () => {
    cache = await tempDir();
  });
  after(async () => {
    await fs.promises.rm(cache, { recursive: true, force: true });
  });
  let seq = 0;
  const freshCache = () => path.join(cache, String(seq++));

  it('accepts files matching their pins, silently', async () => {
    const host = await startHost(serveFiles({ [CONFIG_PATH]: CONFIG, [BIN_PATH]: BIN }));
    try {
      const warnings: string[] = [];
      const { dir, files } = await downloadModel(NAME, {
        cacheDir: freshCache(),
        baseUrl: host.url,
        pins: PINS,
        onWarning: (m) => warnings.push(m),
      });
      assert.deepEqual(
        files.map((f) => [f.name, f.sha256, f.pinned]),
        [
          ['config.json', PINS['config.json'], true],
          ['pytorch_model.bin', PINS['pytorch_model.bin'], true],
        ],
      );
      assert.deepEqual(warnings, []);
      assert.equal(isModelCached(dir, PINS), true);
    } finally {
      await host.close();
    }
  });

  it('warns that an unpinned file cannot be checked against the published one, naming its hash', async () => {
    const host = await startHost(serveFiles({ [CONFIG_PATH]: CONFIG, [BIN_PATH]: BIN }));
    try {
      const warnings: string[] = [];
      await downloadModel(NAME, { cacheDir: freshCache(), baseUrl: host.url, onWarning: (m) => warnings.push(m) });
      assert.equal(warnings.length, 2);
      assert.match(
        warnings[1],
        new RegExp(`^pytorch_model\\.bin of ${NAME} has no pinned SHA-256.* ${PINS['pytorch_model.bin']} `),
      );
    } finally {
      await host.close();
    }
  });

  it('refuses a download whose bytes do not match the pin, naming the file, and keeps no file', async () => {
    const wrong = flipped(12345);
    const host = await startHost(serveFiles({ [CONFIG_PATH]: CONFIG, [BIN_PATH]: wrong }));
    try {
      const dir0 = freshCache();
      const dir = path.join(dir0, NAME);
      await assert.rejects(
        downloadModel(NAME, { cacheDir: dir0, baseUrl: host.url, pins: PINS }),
        isChecksumError(path.join(dir, 'pytorch_model.bin'), PINS['pytorch_model.bin'], sha(wrong)),
      );
      assert.deepEqual(fs.readdirSync(dir).sort(), ['config.json', 'config.json.verified']);
      assert.equal(isModelCached(dir, PINS), false);
    } finally {
      await host.close();
    }
  });

  it('rehashes the resumed prefix: a .partial corrupted between runs fails the check', async () => {
    const host = await startHost(serveFiles({ [CONFIG_PATH]: CONFIG, [BIN_PATH]: BIN }));
    try {
      const dir0 = freshCache();
      const dir = path.join(dir0, NAME);
      fs.mkdirSync(dir, { recursive: true });
      // The first half of an earlier run, with one byte gone bad on disk.
      const half = BIN.length >> 1;
      const partial = flipped(100).subarray(0, half);
      fs.writeFileSync(path.join(dir, 'pytorch_model.bin.partial'), partial);
      const wholeIfTrusted = Buffer.concat([partial, BIN.subarray(half)]);
      await assert.rejects(
        downloadModel(NAME, { cacheDir: dir0, baseUrl: host.url, pins: PINS }),
        isChecksumError(path.join(dir, 'pytorch_model.bin'), PINS['pytorch_model.bin'], sha(wholeIfTrusted)),
      );
      assert.equal(host.requests.find((r) => r.path === BIN_PATH)?.range, `bytes=${half}-`);
      assert.ok(!fs.existsSync(path.join(dir, 'pytorch_model.bin')));
      assert.ok(!fs.existsSync(path.join(dir, 'pytorch_model.bin.partial')));
      // The next run starts clean and succeeds.
      await downloadModel(NAME, { cacheDir: dir0, baseUrl: host.url, pins: PINS });
      assert.ok(fs.readFileSync(path.join(dir, 'pytorch_model.bin')).equals(BIN));
    } finally {
      await host.close();
    }
  });

  it('start-up check: a cached file that grew after download is refused, moved aside, and fetched again by download', async () => {
    const host = await startHost(serveFiles({ [CONFIG_PATH]: CONFIG, [BIN_PATH]: BIN }));
    try {
      const dir0 = freshCache();
      const dir = path.join(dir0, NAME);
      const bin = path.join(dir, 'pytorch_model.bin');
      // Unpinned: the check compares with the hash recorded when it was downloaded.
      await downloadModel(NAME, { cacheDir: dir0, baseUrl: host.url, onWarning: () => {} });
      assert.equal(isModelCached(dir), true);
      // What the old race did: another run's bytes appended to the finished file.
      fs.appendFileSync(bin, BIN.subarray(0, 4096));
      const grown = fs.readFileSync(bin);
      assert.throws(() => isModelCached(dir), isChecksumError(bin, PINS['pytorch_model.bin'], sha(grown)));
      assert.ok(!fs.existsSync(bin), 'the bad file is not left where serve loads it');
      assert.ok(fs.readFileSync(bin + '.corrupt').equals(grown));
      assert.equal(isModelCached(dir), false);
      const { files } = await downloadModel(NAME, { cacheDir: dir0, baseUrl: host.url, onWarning: () => {} });
      assert.deepEqual(
        files.map((f) => f.fetched),
        [false, true],
      );
      assert.ok(fs.readFileSync(bin).equals(BIN));
      assert.equal(isModelCached(dir), true);
    } finally {
      await host.close();
    }
  });

  it('download rehashes a cached file even when size and mtime look untouched, and fetches a corrupt one again', async () => {
    const host = await startHost(serveFiles({ [CONFIG_PATH]: CONFIG, [BIN_PATH]: BIN }));
    try {
      const dir0 = freshCache();
      const dir = path.join(dir0, NAME);
      const bin = path.join(dir, 'pytorch_model.bin');
      await downloadModel(NAME, { cacheDir: dir0, baseUrl: host.url, pins: PINS });
      // A byte flipped in place, mtime put back: only a full hash can see it.
      const st = fs.statSync(bin);
      const fd = fs.openSync(bin, 'r+');
      fs.writeSync(fd, Buffer.from([BIN[777] ^ 0xff]), 0, 1, 777);
      fs.closeSync(fd);
      fs.utimesSync(bin, st.atime, st.mtime);
      const warnings: string[] = [];
      const { files } = await downloadModel(NAME, {
        cacheDir: dir0,
        baseUrl: host.url,
        pins: PINS,
        onWarning: (m) => warnings.push(m),
      });
      assert.deepEqual(
        files.map((f) => f.fetched),
        [false, true],
      );
      assert.equal(warnings.length, 1);
      assert.ok(
        warnings[0].startsWith(
          `${bin}: SHA-256 mismatch, expected ${PINS['pytorch_model.bin']}, got ${sha(flipped(777))}; moved it to ${bin}.corrupt`,
        ),
        warnings[0],
      );
      assert.ok(fs.readFileSync(bin).equals(BIN));
      assert.equal(host.requests.filter((r) => r.path === BIN_PATH).length, 2);
    } finally {
      await host.close();
    }
  });

  it('start-up check against a pin: a cached file that does not match is refused', async () => {
    const host = await startHost(serveFiles({ [CONFIG_PATH]: CONFIG, [BIN_PATH]: BIN }));
    try {
      const dir0 = freshCache();
      const dir = path.join(dir0, NAME);
      await downloadModel(NAME, { cacheDir: dir0, baseUrl: host.url, onWarning: () => {} });
      const otherPin = 'ab'.repeat(32);
      assert.throws(
        () => isModelCached(dir, { ...PINS, 'pytorch_model.bin': otherPin }),
        isChecksumError(path.join(dir, 'pytorch_model.bin'), otherPin, PINS['pytorch_model.bin']),
      );
    } finally {
      await host.close();
    }
  });
});
