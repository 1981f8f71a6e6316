/**
 * The grouped server settings: every `serve` flag belongs to one group of ServerConfig, the
 * groups are frozen, `serverConfig` fills partial groups from the defaults and checks the same
 * rules as the flags, and `serve --help` lists each flag once under its group's section.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import {
  parseServerConfig,
  serverConfig,
  SERVE_USAGE,
  SERVER_OPTION_GROUPS,
  SERVER_OPTIONS,
} from '../../src/config/server-config.js';

test('every serve flag has a group, and every group is a part of ServerConfig', () => {
  const groups = Object.keys(SERVER_OPTION_GROUPS);
  const config = parseServerConfig([], {}).config;
  assert.deepEqual(Object.keys(config).sort(), [...groups].sort());
  for (const spec of SERVER_OPTIONS) {
    assert.ok(spec.group !== undefined && groups.includes(spec.group), `--${spec.name} has group '${spec.group}'`);
  }
  for (const g of groups) {
    assert.ok(
      SERVER_OPTIONS.some((s) => s.group === g),
      `group ${g} holds at least one flag`,
    );
  }
});

test('flags land in their groups; the config and each group are frozen', () => {
  const { config } = parseServerConfig(
    [
      '--http-port',
      '0',
      '--grpc-port',
      '-1',
      '--max-batch-size',
      '4',
      '--threads',
      '3',
      '--cache-size',
      '0',
      '--grace-period-ms',
      '1234',
      '--cache',
      '/tmp/models',
      '--grpc-max-connection-age-ms',
      '2000',
    ],
    { BIGGAN_API_KEYS_FILE: '/k.json', BIGGAN_SEND_TIMEOUT_MS: '0' },
  );
  assert.equal(config.http.port, 0);
  assert.equal(config.grpc.port, -1);
  assert.equal(config.grpc.maxConnectionAgeMs, 2000);
  assert.equal(config.batching.maxBatchSize, 4);
  assert.equal(config.engine.threads, 3);
  assert.equal(config.cache.sizeBytes, 0);
  assert.equal(config.drain.gracePeriodMs, 1234);
  assert.equal(config.repository.cacheDir, '/tmp/models');
  assert.equal(config.access.apiKeysFile, '/k.json');
  assert.equal(config.http.send.sendTimeoutMs, 0);
  assert.ok(Object.isFrozen(config));
  for (const group of Object.values(config)) assert.ok(Object.isFrozen(group));
  // An empty flag value is no value (as an empty environment variable is).
  assert.equal(parseServerConfig(['--weights', ''], {}).config.repository.weights, undefined);
});

test('serverConfig: partial groups over the defaults, checked like flags', () => {
  const config = serverConfig({ http: { port: 0, bodyLimitBytes: 2048 }, grpc: { port: -1 } });
  const defaults = parseServerConfig([], {}).config;
  assert.equal(config.http.port, 0);
  assert.equal(config.http.bodyLimitBytes, 2048);
  assert.equal(config.http.requestTimeoutMs, defaults.http.requestTimeoutMs);
  assert.equal(config.grpc.port, -1);
  assert.equal(config.grpc.maxSendMessageBytes, defaults.grpc.maxSendMessageBytes);
  assert.deepEqual(config.batching, defaults.batching);
  assert.ok(Object.isFrozen(config.http));
  assert.throws(
    () => serverConfig({ http: { requestTimeoutMs: 1000, headersTimeoutMs: 2000 } }),
    /--headers-timeout-ms \(2000\) must not exceed --request-timeout-ms \(1000\)/,
  );
  assert.throws(() => serverConfig({ access: { tlsCert: '/c.pem' } }), /--tls-cert and --tls-key go together/);
});

test('serve --help lists every flag once, under its group section', () => {
  for (const title of Object.values(SERVER_OPTION_GROUPS)) assert.ok(SERVE_USAGE.includes(`\n${title}:\n`), title);
  const sections = SERVE_USAGE.split(/\n(?=[A-Za-z][^\n]*:\n)/);
  for (const spec of SERVER_OPTIONS) {
    const title = SERVER_OPTION_GROUPS[spec.group as keyof typeof SERVER_OPTION_GROUPS];
    const section = sections.find((s) => s.startsWith(`${title}:\n`));
    assert.ok(section?.match(new RegExp(`^  --${spec.name}(?=\\s)`, 'm')), `--${spec.name} under ${title}`);
    assert.equal(SERVE_USAGE.match(new RegExp(`^  --${spec.name}(?=\\s)`, 'gm'))?.length, 1, `--${spec.name} once`);
  }
});
