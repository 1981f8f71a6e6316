/**
 * The access-control flags of `serve`: each with its BIGGAN_* variable, and refused combinations.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseServerConfig, SERVER_OPTIONS } from '../../src/config/server-config.js';
import { UsageError } from '../../src/config/options.js';

const FLAGS: Record<string, string> = {
  'api-keys': 'BIGGAN_API_KEYS_FILE',
  'metrics-token': 'BIGGAN_METRICS_TOKEN',
  'metrics-port': 'BIGGAN_METRICS_PORT',
  'quota-redis': 'BIGGAN_QUOTA_REDIS',
  'quota-redis-failure': 'BIGGAN_QUOTA_REDIS_FAILURE',
  'tls-cert': 'BIGGAN_TLS_CERT',
  'tls-key': 'BIGGAN_TLS_KEY',
  'tls-client-ca': 'BIGGAN_TLS_CLIENT_CA',
  'cors-origin': 'BIGGAN_CORS_ORIGIN',
};

test('every access flag has its environment variable', () => {
  for (const [flag, envName] of Object.entries(FLAGS))
    assert.equal(SERVER_OPTIONS.find((o) => o.name === flag)?.env, envName, flag);
});

test('defaults: open, quotas in process, fail closed, no TLS, no CORS, metrics on the HTTP port', () => {
  const { config } = parseServerConfig([], {});
  assert.equal(config.access.apiKeysFile, undefined);
  assert.equal(config.access.quotaRedis, undefined);
  assert.equal(config.access.quotaRedisFailure, 'closed');
  assert.equal(config.access.tlsCert, undefined);
  assert.deepEqual(config.http.corsOrigins, []);
  assert.equal(config.metrics.port, -1);
});

test('values come from the environment', () => {
  const { config } = parseServerConfig([], {
    BIGGAN_API_KEYS_FILE: '/k.json',
    BIGGAN_QUOTA_REDIS: 'redis://r:6379',
    BIGGAN_QUOTA_REDIS_FAILURE: 'open',
    BIGGAN_TLS_CERT: '/c.pem',
    BIGGAN_TLS_KEY: '/k.pem',
    BIGGAN_TLS_CLIENT_CA: '/ca.pem',
    BIGGAN_CORS_ORIGIN: 'https://a.example, http://localhost:3000',
    BIGGAN_METRICS_PORT: '9090',
    BIGGAN_METRICS_TOKEN: 't',
  });
  assert.equal(config.access.apiKeysFile, '/k.json');
  assert.equal(config.access.quotaRedis, 'redis://r:6379');
  assert.equal(config.access.quotaRedisFailure, 'open');
  assert.equal(config.access.tlsClientCa, '/ca.pem');
  assert.deepEqual(config.http.corsOrigins, ['https://a.example', 'http://localhost:3000']);
  assert.equal(config.metrics.port, 9090);
  assert.equal(config.metrics.token, 't');
});

test('refused combinations name the flags', () => {
  const refused = (argv: string[], re: RegExp) =>
    assert.throws(
      () => parseServerConfig(argv, {}),
      (e: unknown) => e instanceof UsageError && re.test(e.message),
    );
  refused(['--tls-cert', 'c.pem'], /--tls-cert and --tls-key go together/);
  refused(['--tls-client-ca', 'ca.pem'], /--tls-client-ca needs --tls-cert/);
  refused(['--quota-redis', 'localhost:6379'], /--quota-redis: expected redis:\/\/HOST:PORT/);
  refused(['--quota-redis', 'http://:pw@x'], /REDACTED/);
  refused(['--quota-redis-failure', 'maybe'], /allowed: closed, open/);
  refused(['--cors-origin', 'https://a.example/path'], /--cors-origin: 'https:\/\/a.example\/path' is not an origin/);
  refused(['--metrics-port', '8080'], /--metrics-port 8080 is already the HTTP or gRPC port/);
});
