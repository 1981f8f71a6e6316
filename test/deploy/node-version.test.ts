/**
 * The images run Node 24 LTS (Node 20 is end-of-life), while package.json keeps `engines` at
 * >= 20 so that the code (and this test suite) still runs on Node 20.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const read = (file: string): string => readFileSync(path.join(process.cwd(), file), 'utf8');

test('every image takes node from NODE_IMAGE, which defaults to Node 24 LTS', () => {
  const dockerfile = read('Dockerfile');
  assert.match(dockerfile, /^ARG NODE_IMAGE=node:24-bookworm-slim$/m);
  // The CUDA images copy the binary from the `node` stage, itself FROM ${NODE_IMAGE}.
  assert.match(dockerfile, /^FROM \$\{NODE_IMAGE\} AS node$/m);
  for (const m of dockerfile.matchAll(/^COPY --from=(\S+) \/usr\/local\/bin\/node /gm)) assert.equal(m[1], 'node');
  for (const m of dockerfile.matchAll(/^FROM (node:\S+)/gm)) assert.fail(`hard-coded Node image ${m[1]}: use \${NODE_IMAGE}`);
  assert.doesNotMatch(dockerfile, /Node 20 (slim|itself)|with Node 20/, 'comments name the Node version the images use');
});

test('package.json engines still allow Node 20', () => {
  const pkg = JSON.parse(read('package.json')) as { engines: { node: string } };
  // Node 20 stays supported (>=20.15 for zlib.crc32, which the zip reader uses).
  assert.match(pkg.engines.node, /^>=20(\.\d+){0,2}$/);
});
