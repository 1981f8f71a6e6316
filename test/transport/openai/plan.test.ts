/**
 * The OpenAI transport's pure parts: choosing the model from `model` / `size`, the native request
 * and revised prompt of a plan, the OpenAI error shape of each status, and the two serve flags.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseModel, planImages, revisedPrompt } from '../../../src/transport/openai/plan.js';
import { openAiError } from '../../../src/transport/openai/errors.js';
import { seededImageUrl } from '../../../src/transport/openai/image-urls.js';
import type { ServedModel } from '../../../src/transport/openai/service-port.js';
import { parseServerConfig } from '../../../src/config/server-config.js';
import { BigGanError } from '../../../src/errors.js';

const model = (name: string, resolution: number, isDefault = false): ServedModel => ({
  name,
  resolution,
  isDefault,
  maxSamplesPerRequest: 4,
  defaultTruncation: 0.4,
});
const MODELS = [model('a256', 256), model('b128', 128, true), model('c256', 256)];

const fieldOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof BigGanError);
    return err.field;
  }
  assert.fail('expected a refusal');
};

test('the model: named; else the default when it serves size; else the first by name that does', () => {
  assert.equal(chooseModel({}, MODELS).name, 'b128');
  assert.equal(chooseModel({ size: 'auto' }, MODELS).name, 'b128');
  assert.equal(chooseModel({ size: '128x128' }, MODELS).name, 'b128');
  assert.equal(chooseModel({ size: '256x256' }, MODELS).name, 'a256');
  assert.equal(chooseModel({ model: 'c256', size: '256x256' }, MODELS).name, 'c256');
  assert.equal(
    fieldOf(() => chooseModel({ size: '512x512' }, MODELS)),
    'size',
  );
  assert.equal(
    fieldOf(() => chooseModel({ size: '256x128' }, MODELS)),
    'size',
  );
  assert.equal(
    fieldOf(() => chooseModel({ model: 'c256', size: '128x128' }, MODELS)),
    'size',
  );
  assert.equal(
    fieldOf(() => chooseModel({ model: 'dall-e-3' }, MODELS)),
    'model',
  );
});

test('a plan: the native request, n within the model limit, url answers always seeded', () => {
  const plan = planImages(
    { prompt: 'golden retriever and tennis ball', n: 2, seed: 7, response_format: 'b64_json' },
    MODELS,
  );
  assert.deepEqual(plan.native, {
    class: { 207: 0.5, 852: 0.5 },
    count: 2,
    truncation: 0.4,
    model: 'b128',
    format: 'png',
    seed: 7,
  });
  assert.equal(
    revisedPrompt(plan, 0.4, 8n),
    'golden retriever (207) weight 0.5, tennis ball (852) weight 0.5; truncation 0.4; seed 8',
  );
  assert.equal(planImages({ prompt: 'class 1', response_format: 'b64_json' }, MODELS).native.seed, undefined);
  assert.equal(typeof planImages({ prompt: 'class 1' }, MODELS).native.seed, 'number');
  assert.equal(
    fieldOf(() => planImages({ prompt: 'class 1', n: 5 }, MODELS)),
    'n',
  );
  assert.equal(
    fieldOf(() => planImages({ prompt: 'class 1', stream: true }, MODELS)),
    'stream',
  );
  assert.equal(
    fieldOf(() => planImages({ prompt: 'nothing here' }, MODELS)),
    'prompt',
  );
});

test('seeded URLs name everything that decides the pixels', () => {
  const url = seededImageUrl('https://x.example/p', {
    model: 'b128',
    class: { 207: 0.5, 852: 0.5 },
    seed: 9n,
    truncation: 0.4,
  });
  assert.equal(
    url,
    'https://x.example/p/generate?class=207%3A0.5%2C852%3A0.5&seed=9&truncation=0.4&model=b128&format=png',
  );
});

test('errors: OpenAI types by status, OpenAI codes where known, native fields as OpenAI params', () => {
  assert.deepEqual(openAiError(400, 'INVALID_ARGUMENT', 'count: too many', 'count'), {
    error: { message: 'count: too many', type: 'invalid_request_error', param: 'n', code: 'invalid_argument' },
  });
  assert.equal(openAiError(400, 'INVALID_ARGUMENT', 'm', 'class["x"]').error.param, 'prompt');
  assert.equal(openAiError(401, 'UNAUTHENTICATED', 'm').error.code, 'invalid_api_key');
  assert.equal(openAiError(401, 'UNAUTHENTICATED', 'm').error.type, 'authentication_error');
  assert.equal(openAiError(403, 'PERMISSION_DENIED', 'm').error.type, 'permission_error');
  assert.equal(openAiError(404, 'NOT_FOUND', 'm', 'model').error.code, 'model_not_found');
  assert.deepEqual(openAiError(429, 'RATE_LIMITED', 'm').error, {
    message: 'm',
    type: 'rate_limit_error',
    param: null,
    code: 'rate_limit_exceeded',
  });
  assert.equal(openAiError(503, 'OVERLOADED', 'm').error.type, 'server_error');
  assert.equal(openAiError(500, 'INTERNAL', 'm').error.type, 'server_error');
});

test('--trust-proxy and --public-base-url (flags and environment)', () => {
  assert.equal(parseServerConfig([], {}).config.http.trustProxy, false);
  assert.equal(parseServerConfig(['--trust-proxy'], {}).config.http.trustProxy, true);
  assert.equal(parseServerConfig([], { BIGGAN_TRUST_PROXY: 'true' }).config.http.trustProxy, true);
  assert.equal(
    parseServerConfig(['--public-base-url', 'https://a.example/b/'], {}).config.http.publicBaseUrl,
    'https://a.example/b',
  );
  assert.equal(parseServerConfig([], { BIGGAN_PUBLIC_BASE_URL: '' }).config.http.publicBaseUrl, undefined);
  for (const bad of ['images.example.com', 'ftp://a.example', 'https://a.example/?x=1']) {
    assert.throws(
      () => parseServerConfig(['--public-base-url', bad], {}),
      /--public-base-url: expected an absolute http\(s\) URL/,
    );
  }
});
