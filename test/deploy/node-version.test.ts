/**
 * The images run Node 24 LTS; package.json's `engines` floor is Node 22 (Node 20 is end-of-life and
 * dependencies of fastify already need 22). CI runs the suite on both (.ci/run).
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
  for (const m of dockerfile.matchAll(/^FROM (node:\S+)/gm))
    assert.fail(`hard-coded Node image ${m[1]}: use \${NODE_IMAGE}`);
  assert.doesNotMatch(
    dockerfile,
    /Node 20 (slim|itself)|with Node 20/,
    'comments name the Node version the images use',
  );
});

test('package.json engines put the floor at Node 22, and CI runs Node 24 and 22', () => {
  const pkg = JSON.parse(read('package.json')) as { engines: { node: string } };
  assert.equal(pkg.engines.node, '>=22');
  const ci = read('.ci/run');
  assert.match(ci, /node_bin_dir 24/);
  assert.match(ci, /node_bin_dir 22/);
});

test('install scripts are decided in package.json, not by an unknown .npmrc key', () => {
  const pkg = JSON.parse(read('package.json')) as { allowScripts: Record<string, boolean> };
  // onnxruntime-node's script only downloads the CUDA provider: off here, run explicitly by the GPU image.
  assert.equal(pkg.allowScripts['onnxruntime-node'], false);
  assert.equal(pkg.allowScripts['esbuild'], false);
  let npmrc = '';
  try {
    npmrc = read('.npmrc');
  } catch {
    npmrc = '';
  }
  assert.doesNotMatch(npmrc, /onnxruntime-node-install/);
});
