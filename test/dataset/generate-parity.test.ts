/**
 * Every sample of a dataset equals what a real server answers to POST /generate with that
 * sample's own `.json` (class, seed, truncation, model; count 1): the same PNG bytes. The server
 * is the real one (startServer on the tiny-128 fixture, ephemeral port); the dataset is written by
 * the library entry the CLI uses, on a separate engine.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseServerConfig } from '../../src/config/server-config.js';
import { startServer, type RunningServer } from '../../src/server/start.js';
import { loadModel } from '../../src/model/load-model.js';
import { createEngine } from '../../src/engine/create-engine.js';
import { filesDigest } from '../../src/weights/file-digest.js';
import { runDataset } from '../../src/dataset/run-dataset.js';
import type { DatasetSpec } from '../../src/dataset/spec.js';
import { FIXTURE_DIR } from '../helpers/fixtures.js';
import { readTar } from './tar-reader.js';

let server: RunningServer;
let base: string;
let tmp: string;
before(async () => {
  const { config } = parseServerConfig(
    [
      '--weights',
      FIXTURE_DIR,
      '--http-port',
      '0',
      '--grpc-port=-1',
      '--host',
      '127.0.0.1',
      '--log-level',
      'silent',
      '--cache-size',
      '0',
    ],
    {},
  );
  server = await startServer(config, { logger: false });
  base = `http://127.0.0.1:${server.httpPort}`;
  tmp = await mkdtemp(path.join(os.tmpdir(), 'biggan-dataset-parity-'));
});
after(async () => {
  await server?.stop();
  await rm(tmp, { recursive: true, force: true });
});

async function writeDataset(format: DatasetSpec['format'], seed: string): Promise<string> {
  const dir = path.join(tmp, format);
  const loaded = await loadModel(FIXTURE_DIR);
  const engine = await createEngine(loaded.folded, { engine: 'auto' });
  const weightsSha256 = await filesDigest([path.join(FIXTURE_DIR, 'config.json'), loaded.weightFile]);
  const spec: DatasetSpec = {
    model: 'tiny-128',
    weightsSha256,
    classes: [207, 0, 999],
    perClass: 2,
    truncation: 0.7,
    seed,
    format,
    shardSize: 4,
    prefix: 'p',
  };
  try {
    const r = await runDataset({ engine, spec, dir, part: 0, parts: 1, batchSize: 4, progress: { write: () => true } });
    assert.equal(r.merged, true);
  } finally {
    await engine.dispose();
  }
  return dir;
}

for (const [format, ext, mime, seed] of [
  ['png', 'png', 'image/png', '9007199254740990'],
  ['webp', 'webp', 'image/webp', '3'],
] as const) {
  test(`every ${format} sample equals POST /generate with its .json's class, seed and truncation`, async () => {
    const dir = await writeDataset(format, seed);
    const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as {
      spec: { weights_sha256: string };
      shards: { name: string }[];
    };
    let compared = 0;
    for (const shard of manifest.shards) {
      const members = await readTar(path.join(dir, shard.name));
      for (let j = 0; j < members.length; j += 3) {
        const text = members[j + 1].data.toString();
        const info = JSON.parse(text) as { class: number; truncation: number; model: string; weights_sha256: string };
        // The seed may exceed 2^53: take its exact digits from the text, as a client must.
        const exactSeed = /"seed":(\d+)/.exec(text)![1];
        assert.equal(info.weights_sha256, manifest.spec.weights_sha256);
        const res = await fetch(`${base}/generate`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: mime },
          body: JSON.stringify({
            class: info.class,
            seed: exactSeed,
            truncation: info.truncation,
            count: 1,
            format,
            model: info.model,
          }),
        });
        assert.equal(res.status, 200, await res.clone().text());
        assert.equal(res.headers.get('x-seed'), exactSeed);
        const served = Buffer.from(await res.arrayBuffer());
        assert.ok(members[j + 2].name.endsWith(`.${ext}`));
        assert.ok(
          served.equals(members[j + 2].data),
          `sample ${members[j].name}: dataset bytes differ from POST /generate`,
        );
        compared++;
      }
    }
    assert.equal(compared, 6);
  });
}
