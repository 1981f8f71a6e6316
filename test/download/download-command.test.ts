import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { downloadCommand, DOWNLOAD_USAGE } from '../../src/cli/download-command.js';
import { closedPort, fakeWeights, fixtureConfig, serveFiles, startHost, tempDir } from './fake-host.js';

/** Runs the command with captured stdout/stderr (neither a terminal). */
async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await downloadCommand(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
  });
  return { code, stdout, stderr };
}

describe('downloadCommand', () => {
  let cache: string;
  before(async () => {
    cache = await tempDir();
  });
  after(async () => {
    await fs.promises.rm(cache, { recursive: true, force: true });
  });

  it('--help prints every flag and env var and exits 0', async () => {
    for (const flag of ['--help', '-h']) {
      const r = await run([flag]);
      assert.equal(r.code, 0);
      assert.equal(r.stdout, DOWNLOAD_USAGE);
      assert.equal(r.stderr, '');
    }
    for (const word of [
      '--cache DIR',
      '--base-url URL',
      '-h, --help',
      'BIGGAN_CACHE',
      'BIGGAN_DOWNLOAD_BASE_URL',
      'biggan-deep-128',
      'biggan-deep-256',
      'biggan-deep-512',
    ]) {
      assert.ok(DOWNLOAD_USAGE.includes(word), `usage lacks ${word}`);
    }
  });

  it('exits 2 listing the allowed names for an unknown model', async () => {
    const r = await run(['biggan-deep-1024', '--cache', cache]);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /unknown model "biggan-deep-1024"; choose from biggan-deep-128, biggan-deep-256, biggan-deep-512/,
    );
    assert.equal(r.stdout, '');
    assert.deepEqual(fs.readdirSync(cache), []);
  });

  it('exits 2 without a model, with an unknown second model, an unknown flag or a bad URL', async () => {
    for (const argv of [
      [],
      ['biggan-deep-128', 'biggan-deep-1024'],
      ['biggan-deep-128', '--bogus'],
      ['biggan-deep-128', '--cache'],
      ['biggan-deep-128', '--base-url', 'ftp://x'],
    ]) {
      const r = await run(argv);
      assert.equal(r.code, 2, `argv ${argv.join(' ')}`);
      assert.ok(r.stderr.includes('Usage: biggan-serve download'), `argv ${argv.join(' ')}`);
    }
    assert.match(
      (await run(['biggan-deep-128', '--bogus'])).stderr,
      /^biggan-serve download: Unknown option '--bogus'\n/,
    );
  });

  it('downloads into --cache from --base-url and prints the model folder', async () => {
    const bin = fakeWeights(2 * 1024 * 1024);
    const host = await startHost(
      serveFiles({ '/biggan-deep-128-config.json': fixtureConfig(), '/biggan-deep-128-pytorch_model.bin': bin }),
    );
    try {
      const r = await run(['biggan-deep-128', '--cache', cache, '--base-url', host.url]);
      const dir = path.join(cache, 'biggan-deep-128');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${dir}\n`);
      assert.ok(fs.readFileSync(path.join(dir, 'pytorch_model.bin')).equals(bin));
      // Not a terminal: plain progress lines, ending with the weights' done line.
      const last = r.stderr.split('\n').at(-2) ?? '';
      assert.ok(last.startsWith('pytorch_model.bin  100.0%  2.0/2.0 MiB  '), last);
      assert.match(last, /done in \d+:\d\d$/);
    } finally {
      await host.close();
    }
  });

  it('exits 1 with the message on stderr when the host cannot be reached', async () => {
    const port = await closedPort();
    const r = await run(['biggan-deep-256', '--cache', cache, '--base-url', `http://127.0.0.1:${port}`]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^biggan-serve download: cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
  });
});
