// An error answer to a seeded (cacheable) request must not carry the success's caching headers:
// a 503 from a draining replica marked `public, max-age=31536000, immutable` with the image's
// strong ETag would be kept by browsers, an ingress cache or a CDN for a year in place of the image.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createStack, type Stack } from '../../helpers/stack.js';

let s: Stack;
before(async () => {
  s = await createStack({ maxBatchSize: 8, maxQueueDelayMs: 2, maxQueueSize: 64 }, 16, 8 * 1024 * 1024);
  await s.app.ready();
});

test('errors on seeded requests are no-store and carry no ETag (GET, POST, /interpolate)', async () => {
  const ok = await s.app.inject({ method: 'GET', url: '/generate?class=3&seed=30' });
  assert.equal(ok.statusCode, 200);
  assert.equal(ok.headers['cache-control'], 'public, max-age=31536000, immutable', 'control: a success is cacheable');
  s.service.startDrain();
  const answers = [
    await s.app.inject({ method: 'GET', url: '/generate?class=3&seed=31' }),
    await s.app.inject({ method: 'POST', url: '/generate', payload: { class: 3, seed: 32 } }),
    await s.app.inject({
      method: 'POST',
      url: '/interpolate',
      payload: { from: { seed: 1, class: 1 }, to: { seed: 2, class: 2 }, frames: 3, format: 'png' },
    }),
  ];
  for (const r of answers) {
    assert.equal(r.statusCode, 503, r.body);
    assert.equal(r.headers.etag, undefined, `${r.statusCode} must not carry an ETag`);
    assert.equal(r.headers['cache-control'], 'no-store', `${r.statusCode} must not be stored`);
  }
});
