/**
 * Flag parsing: negative numbers as values (`--grpc-port -1`, documented as "no gRPC"), the
 * request-timeout flags and their environment variables.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { parseOptions, type OptionSpec } from '../../src/config/options.js';
import { parseServerConfig } from '../../src/config/server-config.js';

const run = promisify(execFile);
const CLI = path.join(process.cwd(), 'dist/src/cli/main.js');

test('--grpc-port -1 turns gRPC off, written as two tokens or with =', () => {
  assert.equal(parseServerConfig(['--grpc-port', '-1'], {}).config.grpc.port, -1);
  assert.equal(parseServerConfig(['--grpc-port=-1'], {}).config.grpc.port, -1);
  assert.equal(parseServerConfig([], { BIGGAN_GRPC_PORT: '-1' }).config.grpc.port, -1);
  assert.throws(() => parseServerConfig(['--grpc-port', '-2'], {}), /--grpc-port: must be >= -1, got -2/);
  // A following flag is still a flag, not a value.
  assert.throws(
    () => parseServerConfig(['--grpc-port', '--http-port', '1'], {}),
    /'--grpc-port' argument is ambiguous/,
  );
});

test('negative values reach number and short options; boolean flags never swallow them', () => {
  const specs: OptionSpec[] = [
    { name: 'offset', type: 'number', short: 'o', description: 'an offset' },
    { name: 'verbose', type: 'boolean', description: 'more output' },
  ];
  assert.equal(parseOptions(['--offset', '-0.5'], specs, {}).values.offset, -0.5);
  assert.equal(parseOptions(['-o', '-3'], specs, {}).values.offset, -3);
  assert.throws(() => parseOptions(['--verbose', '-1'], specs, {}), /-1/);
  const { positionals } = parseOptions(['--', '--offset', '-1'], specs, {}, true);
  assert.deepEqual(positionals, ['--offset', '-1']);
});

test('request and header timeouts: flags, env and their relation', () => {
  const defaults = parseServerConfig([], {}).config;
  assert.equal(defaults.http.requestTimeoutMs, 30_000);
  assert.equal(defaults.http.headersTimeoutMs, 10_000);
  const set = parseServerConfig(['--request-timeout-ms', '5000'], { BIGGAN_HEADERS_TIMEOUT_MS: '2000' }).config;
  assert.equal(set.http.requestTimeoutMs, 5000);
  assert.equal(set.http.headersTimeoutMs, 2000);
  assert.throws(
    () => parseServerConfig(['--request-timeout-ms', '1000', '--headers-timeout-ms', '2000'], {}),
    /--headers-timeout-ms \(2000\) must not exceed --request-timeout-ms \(1000\)/,
  );
});

test('the built CLI accepts serve --grpc-port -1', async () => {
  const { stdout } = await run(process.execPath, [CLI, 'serve', '--grpc-port', '-1', '--help']);
  assert.match(stdout, /Usage: biggan-serve serve/);
  assert.match(stdout, /--request-timeout-ms/);
});
