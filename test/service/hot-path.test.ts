/**
 * The cache hit's hot path (issue 20): a request is planned and hashed once although the transport
 * asks for its keys (ETag, negotiation) before generating it; the model's parameter count is
 * computed once per config; a model's description is built once per engine/backend; URL
 * redaction's fast path still redacts every secret spelling.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStack } from '../helpers/stack.js';
import { CachingService } from '../../src/service/cache/caching-service.js';
import { ENCODER_ID } from '../../src/image/encode.js';
import { presetConfig, parameterCount, expectedStateDict, numel } from '../../src/model/config.js';
import { redactUrl } from '../../src/tracing/redact.js';
import type { GenerateRequest } from '../../src/service/types.js';
import { ModelRepository, type LoadedModel } from '../../src/service/repository/model-repository.js';
import { ModelHandle } from '../../src/service/repository/model-handle.js';
import type { ModelSource } from '../../src/service/repository/model-source.js';

test('generateKeys then generate of one request plans and hashes its images once, and the hit answers the same bytes', async () => {
  const stack = await createStack();
  // Every image key hashes the model digest: counting its reads counts the hashing rounds.
  let digestReads = 0;
  const keyContext = {
    get modelDigest() {
      digestReads++;
      return 'digest-of-the-fixture';
    },
    encoderId: ENCODER_ID,
  };
  const cache = new CachingService(stack.service, { maxBytes: 1 << 20, keyContext });
  const ctx = { transport: 'http' as const };
  const first: GenerateRequest = { class: 207, seed: '7', truncation: 0.4, count: 2 };
  const keys = cache.generateKeys(first);
  const miss = await cache.generate(first, ctx);
  assert.equal(keys.count, 2);
  assert.equal(digestReads, 2, 'two images, each hashed once for keys and generate together');
  const again: GenerateRequest = { class: 207, seed: '7', truncation: 0.4, count: 2 };
  digestReads = 0;
  const sameKeys = cache.generateKeys(again);
  const hit = await cache.generate(again, ctx);
  assert.equal(digestReads, 2);
  assert.equal(sameKeys.response, keys.response, 'the same request has the same identity');
  assert.deepEqual(
    hit.images.map((i) => i.data),
    miss.images.map((i) => i.data),
  );
  // A request generated without asking for its keys first is still planned (once).
  digestReads = 0;
  await cache.generate({ class: 207, seed: '7', truncation: 0.4 }, ctx);
  assert.equal(digestReads, 1);
  // A plan kept by generateKeys is used by one generate only: the next call plans afresh.
  digestReads = 0;
  await cache.generate(again, ctx);
  assert.equal(digestReads, 2);
  await stack.app.close();
  stack.batcher.close();
});

test('parameterCount is the sum over the parameters of the state_dict, the same on every call of a frozen config', () => {
  const c = presetConfig('biggan-deep-128');
  let expected = 0;
  for (const t of expectedStateDict(c).values()) if (t.role === 'parameter') expected += numel(t.shape);
  assert.equal(parameterCount(c), expected);
  assert.equal(parameterCount(c), expected, 'the memoised answer');
  const narrow = presetConfig('biggan-deep-128', 8);
  assert.notEqual(parameterCount(narrow), expected, 'a different config has its own count');
  assert.equal(parameterCount({ ...c }), expected, 'an unfrozen copy is counted (and not memoised)');
});

test('redaction: the fast path keeps ordinary queries as sent and still finds every secret spelling', () => {
  const plain = '/generate?class=207&seed=7&truncation=0.4';
  assert.equal(redactUrl(plain), plain);
  assert.equal(redactUrl('/g?class=207&Api-Key=s'), '/g?class=207&Api-Key=REDACTED');
  assert.equal(redactUrl('/g?ap%69_key=s&seed=1'), '/g?ap%69_key=REDACTED&seed=1', 'an escaped letter');
  assert.equal(redactUrl('/g?seed=1&\u212Aey=s'), '/g?seed=1&\u212Aey=REDACTED', 'the Kelvin sign lower-cases to k');
  assert.equal(redactUrl('/g?seed=1&db_secret=s'), '/g?seed=1&db_secret=REDACTED');
  assert.equal(redactUrl('/g?SIG=s'), '/g?SIG=REDACTED');
});

test('a model handle describes its model once per engine/backend: the same frozen object until the model loads', async () => {
  const config = presetConfig('biggan-deep-128', 8);
  const source: ModelSource = {
    name: 'm',
    dir: '/nowhere/m',
    config,
    weightFile: '',
    digest: 'm',
    serving: { maxBatchSize: 2, maxQueueDelayMs: 0, maxQueueSize: 8 },
    servingFrom: 'default',
    memory: { weightsBytes: 1, activationBytes: 0, totalBytes: 1 },
  };
  const service = {
    whenIdle: async () => undefined,
    startDrain: () => undefined,
    isReady: () => true,
  } as unknown as LoadedModel['service'];
  const repository = new ModelRepository([source], {
    budgetBytes: 2 ** 30,
    defaultModel: 'm',
    load: async () => ({ service, engine: 'ort', backend: 'cpu', dispose: async () => undefined }),
  });
  const handle = new ModelHandle(source, repository, { maxSamplesPerRequest: 16, engine: 'auto' });
  const before = handle.model;
  assert.equal(handle.model, before, 'the same object on every read');
  assert.ok(Object.isFrozen(before));
  assert.deepEqual([before.engine, before.backend, before.parameters], ['auto', 'unknown', parameterCount(config)]);
  (await repository.acquire('m')).release();
  const after = handle.model;
  assert.notEqual(after, before, 'rebuilt once the model is loaded');
  assert.deepEqual([after.engine, after.backend, after.maxBatchSize], ['ort', 'cpu', 2]);
  assert.equal(handle.model, after);
});
