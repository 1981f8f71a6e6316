/**
 * Browser-facing hardening on the real server: CORS only for the allow-listed origin (a 401
 * still readable by that page), preflights open, and helmet's security headers (with a CSP that
 * keeps the playground and Swagger UI working) on HTML pages only.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { parseServerConfig } from '../../../src/config/server-config.js';
import { startServer, type RunningServer } from '../../../src/server/start.js';
import { FIXTURE_DIR } from '../../helpers/fixtures.js';
import { tempDir, testKey, writeKeyFile } from '../../helpers/access.js';

const ORIGIN = 'https://app.example.com';
let server: RunningServer;

before(async () => {
  const keyFile = path.join(tempDir('biggan-cors-'), 'keys.json');
  writeKeyFile(keyFile, [testKey('web')]);
  const { config } = parseServerConfig(
    [
      '--weights',
      FIXTURE_DIR,
      '--host',
      '127.0.0.1',
      '--http-port',
      '0',
      '--grpc-port',
      '-1',
      '--api-keys',
      keyFile,
      '--cors-origin',
      `${ORIGIN}, http://localhost:3000`,
    ],
    {},
  );
  server = await startServer(config, { logger: false });
});

after(async () => {
  await server.stop();
});

test('CORS: the allow-listed origin gets its headers (on a 401 too), others none; preflights need no key', async () => {
  const pre = await server.http.inject({
    method: 'OPTIONS',
    url: '/generate',
    headers: {
      origin: ORIGIN,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization,content-type',
    },
  });
  assert.equal(pre.statusCode, 204);
  assert.equal(pre.headers['access-control-allow-origin'], ORIGIN);
  assert.match(String(pre.headers['access-control-allow-headers']), /Authorization/i);
  const refused = await server.http.inject({
    method: 'POST',
    url: '/generate',
    headers: { origin: ORIGIN, 'content-type': 'application/json' },
    payload: '{"class": 1}',
  });
  assert.equal(refused.statusCode, 401);
  assert.equal(refused.headers['access-control-allow-origin'], ORIGIN, 'the page can read the 401');
  assert.match(String(refused.headers['access-control-expose-headers']), /Retry-After/);
  const evil = await server.http.inject({
    method: 'GET',
    url: '/healthz',
    headers: { origin: 'https://evil.example' },
  });
  assert.equal(evil.headers['access-control-allow-origin'], undefined);
});

test('HTML pages carry security headers with a CSP allowing only their own scripts; API answers do not', async () => {
  for (const url of ['/', '/docs/']) {
    const res = await server.http.inject({ method: 'GET', url });
    assert.equal(res.statusCode, 200, url);
    assert.match(String(res.headers['content-type']), /^text\/html/, url);
    const csp = String(res.headers['content-security-policy']);
    assert.match(csp, /script-src 'self'(;|$)/, `${url}: ${csp}`);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /upgrade-insecure-requests/, "plain HTTP must not upgrade the page's own requests");
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.ok(res.headers['x-frame-options'], url);
  }
  const health = await server.http.inject({ method: 'GET', url: '/healthz' });
  assert.equal(health.headers['content-security-policy'], undefined);
});
