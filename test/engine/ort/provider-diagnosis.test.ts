/**
 * A CUDA provider that cannot load is explained in our own error. A fake onnxruntime-node install
 * (the real libonnxruntime.so.1 beside gcc-built provider stubs linked against a stub
 * libcudnn.so.9, test/helpers/cuda-stubs.ts) reproduces an image without cuDNN: ORT itself says
 * only "Failed to load shared library"; our error must name libcudnn.so.9. The image's build
 * check (scripts/check-provider-deps.sh, `ldd -r`) runs against the same stubs.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import {
  describeLoadFailure,
  diagnoseProviderLoad,
  missingLibraryOf,
} from '../../../src/engine/ort/provider-diagnosis.js';
import { CUDA_LIBRARY } from '../../../src/engine/ort/execution-provider.js';
import { FIXTURE_DIR } from '../../helpers/fixtures.js';
import { buildCudaStubs, cudaStubsUnavailable, redirectHookArgs, type CudaStubs } from '../../helpers/cuda-stubs.js';

const run = promisify(execFile);
const skip = cudaStubsUnavailable() ?? false;
let stubs: CudaStubs;
let hidden: string;

before(() => {
  if (skip) return;
  stubs = buildCudaStubs(mkdtempSync(path.join(os.tmpdir(), 'biggan-cuda-stubs-')));
  hidden = `${stubs.cudnn}.hidden`;
});
after(() => {
  if (!skip) rmSync(stubs.root, { recursive: true, force: true });
});

/** Deletes the stub cuDNN for the duration of `fn` (renamed away, then back). */
async function withoutCudnn<T>(fn: () => Promise<T>): Promise<T> {
  renameSync(stubs.cudnn, hidden);
  try {
    return await fn();
  } finally {
    renameSync(hidden, stubs.cudnn);
  }
}

test('missingLibraryOf reads the library name out of a loader message', () => {
  assert.equal(
    missingLibraryOf('libcudnn.so.9: cannot open shared object file: No such file or directory'),
    'libcudnn.so.9',
  );
  assert.equal(
    missingLibraryOf('libcublasLt.so.12: cannot open shared object file: No such file or directory'),
    'libcublasLt.so.12',
  );
  assert.equal(missingLibraryOf('/x/libfoo.so: undefined symbol: bar'), undefined);
});

test('diagnoseProviderLoad: loads with cuDNN present, names libcudnn.so.9 once it is deleted', { skip }, async () => {
  assert.equal(await diagnoseProviderLoad(stubs.binFolder, CUDA_LIBRARY), undefined);
  const failure = await withoutCudnn(() => diagnoseProviderLoad(stubs.binFolder, CUDA_LIBRARY));
  assert.ok(failure, 'a missing dependency is reported');
  assert.equal(failure.missing, 'libcudnn.so.9');
  assert.equal(path.basename(failure.file), CUDA_LIBRARY);
  assert.match(
    describeLoadFailure(failure),
    /libonnxruntime_providers_cuda\.so cannot load because libcudnn\.so\.9 is missing/,
  );
  const absent = await diagnoseProviderLoad(stubs.binFolder, 'libonnxruntime_providers_tensorrt.so');
  assert.match(absent?.message ?? '', /libonnxruntime_providers_tensorrt\.so: no such file/);
});

test(
  'createOrtEngine on cuda with cuDNN missing: our error names libcudnn.so.9 (ORT alone does not)',
  { skip, timeout: 120_000 },
  async () => {
    // A child process whose `onnxruntime-node` is the fake install; GPU visibility is injected.
    const dist = (p: string) => JSON.stringify(pathToFileURL(path.join(process.cwd(), 'dist', p)).href);
    const script = `
    import * as ort from 'onnxruntime-node';
    const { createOrtEngine } = await import(${dist('src/engine/ort/ort-engine.js')});
    const { loadModel } = await import(${dist('src/model/load-model.js')});
    const folded = (await loadModel(${JSON.stringify(FIXTURE_DIR)})).folded;
    const files = ${JSON.stringify(readdirSync(stubs.binFolder))};
    const out = { ortAlone: '', ours: '', code: '' };
    try { await ort.InferenceSession.create(new Uint8Array([8, 7]), { executionProviders: ['cuda'] }); } catch (e) { out.ortAlone = e.message; }
    const probes = { providerLibraries: () => files, gpuVisible: () => true, providerFolder: () => ${JSON.stringify(stubs.binFolder)} };
    try { await createOrtEngine(folded, { executionProvider: 'cuda', threads: 1, worker: false, probes }); } catch (e) { out.ours = e.message; out.code = e.code; }
    process.stdout.write(JSON.stringify(out));`;
    const { stdout } = await withoutCudnn(() =>
      run(process.execPath, [...redirectHookArgs(), '--input-type=module', '-e', script], {
        env: { ...process.env, BIGGAN_TEST_REDIRECTS: JSON.stringify({ 'onnxruntime-node': stubs.entry }) },
        timeout: 100_000,
      }),
    );
    const out = JSON.parse(stdout) as { ortAlone: string; ours: string; code: string };
    assert.match(out.ortAlone, /Failed to load shared library/, 'the fake install reproduces the failure');
    assert.doesNotMatch(out.ortAlone, /libcudnn/, "ORT's own error does not name the library");
    assert.equal(out.code, 'INVALID_CONFIG');
    assert.match(out.ours, /cannot create a cuda session: .*Failed to load shared library/);
    assert.match(out.ours, /libcudnn\.so\.9 is missing/);
  },
);

test(
  'scripts/check-provider-deps.sh: passes with cuDNN, fails naming libcudnn.so.9 without it',
  { skip, timeout: 60_000 },
  async () => {
    const script = path.join(process.cwd(), 'scripts/check-provider-deps.sh');
    const ok = await run('bash', [script, stubs.binFolder]);
    assert.match(ok.stdout, /every dependency of 2 provider libraries resolves/);
    await withoutCudnn(async () => {
      await assert.rejects(run('bash', [script, stubs.binFolder]), (e: { code?: number; stderr?: string }) => {
        assert.equal(e.code, 1);
        assert.match(e.stderr ?? '', /libonnxruntime_providers_cuda\.so needs libcudnn\.so\.9, which is not found/);
        return true;
      });
    });
  },
);
