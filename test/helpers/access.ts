/**
 * Helpers of the access-control tests: key files, free ports, waiting on state, a real
 * `redis-server` on a free port (started and stopped by PID), and a throwaway CA with server and
 * client certificates made by `openssl`.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync, renameSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { hashKey, type ApiKeyEntry } from '../../src/auth/key-file.js';

/** A key and its file entry. */
export interface TestKey {
  readonly key: string;
  readonly entry: ApiKeyEntry;
}

/** A key named `name` with `quota` (the key is a fixed-looking random string). */
export function testKey(name: string, quota: Omit<ApiKeyEntry, 'name' | 'sha256'> = {}): TestKey {
  const key = `bgs_test_${name}_${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
  return { key, entry: { name, sha256: hashKey(key), ...quota } };
}

/** Writes a key file atomically (write + rename, as editors and Secret updates do). */
export function writeKeyFile(file: string, keys: readonly TestKey[] | string): void {
  const text = typeof keys === 'string' ? keys : `${JSON.stringify({ keys: keys.map((k) => k.entry) }, null, 2)}\n`;
  const tmp = `${file}.tmp${Math.random().toString(36).slice(2)}`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/** A temporary folder. */
export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A port free right now on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Polls `fn` until it holds (errors count as not yet), failing after `ms`. */
export async function waitFor(what: string, fn: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (
      await Promise.resolve()
        .then(fn)
        .catch(() => false)
    )
      return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));

/** A real redis-server on `port`; fails (never skips) when the Debian package is missing. */
export class RedisServer {
  private child: ChildProcess | undefined;
  output = '';
  constructor(readonly port: number) {}

  async start(): Promise<void> {
    if (!REDIS_SERVER) {
      throw new Error(
        'redis-server is not installed: these tests run a real Redis. Install it with `sudo apt-get install -y redis-server` (.ci/run does this when it is missing).',
      );
    }
    const child = spawn(
      REDIS_SERVER,
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout!.on('data', (d: Buffer) => (this.output += d));
    child.stderr!.on('data', (d: Buffer) => (this.output += d));
    this.child = child;
    await waitFor(`redis-server on ${this.port}`, () => this.output.includes('Ready to accept connections'), 10_000);
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Kills it (SIGKILL: a crash, no goodbye) and waits for the exit. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.child = undefined;
  }
}

/** PEM files of a throwaway CA, a server certificate for 127.0.0.1/localhost and a client certificate. */
export interface TestCerts {
  readonly dir: string;
  readonly ca: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** A second server certificate (same CA), for reload tests. */
  readonly serverCert2: string;
  readonly serverKey2: string;
}

/** Makes a CA and certificates with openssl (EC P-256, valid one day). */
export function makeCerts(): TestCerts {
  const dir = tempDir('biggan-tls-');
  const f = (name: string) => path.join(dir, name);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  writeFileSync(f('client.ext'), 'extendedKeyUsage=clientAuth\n');
  ssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '1',
    '-subj',
    '/CN=biggan test CA',
  );
  const leaf = (name: string, cn: string, ext: string) => {
    ssl(
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${cn}`,
    );
    ssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '1',
      '-extfile',
      ext,
    );
  };
  leaf('server', 'localhost', 'server.ext');
  leaf('server2', 'localhost-2', 'server.ext');
  leaf('client', 'alice-client', 'client.ext');
  return {
    dir,
    ca: f('ca.pem'),
    serverCert: f('server.pem'),
    serverKey: f('server.key'),
    clientCert: f('client.pem'),
    clientKey: f('client.key'),
    serverCert2: f('server2.pem'),
    serverKey2: f('server2.key'),
  };
}
