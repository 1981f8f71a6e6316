import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defineOptions, formatHelp, parseOptions, UsageError, type OptionValues } from '../../src/config/options.js';
import { parseServerConfig } from '../../src/config/server-config.js';

const SPECS = defineOptions([
  { name: 'port', type: 'integer', env: 'T_PORT', default: 8080, min: -1, max: 65535, description: 'Port.' },
  { name: 'ratio', type: 'number', short: 'r', description: 'A number without default.' },
  { name: 'mode', type: 'string', choices: ['fast', 'slow'], default: 'fast', description: 'Mode.' },
  { name: 'dir', type: 'string', placeholder: 'DIR', env: 'T_DIR', required: true, description: 'Folder.' },
  { name: 'verbose', type: 'boolean', env: 'T_VERBOSE', default: false, description: 'Chatty.' },
  { name: 'tag', type: 'string', multiple: true, description: 'Tags.' },
]);

test('values are typed by the table: defaults, env, flags, in that order of precedence', () => {
  const { values } = parseOptions(['--dir', 'x'], SPECS, {});
  // Compile-time check: the inferred type is exactly what the table says (no casts needed).
  const typed: {
    port: number;
    ratio: number | undefined;
    mode: 'fast' | 'slow';
    dir: string;
    verbose: boolean;
    tag: string[];
  } = values;
  const back: OptionValues<typeof SPECS> = typed;
  assert.deepEqual(back, { port: 8080, ratio: undefined, mode: 'fast', dir: 'x', verbose: false, tag: [] });
  const env = { T_PORT: '9000', T_DIR: '/env', T_VERBOSE: 'yes' };
  assert.deepEqual(parseOptions([], SPECS, env).values, {
    port: 9000,
    ratio: undefined,
    mode: 'fast',
    dir: '/env',
    verbose: true,
    tag: [],
  });
  const flags = parseOptions(
    ['--port', '1', '-r', '0.5', '--mode', 'slow', '--dir', 'f', '--verbose', '--tag', 'a', '--tag', 'b'],
    SPECS,
    env,
  ).values;
  assert.deepEqual(flags, { port: 1, ratio: 0.5, mode: 'slow', dir: 'f', verbose: true, tag: ['a', 'b'] });
});

test('negative numbers are values, not flags: --port -1, -r -2.5, --port=-1', () => {
  assert.equal(parseOptions(['--port', '-1', '--dir', 'd'], SPECS, {}).values.port, -1);
  assert.equal(parseOptions(['--dir', 'd', '--port=-1'], SPECS, {}).values.port, -1);
  assert.equal(parseOptions(['-r', '-2.5', '--dir', 'd'], SPECS, {}).values.ratio, -2.5);
  assert.equal(parseOptions(['--ratio', '-.5', '--dir', 'd'], SPECS, {}).values.ratio, -0.5);
  // Still range-checked, and a dash word after a value flag is still refused.
  assert.throws(() => parseOptions(['--port', '-2', '--dir', 'd'], SPECS, {}), /--port: must be >= -1, got -2/);
  assert.throws(() => parseOptions(['--dir', '--verbose'], SPECS, {}), UsageError);
  // The serve flags: --grpc-port -1 disables gRPC.
  assert.equal(parseServerConfig(['--grpc-port', '-1'], {}).config.grpc.port, -1);
  assert.equal(parseServerConfig([], { BIGGAN_GRPC_PORT: '-1' }).config.grpc.port, -1);
});

test('bad values, unknown flags, missing required flags and positionals are usage errors naming the flag', () => {
  const cases: [string[], RegExp][] = [
    [['--dir', 'd', '--port', 'x'], /^--port: expected an integer, got 'x'$/],
    [['--dir', 'd', '--port', '1.5'], /^--port: expected an integer, got '1\.5'$/],
    [['--dir', 'd', '--mode', 'medium'], /^--mode: 'medium' is not allowed; allowed: fast, slow$/],
    [['--dir', 'd', '--bogus'], /^Unknown option '--bogus'$/],
    [[], /^--dir DIR is required \(or set T_DIR\)$/],
    [['--dir', 'd', 'extra'], /^unexpected argument 'extra'$/],
  ];
  for (const [argv, re] of cases) {
    assert.throws(
      () => parseOptions(argv, SPECS, {}),
      (e: unknown) => e instanceof UsageError && re.test(e.message),
      argv.join(' '),
    );
  }
  assert.throws(
    () => parseOptions([], SPECS, { T_DIR: 'd', T_VERBOSE: 'maybe' }),
    /^UsageError: T_VERBOSE: expected true or false, got 'maybe'/,
  );
  // --help skips the required check; positionals pass when allowed.
  assert.equal(parseOptions(['--help'], SPECS, {}).help, true);
  assert.deepEqual(parseOptions(['m', '--dir', 'd'], SPECS, {}, true).positionals, ['m']);
});

test('help lists every flag with its env, default and required mark, then the epilogue', () => {
  const help = formatHelp('tool [options]', 'Does things.', SPECS, 'Exit status: 0.');
  assert.match(help, /^Usage: tool \[options\]\n\nDoes things\.\n\nOptions:\n/);
  assert.match(help, /--port INTEGER +Port\. \(env T_PORT; default 8080\)/);
  assert.match(help, /-r, --ratio NUMBER +A number without default\.\n/);
  assert.match(help, /--mode fast\|slow +Mode\. \(default "fast"\)/);
  assert.match(help, /--dir DIR +Folder\. \(required; env T_DIR\)/);
  assert.match(help, /-h, --help +Show this help\.\n\nExit status: 0\.\n$/);
});
