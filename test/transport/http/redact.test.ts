/** Redaction of secret-looking query parameters in logged URLs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redactUrl } from '../../../src/tracing/redact.js';
import { quoteValue, truncateText } from '../../../src/errors.js';

test('secret-looking parameters are redacted; everything else is kept byte for byte', () => {
  assert.equal(redactUrl('/generate'), '/generate');
  assert.equal(redactUrl('/a?x=1&y=%20+z'), '/a?x=1&y=%20+z');
  assert.equal(
    redactUrl('/a?API_KEY=1&Token=2&access%5Ftoken=3&github_token=4&db-password=5&keyboard=6'),
    '/a?API_KEY=REDACTED&Token=REDACTED&access%5Ftoken=REDACTED&github_token=REDACTED&db-password=REDACTED&keyboard=6',
  );
  assert.equal(redactUrl('/a?secret=1#frag'), '/a?secret=REDACTED#frag');
  assert.equal(redactUrl('/a?token&password=&%E0%A4%A=1'), '/a?token&password=REDACTED&%E0%A4%A=1');
});

test('quoteValue bounds what a message quotes, without splitting a character', () => {
  assert.equal(quoteValue('png'), '"png"');
  assert.equal(quoteValue('x'.repeat(100)), `"${'x'.repeat(61)}..." (100 characters)`);
  assert.equal(quoteValue([1, 2, 3]), 'a list of 3');
  assert.equal(quoteValue({ a: 1 }), 'an object with 1 key');
  assert.equal(quoteValue(1e30), '1e+30');
  // Emoji are two UTF-16 units each: a cut never keeps half of one.
  assert.equal(truncateText('a😀😀😀', 5), 'a...');
  assert.equal(truncateText('ab😀😀c', 6), 'ab...');
  assert.equal(truncateText('abc😀', 7), 'abc😀', 'short enough: unchanged');
});
