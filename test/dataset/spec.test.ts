/** The dataset layout: --classes parsing, sample order, keys, per-sample seeds, shards and parts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BigGanError } from '../../src/errors.js';
import {
  parseClassList,
  sampleInfo,
  shardCount,
  shardName,
  shardRange,
  shardsOfPart,
  specDigest,
  type DatasetSpec,
} from '../../src/dataset/spec.js';
import { sampleJson } from '../../src/dataset/pipeline.js';

const spec: DatasetSpec = {
  model: 'm',
  weightsSha256: 'ab',
  classes: [207, 1, 5],
  perClass: 4,
  truncation: 0.5,
  seed: '18446744073709551614',
  format: 'png',
  shardSize: 5,
  prefix: 'p',
};

test('--classes takes indices, ranges, WordNet ids and names, in the order given', () => {
  assert.deepEqual(parseClassList('0-3', 1000), [0, 1, 2, 3]);
  assert.deepEqual(parseClassList('207, 208', 1000), [207, 208]);
  assert.deepEqual(parseClassList('golden retriever', 1000), [207]);
  assert.deepEqual(parseClassList('n01440764,golden retriever,3-4', 1000), [0, 207, 3, 4]);
  assert.equal(parseClassList('0-999', 1000).length, 1000);
});

test('a bad --classes is refused naming the flag and what is allowed', () => {
  const bad: [string, RegExp][] = [
    ['zebrafoo', /--classes: unknown class/],
    ['0-1000', /--classes: .*0\.\.999/],
    ['5-2', /--classes: range 5-2 runs backwards/],
    ['1,1', /--classes: lists class 1 twice/],
    ['1,,2', /--classes: has an empty item/],
    ['', /--classes: is empty/],
  ];
  for (const [raw, re] of bad) {
    assert.throws(
      () => parseClassList(raw, 1000),
      (e: unknown) => e instanceof BigGanError && e.code === 'INVALID_ARGUMENT' && re.test(e.message),
      raw,
    );
  }
});

test('samples go by class, then index; seeds are seed + i mod 2^64; keys sort in dataset order', () => {
  const infos = Array.from({ length: 12 }, (_, i) => sampleInfo(spec, i));
  assert.deepEqual(
    infos.map((s) => s.classIndex),
    [207, 207, 207, 207, 1, 1, 1, 1, 5, 5, 5, 5],
  );
  assert.equal(infos[0].seed, 18446744073709551614n);
  assert.equal(infos[1].seed, 18446744073709551615n);
  assert.equal(infos[2].seed, 0n); // wraps like /generate's seedForSample
  assert.deepEqual(
    infos.map((s) => s.key),
    [...infos.map((s) => s.key)].sort(),
  );
  assert.equal(infos[11].key, '000000011');
  for (const s of infos) assert.ok(!s.key.includes('.'));
});

test('shard k holds samples kK..kK+K-1, only the last is shorter; part I owns shards k = I mod N', () => {
  assert.equal(shardCount(spec), 3);
  assert.deepEqual(
    [0, 1, 2].map((k) => shardRange(spec, k)),
    [
      { start: 0, end: 5 },
      { start: 5, end: 10 },
      { start: 10, end: 12 },
    ],
  );
  assert.equal(shardName('p', 2), 'p-000002.tar');
  assert.deepEqual(shardsOfPart(spec, 0, 2), [0, 2]);
  assert.deepEqual(shardsOfPart(spec, 1, 2), [1]);
  assert.deepEqual(shardsOfPart(spec, 3, 4), []);
  assert.notEqual(specDigest(spec), specDigest({ ...spec, seed: '1' }));
});

test('the sample JSON holds the seed as an exact integer beyond 2^53', () => {
  const text = sampleJson(spec, sampleInfo(spec, 1), 1000);
  assert.match(text, /"seed":18446744073709551615,/);
  const parsed = JSON.parse(text) as Record<string, unknown>;
  assert.equal(parsed.class, 207);
  assert.equal(parsed.wnid, 'n02099601');
  assert.equal(parsed.name, 'golden retriever');
  assert.equal(parsed.truncation, 0.5);
  assert.equal(parsed.model, 'm');
  assert.equal(parsed.weights_sha256, 'ab');
});
