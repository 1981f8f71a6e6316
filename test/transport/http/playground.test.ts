/**
 * The playground plugin without a browser: the page at / and /playground, its modules and
 * stylesheet under /playground/assets/, its size, and a helpful 404 when it was never built.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import Fastify from 'fastify';
import { registerPlayground, playgroundDir } from '../../../src/transport/http/playground.js';

const TEST_IDS = [
  'model',
  'class-input',
  'mix-class-input',
  'mix',
  'truncation',
  'seed',
  'reroll',
  'count',
  'format',
  'generate',
  'error',
  'tab-generate',
  'tab-interpolate',
  'interp-from-class',
  'interp-from-seed',
  'interp-to-class',
  'interp-to-seed',
  'interp-frames',
  'interp-run',
  'interp-result',
];

test('GET / and GET /playground answer the page, with every static data-testid; assets are served', async () => {
  const app = Fastify();
  registerPlayground(app);
  for (const url of ['/', '/playground']) {
    const res = await app.inject({ url });
    assert.equal(res.statusCode, 200, url);
    assert.match(String(res.headers['content-type']), /^text\/html/);
    for (const id of TEST_IDS) assert.ok(res.body.includes(`data-testid="${id}"`), `${url} lacks data-testid=${id}`);
    // Relative asset URLs: the page works behind a path prefix too.
    assert.ok(res.body.includes('src="playground/assets/main.js"'));
  }
  const js = await app.inject({ url: '/playground/assets/main.js' });
  assert.equal(js.statusCode, 200);
  assert.match(String(js.headers['content-type']), /javascript/);
  const css = await app.inject({ url: '/playground/assets/style.css' });
  assert.match(String(css.headers['content-type']), /^text\/css/);
  assert.equal((await app.inject({ url: '/playground/assets/nope.js' })).statusCode, 404);
  await app.close();
});

test('the whole page stays small: under 30 KB gzipped, no external URLs (works offline)', () => {
  const dir = playgroundDir();
  let gz = 0;
  for (const name of readdirSync(dir)) {
    const text = readFileSync(path.join(dir, name));
    gz += gzipSync(text, { level: 9 }).length;
    assert.doesNotMatch(
      text.toString(),
      /(src|href)=["']https?:|import[^;]*["']https?:|url\(["']?https?:/,
      `${name} loads something from the network`,
    );
  }
  assert.ok(gz < 30 * 1024, `the playground is ${gz} bytes gzipped`);
});

test('an unbuilt playground answers 404 saying how to build it', async () => {
  const app = Fastify();
  registerPlayground(app, mkdtempSync(path.join(tmpdir(), 'no-playground-')));
  const res = await app.inject({ url: '/' });
  assert.equal(res.statusCode, 404);
  assert.match(res.body, /npm run build/);
  await app.close();
});
