// Checks committed gRPC types against a fresh run of the npm script that generates them: the script
// is run again with its output folder (-O) replaced by a temporary one, and every file must match.
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

/** Fails when `committed` differs from what `npm run <scriptName>` (proto-loader-gen-types) writes. */
export function assertGeneratedTypesFresh(scriptName: string, committed: string): void {
  const out = mkdtempSync(path.join(tmpdir(), 'biggan-gen-'));
  try {
    const script = JSON.parse(readFileSync('package.json', 'utf8')).scripts[scriptName] as string;
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
    assert.deepEqual(
      listFiles(out),
      listFiles(committed),
      `generated file list differs: run \`npm run ${scriptName}\``,
    );
    for (const f of listFiles(out)) {
      assert.equal(
        readFileSync(path.join(committed, f), 'utf8'),
        readFileSync(path.join(out, f), 'utf8'),
        `${f} is stale: run \`npm run ${scriptName}\``,
      );
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
