/** Dataset progress: a bar redrawn in place on a terminal, a line per interval otherwise, a summary. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDatasetProgress } from '../../src/dataset/progress.js';

function sink(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, out: { isTTY, write: (s: string) => writes.push(s) } };
}

test('on a terminal: a bar with images, images/s and ETA, redrawn with \\r; then the summary', () => {
  let now = 0;
  const { writes, out } = sink(true);
  const p = createDatasetProgress(100, 'dataset', out, 10_000, () => now);
  now = 1000;
  p.add(10);
  now = 2000;
  p.add(10);
  assert.equal(writes.length, 2);
  assert.match(writes[1], /^\rdataset \[#{6}\.{24}\] 20\/100 images, 10\.0 images\/s, ETA 0:08/);
  now = 10_000;
  p.add(80);
  p.end({ images: 100, shards: 2, bytes: 2_500_000, skippedShards: 1 });
  assert.match(
    writes.at(-1)!,
    /^dataset: wrote 100 images in 2 shard\(s\), 2\.5 MB, 10\.0 s, 10\.00 images\/s \(1 finished shard\(s\) verified and kept\)\n$/,
  );
});

test('off a terminal: one plain line per interval, no control characters', () => {
  let now = 0;
  const { writes, out } = sink(false);
  const p = createDatasetProgress(1000, 'dataset part 1/4', out, 10_000, () => now);
  for (let t = 1; t <= 25; t++) {
    now = t * 1000;
    p.add(10);
  }
  assert.deepEqual(writes, [
    'dataset part 1/4: 100/1000 images, 10.0 images/s, ETA 1:30\n',
    'dataset part 1/4: 200/1000 images, 10.0 images/s, ETA 1:20\n',
  ]);
});
