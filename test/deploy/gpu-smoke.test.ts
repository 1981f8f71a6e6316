/**
 * scripts/gpu-smoke.sh cannot rot while no GPU is at hand: its syntax, and its CPU-only mode (the
 * same steps on the cpu provider with a narrow random model: golden fixture vs reference, raw
 * engine, the service under unseeded load, the summary), and its verdict: told to expect cuda,
 * a run on the CPU fails loudly. Plus the GPU images' build and runtime lines it relies on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SCRIPT = 'scripts/gpu-smoke.sh';

test('gpu-smoke.sh parses (bash -n) and explains itself', async () => {
  await run('bash', ['-n', SCRIPT]);
  const { stdout } = await run('bash', [SCRIPT, '--help']);
  assert.match(stdout, /UNSEEDED/);
  await assert.rejects(
    run('bash', [SCRIPT, '--bogus']),
    (e: { code?: number; stderr?: string }) => e.code === 2 && /unknown argument --bogus/.test(e.stderr ?? ''),
  );
});

test('gpu-smoke.sh --cpu-only runs every step and passes', { timeout: 300_000 }, async () => {
  const { stdout } = await run('bash', [SCRIPT, '--cpu-only', '--seconds', '1', '--threads', '1'], {
    maxBuffer: 1 << 24,
    timeout: 280_000,
  });
  for (const s of ['fixture', 'engine-cpu', 'serve']) assert.match(stdout, new RegExp(`^${s} ran on: cpu$`, 'm'));
  assert.match(stdout, /^fixture: max \|diff\| [\d.e-]+ \(tolerance 1e-3\)$/m);
  assert.match(stdout, /^raw engine: cpu [\d.]+ images\/s \(batch \d+\), cpu [\d.]+ images\/s, 1 threads each$/m);
  assert.match(stdout, /^service: [\d.]+ images\/s over HTTP \(unseeded, 4 clients\)/m);
  assert.match(stdout, /"step":"serve","backend":"cpu","unseeded":true/);
  assert.match(stdout, /gpu-smoke: PASSED \(cpu\)/);
});

test('gpu-smoke.sh fails loudly when the work ran on the CPU but cuda was expected', { timeout: 300_000 }, async () => {
  await assert.rejects(
    run('bash', [SCRIPT, '--cpu-only', '--seconds', '1', '--threads', '1', '--expect', 'cuda'], {
      maxBuffer: 1 << 24,
      timeout: 280_000,
    }),
    (e: { code?: number; stderr?: string }) => {
      assert.equal(e.code, 1);
      assert.match(e.stderr ?? '', /FAIL: serve ran on cpu, not cuda: the work ran on the CPU/);
      assert.match(e.stderr ?? '', /gpu-smoke: FAILED/);
      return true;
    },
  );
});

test('Dockerfile: the gpu build checks the provider dependencies; gpu-tfjs keeps TensorFlow warnings', () => {
  const dockerfile = readFileSync('Dockerfile', 'utf8');
  const stage = (name: string) =>
    dockerfile.slice(
      dockerfile.indexOf(`AS ${name}\n`),
      dockerfile.indexOf('\nFROM ', dockerfile.indexOf(`AS ${name}\n`)),
    );
  assert.match(
    stage('build-gpu'),
    /^RUN bash scripts\/check-provider-deps\.sh node_modules\/onnxruntime-node\/bin\/napi-v6\/linux\/x64$/m,
  );
  // allowScripts denies onnxruntime-node's install script during npm ci (npm 11): it must run explicitly.
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { allowScripts?: Record<string, boolean> };
  if (pkg.allowScripts?.['onnxruntime-node'] === false) {
    assert.match(stage('build-gpu'), /^ENV ONNXRUNTIME_NODE_INSTALL=cuda12$/m);
    assert.match(stage('build-gpu'), /^RUN node node_modules\/onnxruntime-node\/script\/install\.js$/m);
  }
  assert.doesNotMatch(
    stage('gpu-tfjs'),
    /^\s*TF_CPP_MIN_LOG_LEVEL/m,
    'TensorFlow warnings show a silent CPU fall back',
  );
  assert.doesNotMatch(dockerfile.replace(/^#.*$/gm, ''), /TF_CPP_MIN_LOG_LEVEL=/);
});
