// The typed REST client against a real server socket on the tiny fixture: images equal the raw
// API's, errors come back as BigGanError with the server's code and field.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createStack, type Stack } from '../helpers/stack.js';
import { createRestClient, type RestClient } from '../../src/index.js';
import { BigGanError } from '../../src/errors.js';

let s: Stack;
let client: RestClient;
let base: string;
before(async () => {
  s = await createStack({ maxBatchSize: 4, maxQueueDelayMs: 1 }, 16);
  await s.app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(s.app.server.address() as { port: number }).port}`;
  client = createRestClient(base);
});
after(() => s.app.close());

test('generate returns the same bytes as the raw API, with seeds and classes', async () => {
  const images = await client.generate({ class: 207, seed: 7, count: 2, truncation: 0.5 });
  assert.deepEqual(
    images.map((i) => i.seed),
    [7, 8],
  );
  const raw = await fetch(`${base}/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ class: 207, seed: 8, truncation: 0.5 }),
  });
  assert.deepEqual(Buffer.from(images[1].bytes), Buffer.from(await raw.arrayBuffer()));
  const grid = await client.generateGrid({ class: 1, seed: 1, count: 4 });
  assert.equal(Buffer.from(grid.subarray(1, 4)).toString(), 'PNG');
  const frames = await client.interpolateFrames({
    from: { seed: 1, class: 1 },
    to: { seed: 2, class: 2 },
    frames: 3,
    format: 'png',
  });
  assert.equal(frames.length, 3);
  assert.equal((await client.classes()).classes[207].wnid, 'n02099601');
});

test('errors carry the server code, message and field', async () => {
  await assert.rejects(
    client.generate({ class: 207, truncation: 2 }),
    (e: unknown) =>
      e instanceof BigGanError &&
      e.code === 'INVALID_ARGUMENT' &&
      e.field === 'truncation' &&
      /\(0, 1\]/.test(e.message),
  );
});
