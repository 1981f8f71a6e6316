// The request contract's checks and their wording: each message names the field path and what is
// allowed, and quotes client values cut short.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileContract } from '../../src/service/contract/validate.js';
import { GenerateRequestSchema, InterpolateRequestSchema } from '../../src/service/contract/schemas.js';
import { BigGanError } from '../../src/errors.js';

const generate = compileContract(GenerateRequestSchema);
const interpolate = compileContract(InterpolateRequestSchema);

const CASES: [unknown, string, string][] = [
  [{ truncation: 2 }, 'truncation', 'truncation: must be a number in (0, 1], got 2'],
  [{ truncation: 0 }, 'truncation', 'truncation: must be a number in (0, 1], got 0'],
  [{ format: 'gif' }, 'format', 'format: must be one of png, jpeg, webp, got "gif"'],
  [
    { foo: 1 },
    'foo',
    'foo: unknown field; allowed fields: class, classVector, truncation, seed, z, count, format, grid, timeoutMs, priority, model',
  ],
  [{ class: -1 }, 'class', 'class: must be an integer >= 0, got -1'],
  [{ class: true }, 'class', 'class: must be an integer, a string, an object or a list, got boolean'],
  [{ class: [1, 'x', true] }, 'class[2]', 'class[2]: must be an integer, a string or an object, got boolean'],
  [
    { class: { 'golden retriever': -1 } },
    'class["golden retriever"]',
    'class["golden retriever"]: must be a number >= 0, got -1',
  ],
  [{ seed: -3 }, 'seed', 'seed: must be an integer >= 0, got -3'],
  [{ z: [[1, 2, 1e30]] }, 'z[0][2]', 'z[0][2]: must be a number in [-100, 100], got 1e+30'],
  [{ count: 0 }, 'count', 'count: must be an integer >= 1, got 0'],
  [{ timeoutMs: 1e9 }, 'timeoutMs', 'timeoutMs: must be an integer in 1..600000, got 1000000000'],
  [{ priority: 'urgent' }, 'priority', 'priority: must be one of normal, high, got "urgent"'],
  [{ grid: 'yes' }, 'grid', 'grid: must be true or false, got string'],
  ['text', 'body', 'body: must be an object, got string'],
];

for (const [value, field, message] of CASES) {
  test(`generate ${JSON.stringify(value)} -> ${message}`, () => {
    const err = generate.problem(value);
    assert.ok(err instanceof BigGanError);
    assert.equal(err.code, 'INVALID_ARGUMENT');
    assert.equal(err.field, field);
    assert.equal(err.message, message);
    assert.throws(
      () => generate.parse(value),
      (e: unknown) => e instanceof BigGanError && e.message === message,
    );
  });
}

test('valid requests pass and keep their values', () => {
  const req = {
    class: 'golden retriever',
    truncation: 0.4,
    seed: '18446744073709551615',
    count: 4,
    format: 'webp',
    grid: true,
    priority: 'high',
  };
  assert.equal(generate.problem(req), undefined);
  assert.deepEqual(generate.parse(req), req);
  assert.equal(
    interpolate.problem({
      from: { seed: 1, class: 1 },
      to: { z: [0.5], classVector: [1] },
      method: 'slerp',
      frames: 4,
    }),
    undefined,
  );
});

test('long client values are quoted cut short', () => {
  const err = generate.problem({ format: 'x'.repeat(80_000) });
  assert.ok(err);
  assert.ok(err.message.length < 200, `message is ${err.message.length} characters`);
  assert.match(err.message, /\(80000 characters\)$/);
});

test('nested paths name the endpoint field', () => {
  assert.equal(interpolate.problem({})?.message, 'from: is required');
  assert.equal(
    interpolate.problem({ from: {}, to: { foo: 1 } })?.message,
    'to.foo: unknown field; allowed fields: seed, z, class, classVector',
  );
  assert.equal(interpolate.problem({ from: { z: [1e9] }, to: {} })?.field, 'from.z[0]');
  assert.equal(
    interpolate.problem({ from: {}, to: {}, method: 'cubic' })?.message,
    'method: must be one of lerp, slerp, got "cubic"',
  );
});
