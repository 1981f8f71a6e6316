// The gRPC message types in src/transport/grpc/generated are produced from proto/ by
// `npm run gen:proto` and committed; this test regenerates them into a temporary folder and fails
// when the committed files are stale (someone changed the .proto without regenerating).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function listFiles(dir: string, base = dir): string[] {
  return readdirSync(dir)
    .flatMap((name) => {
      const p = path.join(dir, name);
      return statSync(p).isDirectory() ? listFiles(p, base) : [path.relative(base, p)];
    })
    .sort();
}

test('committed gRPC types match proto-loader-gen-types output for proto/', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'biggan-gen-'));
  try {
    const script = JSON.parse(readFileSync('package.json', 'utf8')).scripts['gen:proto'] as string;
    const args = script
      .split(/\s+/)
      .slice(1)
      .map((a, i, all) => (all[i - 1] === '-O' ? out : a));
    const bin = path.join(
      path.dirname(require.resolve('@grpc/proto-loader/package.json')),
      'build',
      'bin',
      'proto-loader-gen-types.js',
    );
    const run = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const committed = 'src/transport/grpc/generated';
    assert.deepEqual(listFiles(out), listFiles(committed), 'generated file list differs: run `npm run gen:proto`');
    for (const f of listFiles(out)) {
      assert.equal(
        readFileSync(path.join(committed, f), 'utf8'),
        readFileSync(path.join(out, f), 'utf8'),
        `${f} is stale: run \`npm run gen:proto\``,
      );
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
