/**
 * The key file parser (line and field of every problem), key checks, and token-bucket arithmetic.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashKey, keyEntry, newKey, parseKeyFile } from '../../src/auth/key-file.js';
import { KeyStore, bearerToken } from '../../src/auth/key-store.js';
import { bucketLimits, rateLimitState, take } from '../../src/auth/token-bucket.js';
import { LocalQuotaStore } from '../../src/auth/quota-store.js';
import { BigGanError } from '../../src/errors.js';

const H = hashKey('k1');

function refusal(text: string): string {
  try {
    parseKeyFile(text, 'keys.json');
  } catch (err) {
    assert.ok(err instanceof BigGanError);
    assert.equal(err.code, 'INVALID_CONFIG');
    return err.message;
  }
  assert.fail('the file was accepted');
}

test('a valid file parses, with optional quota fields', () => {
  const keys = parseKeyFile(
    JSON.stringify({
      keys: [
        { name: 'alice', sha256: H, imagesPerSecond: 2, burst: 8, maxInFlight: 16 },
        { name: 'bob', sha256: hashKey('k2') },
      ],
    }),
  );
  assert.deepEqual(keys, [
    { name: 'alice', sha256: H, imagesPerSecond: 2, burst: 8, maxInFlight: 16 },
    { name: 'bob', sha256: hashKey('k2') },
  ]);
});

test('an invalid file names the line, column and field at fault', () => {
  const text = `{
  "keys": [
    {"name": "alice", "sha256": "${H}"},
    {"name": "bob", "sha256": "not-a-hash"}
  ]
}`;
  const msg = refusal(text);
  assert.match(msg, /^keys\.json:4:31: keys\[1\]\.sha256: must be 64 lower-case hex digits/);
  assert.match(
    refusal(`{"keys": [{"name": "a", "sha256": "${H}", "imagesPerSecond": -1}]}`),
    /keys\[0\]\.imagesPerSecond: must be a positive number/,
  );
  assert.match(
    refusal(`{"keys": [{"name": "a", "sha256": "${H}", "burst": 3}]}`),
    /keys\[0\]\.burst: needs imagesPerSecond/,
  );
  assert.match(refusal(`{"keys": [{"name": "a", "sha256": "${H}", "burts": 3}]}`), /keys\[0\]\.burts: unknown field/);
  assert.match(
    refusal(`{"keys": [{"name": "a", "sha256": "${H}"}, {"name": "a", "sha256": "${hashKey('x')}"}]}`),
    /keys\[1\]\.name: "a" is used by an earlier entry/,
  );
  assert.match(refusal(`{"keys": [{"name": "a b", "sha256": "${H}"}]}`), /keys\[0\]\.name/);
  // Syntax errors carry the line too.
  assert.match(refusal('{\n  "keys": [\n    {"name": "a",}\n  ]\n}'), /^keys\.json:3:\d+: /);
  assert.match(refusal('{"users": []}'), /users: unknown field/);
});

test('keys are checked by hash: unknown, missing and disabled keys are told apart', () => {
  const store = new KeyStore([
    { name: 'alice', sha256: hashKey('secret-a') },
    { name: 'off', sha256: hashKey('secret-off'), disabled: true },
  ]);
  const ok = store.authenticate('secret-a');
  assert.ok(ok.ok && ok.caller.name === 'alice');
  assert.deepEqual(store.authenticate('secret-b'), { ok: false, reason: 'unknown' });
  assert.deepEqual(store.authenticate(undefined), { ok: false, reason: 'missing' });
  assert.deepEqual(store.authenticate('secret-off'), { ok: false, reason: 'disabled', name: 'off' });
  store.replace([{ name: 'carol', sha256: hashKey('secret-c') }]);
  assert.equal(store.authenticate('secret-a').ok, false, 'a replaced set drops the old keys');
  assert.equal(bearerToken('Bearer abc'), 'abc');
  assert.equal(bearerToken('bearer   abc '), 'abc');
  assert.equal(bearerToken('Basic abc'), undefined);
});

test('new keys are random, 256-bit, and their entries hold only the hash', () => {
  const a = newKey();
  assert.notEqual(a, newKey());
  assert.match(a, /^bgs_[A-Za-z0-9_-]{43}$/);
  const entry = keyEntry('alice', a, { imagesPerSecond: 2, burst: 8 });
  assert.equal(entry.sha256, hashKey(a));
  assert.ok(!JSON.stringify(entry).includes(a));
});

test('a token bucket allows its burst, then refuses with the exact wait, and refills at its rate', () => {
  const limits = bucketLimits({ imagesPerSecond: 2, burst: 4 })!;
  const state = { tokens: 4, at: 0 };
  assert.equal(take(state, limits, 3, 0).allowed, true);
  const refused = take(state, limits, 3, 0);
  assert.equal(refused.allowed, false);
  assert.equal(refused.retryAfterMs, 1000, '2 more images at 2 images/s');
  assert.equal(take(state, limits, 3, 999).allowed, false);
  assert.equal(take(state, limits, 3, 1000).allowed, true);
  assert.deepEqual(rateLimitState(limits, 0.5), { limit: 4, remaining: 0, resetSeconds: 2 });
  assert.deepEqual(bucketLimits({ imagesPerSecond: 2.5 }), { imagesPerSecond: 2.5, burst: 3 });
  assert.equal(bucketLimits({ maxInFlight: 3 }), undefined);
});

test('the in-process store keeps one bucket per key and applies a lowered burst at once', () => {
  let now = 0;
  const store = new LocalQuotaStore(() => now);
  assert.equal(store.takeNow('a', { imagesPerSecond: 1, burst: 2 }, 2).allowed, true);
  assert.equal(store.takeNow('b', { imagesPerSecond: 1, burst: 2 }, 2).allowed, true, 'b has its own bucket');
  assert.equal(store.takeNow('a', { imagesPerSecond: 1, burst: 2 }, 1).allowed, false);
  now = 10_000;
  assert.equal(store.takeNow('a', { imagesPerSecond: 1, burst: 1 }, 2).allowed, false, 'burst lowered to 1');
});

test('`keys new` prints a key once and an entry holding only its hash; bad input is a usage error', async () => {
  const { spawnSync } = await import('node:child_process');
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ['dist/src/cli/main.js', 'keys', ...args], { encoding: 'utf8' });
  const r = cli('new', 'alice', '--images-per-second', '2', '--burst', '8');
  assert.equal(r.status, 0, r.stderr);
  const key = /^(bgs_\S+)$/m.exec(r.stdout)?.[1];
  assert.ok(key, r.stdout);
  const entry = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
  assert.deepEqual(entry, { name: 'alice', sha256: hashKey(key), imagesPerSecond: 2, burst: 8 });
  assert.equal(cli('new', 'bad name').status, 2);
  assert.equal(cli('new', 'x', '--burst', '3').status, 2);
  assert.match(cli('--help').stdout, /keys new NAME/);
});
