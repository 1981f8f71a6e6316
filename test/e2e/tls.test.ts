/**
 * TLS end to end with real clients: HTTPS (node:https) and gRPC over TLS with mutual TLS
 * (certificates made by openssl in the test), refusals without a client certificate, and
 * certificate reload on change for both listeners.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { copyFileSync, readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { parseServerConfig } from '../../src/config/server-config.js';
import { startServer, type RunningServer } from '../../src/server/start.js';
import { createGeneratorClient } from '../../src/transport/grpc/server.js';
import { FIXTURE_DIR } from '../helpers/fixtures.js';
import { makeCerts, waitFor, type TestCerts } from '../helpers/access.js';
import path from 'node:path';

let certs: TestCerts;
let other: TestCerts; // a second CA: its server certificate replaces the first in the reload test
let server: RunningServer;
let certFile: string;
let keyFile: string;

before(async () => {
  certs = makeCerts();
  other = makeCerts();
  // The server reads copies, so the reload test can replace them.
  certFile = path.join(certs.dir, 'live.pem');
  keyFile = path.join(certs.dir, 'live.key');
  copyFileSync(certs.serverCert, certFile);
  copyFileSync(certs.serverKey, keyFile);
  const { config } = parseServerConfig(
    [
      '--weights',
      FIXTURE_DIR,
      '--host',
      '127.0.0.1',
      '--http-port',
      '0',
      '--grpc-port',
      '0',
      '--tls-cert',
      certFile,
      '--tls-key',
      keyFile,
      '--tls-client-ca',
      certs.ca,
      '--metrics-port',
      '0',
    ],
    {},
  );
  server = await startServer(config, { logger: false });
});

after(async () => {
  await server.stop();
});

interface Answer {
  status: number;
}

/** One HTTPS request on a fresh connection; rejects when the handshake fails. */
function httpsRequest(urlPath: string, opts: { ca: string; client?: boolean; body?: object }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port: server.httpPort,
        path: urlPath,
        method: opts.body ? 'POST' : 'GET',
        agent: false,
        ca: readFileSync(opts.ca),
        ...(opts.client ? { cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) } : {}),
        headers: opts.body ? { 'content-type': 'application/json' } : {},
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
      },
    );
    req.on('error', reject);
    req.end(opts.body ? JSON.stringify(opts.body) : undefined);
  });
}

function grpcGenerate(ca: string, client: boolean): Promise<grpc.ServiceError | undefined> {
  const creds = client
    ? grpc.credentials.createSsl(readFileSync(ca), readFileSync(certs.clientKey), readFileSync(certs.clientCert))
    : grpc.credentials.createSsl(readFileSync(ca));
  const c = createGeneratorClient(`127.0.0.1:${server.grpcPort}`, creds);
  return new Promise((resolve) =>
    c.Generate({ classes: [{ index: 1 }], seed: '7' }, { deadline: Date.now() + 5000 }, (err) => {
      c.close();
      resolve(err ?? undefined);
    }),
  );
}

test('HTTPS with a client certificate is served; without one the handshake is refused; plain HTTP gets no answer', async () => {
  assert.equal((await httpsRequest('/healthz', { ca: certs.ca, client: true })).status, 200);
  assert.equal(
    (await httpsRequest('/generate', { ca: certs.ca, client: true, body: { class: 1, seed: 3 } })).status,
    200,
  );
  await assert.rejects(httpsRequest('/healthz', { ca: certs.ca }));
  await assert.rejects(fetch(`http://127.0.0.1:${server.httpPort}/healthz`));
});

test('--metrics-port serves /metrics and the probes over plain HTTP beside the mutual-TLS listeners', async () => {
  const base = `http://127.0.0.1:${server.metricsPort}`;
  assert.ok(server.metricsPort > 0);
  assert.equal((await fetch(`${base}/readyz`)).status, 200);
  assert.match(await (await fetch(`${base}/metrics`)).text(), /biggan_requests_total/);
  assert.equal((await fetch(`${base}/generate`, { method: 'POST' })).status, 404, 'only metrics and probes there');
});

test('gRPC over TLS with a client certificate is served; without one the call fails', async () => {
  assert.equal(await grpcGenerate(certs.ca, true), undefined);
  const err = await grpcGenerate(certs.ca, false);
  assert.equal(err?.code, grpc.status.UNAVAILABLE);
});

test('a replaced certificate is served on new connections without a restart (HTTPS and gRPC)', async () => {
  // Clients that trust only the second CA cannot connect yet.
  await assert.rejects(httpsRequest('/healthz', { ca: other.ca, client: true }));
  assert.equal((await grpcGenerate(other.ca, true))?.code, grpc.status.UNAVAILABLE);
  // Key first, then certificate: a reload between the two sees a mismatched pair and keeps the old one.
  copyFileSync(other.serverKey, keyFile);
  copyFileSync(other.serverCert, certFile);
  await waitFor(
    'HTTPS serves the new certificate',
    async () => (await httpsRequest('/healthz', { ca: other.ca, client: true })).status === 200,
    10_000,
  );
  await waitFor(
    'gRPC serves the new certificate',
    async () => (await grpcGenerate(other.ca, true)) === undefined,
    10_000,
  );
  await assert.rejects(httpsRequest('/healthz', { ca: certs.ca, client: true }), 'the old certificate is gone');
});
