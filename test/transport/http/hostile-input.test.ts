/**
 * REST against hostile or mistaken input: long values echoed in errors, latents far outside the
 * prior, a 1,000-class mixture in a response header, contradictory interpolation options, wrong
 * methods, and secrets in query strings reaching the logs.
 */
import { createLogger } from '../../../src/server/logger.js';
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createStack, type Stack } from '../../helpers/stack.js';
import { createMetrics } from '../../../src/metrics/metrics.js';
import { buildHttpApp } from '../../../src/transport/http/app.js';
import { FakeService } from '../grpc/harness.js';

let s: Stack;
before(async () => {
  s = await createStack();
});

const post = (url: string, payload: unknown) => s.app.inject({ method: 'POST', url, payload: payload as object });
const errorOf = (res: { json(): unknown }) =>
  (res.json() as { error: { code: string; message: string; field?: string } }).error;

/** An 80 kB string: echoed whole, it made 80 kB error answers (and wedged gRPC connections). */
const HUGE = 'x'.repeat(80_000);

test('an 80 kB value is quoted cut short in the error, whatever field it is in', async () => {
  const cases: [unknown, RegExp][] = [
    [{ class: { [HUGE]: 1 } }, /^class\["x+\.\.\." \(80000 characters\)\]: unknown class/],
    [{ class: 207, [HUGE]: 1 }, /^"x+\.\.\." \(80000 characters\): unknown field/],
    [
      { from: { seed: 1, class: 1, [HUGE]: 2 }, to: { seed: 2, class: 2 } },
      /^from\."x+\.\.\." \(80000 characters\): unknown field/,
    ],
  ];
  for (const [payload, message] of cases) {
    const url = 'from' in (payload as object) ? '/interpolate' : '/generate';
    const res = await post(url, payload);
    assert.equal(res.statusCode, 400);
    const err = errorOf(res);
    assert.match(err.message, message);
    assert.ok(res.body.length < 1_000, `the answer is ${res.body.length} bytes`);
  }
});

test('an explicit z beyond +-100 is refused naming the element; the bound itself is fine', async () => {
  const z = Array.from({ length: 128 }, () => 0.5);
  const far = [...z];
  far[5] = 1e30;
  const res = await post('/generate', { class: 1, z: [z, far] });
  assert.equal(res.statusCode, 400);
  assert.equal(errorOf(res).field, 'z[1][5]');
  assert.match(errorOf(res).message, /100/);
  const endpoint = await post('/interpolate', {
    from: { z: far, class: 1 },
    to: { seed: 1, class: 2 },
    frames: 2,
    format: 'png',
  });
  assert.equal(endpoint.statusCode, 400);
  assert.equal(errorOf(endpoint).field, 'from.z[5]');
  const edge = await post('/generate', { class: 1, z: [[100, -100, ...z.slice(2)]] });
  assert.equal(edge.statusCode, 200);
  // The bound is documented where clients look.
  const doc = JSON.stringify((await s.app.inject('/openapi.json')).json());
  assert.match(doc, /"maximum":100/);
  assert.match(doc, /"minimum":-100,"maximum":100/, 'the bound is in the OpenAPI schema');
});

test('a 1,000-class mixture keeps the X-Class header under 1 kB: the 5 heaviest classes and the count', async () => {
  const mixture = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [String(i), 1 + (i % 7) / 10 + i / 1e6]));
  const res = await post('/generate', { class: mixture, seed: 1 });
  assert.equal(res.statusCode, 200);
  const header = String(res.headers['x-class']);
  assert.ok(header.length < 1024, `X-Class is ${header.length} bytes`);
  const top = JSON.parse(header) as Record<string, number>;
  // Weights 1.6 + i/1e6 for i = 6 mod 7: the five largest i are 993, 986, 979, 972, 965.
  assert.deepEqual(Object.keys(top), ['965', '972', '979', '986', '993']);
  assert.equal(res.headers['x-class-count'], '1000');
  const small = await post('/generate', { class: { '1': 0.25, '207': 0.75 }, seed: 1 });
  assert.deepEqual(JSON.parse(String(small.headers['x-class'])), { '1': 0.25, '207': 0.75 });
  assert.equal(small.headers['x-class-count'], '2');
});

test('interpolate with gif and grid is refused naming grid; a grid without format is a PNG', async () => {
  const req = { from: { seed: 1, class: 1 }, to: { seed: 2, class: 2 }, frames: 2 };
  const both = await post('/interpolate', { ...req, format: 'gif', grid: true });
  assert.equal(both.statusCode, 400, 'gif + grid must not drop the grid silently');
  assert.equal(errorOf(both).field, 'grid');
  assert.match(errorOf(both).message, /format gif/);
  const grid = await post('/interpolate', { ...req, grid: true });
  assert.equal(grid.statusCode, 200);
  assert.equal(grid.headers['content-type'], 'image/png');
  const webp = await post('/interpolate', { ...req, format: 'webp', grid: true });
  assert.equal(webp.headers['content-type'], 'image/webp');
});

test('a wrong method answers 405 with Allow; an unknown path stays 404', async () => {
  const fake = new FakeService();
  const app = buildHttpApp(fake, fake, createMetrics(), { bodyLimitBytes: 1024, version: 'test' });
  const cases: [string, string, string][] = [
    // GET /generate is a route too (seeded URLs): another method on it names both.
    ['PUT', '/generate', 'GET, HEAD, POST'],
    ['OPTIONS', '/v1/generate', 'GET, HEAD, POST'],
    ['PUT', '/interpolate?x=1', 'POST'],
    ['DELETE', '/healthz', 'GET, HEAD'],
    ['POST', '/metrics', 'GET, HEAD'],
    // The playground page lives at /.
    ['OPTIONS', '/', 'GET, HEAD'],
  ];
  for (const [method, url, allow] of cases) {
    const res = await app.inject({ method: method as 'GET', url });
    assert.equal(res.statusCode, 405, `${method} ${url}`);
    assert.equal(res.headers.allow, allow);
    assert.equal(errorOf(res).code, 'METHOD_NOT_ALLOWED');
  }
  for (const [method, url] of [
    ['GET', '/nope'],
    ['POST', '/generate/extra'],
    ['OPTIONS', '/nope'],
  ]) {
    const res = await app.inject({ method: method as 'GET', url });
    assert.equal(res.statusCode, 404, `${method} ${url}`);
    assert.equal(res.headers.allow, undefined);
  }
  await app.close();
});

test('request logs redact secrets in query strings', async () => {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const fake = new FakeService();
  const app = buildHttpApp(fake, fake, createMetrics(), {
    bodyLimitBytes: 1024,
    version: 'test',
    logger: createLogger({ stream }, 'info'),
  });
  // Not a probe route: probes log at debug, below this logger's level.
  await app.inject({
    method: 'GET',
    url: '/v1/classes?api_key=SEKRIT1&page=2&Access-Token=SEKRIT2&x_password=SEKRIT3&apikey=SEKRIT4&token',
  });
  await app.inject({ method: 'GET', url: '/nope?secret=SEKRIT5' });
  await app.close();
  const logged = lines.join('\n');
  assert.match(
    logged,
    /"url":"\/v1\/classes\?api_key=REDACTED&page=2&Access-Token=REDACTED&x_password=REDACTED&apikey=REDACTED&token"/,
  );
  assert.match(logged, /secret=REDACTED/);
  assert.doesNotMatch(logged, /SEKRIT/);
});
