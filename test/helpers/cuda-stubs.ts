/**
 * A stand-in for onnxruntime-node installed with its CUDA provider, on a machine without CUDA:
 * a copy of the package (its real libonnxruntime.so.1 and binding) whose bin folder also holds
 * gcc-built stubs of `libonnxruntime_providers_shared.so` (exports Provider_SetHost, which ORT
 * looks up) and `libonnxruntime_providers_cuda.so` (linked against a stub `libcudnn.so.9`).
 * Deleting the cudnn stub reproduces the failure of an image that lacks cuDNN.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** Where the stubs are. */
export interface CudaStubs {
  /** Root of the fake install: `<root>/node_modules/onnxruntime-node`. */
  readonly root: string;
  /** The copy's bin folder (libonnxruntime.so.1 + the provider stubs). */
  readonly binFolder: string;
  /** The copy's entry point, for a loader that redirects `onnxruntime-node` to it. */
  readonly entry: string;
  /** The stub cuDNN (the CUDA stub finds it through its RUNPATH). */
  readonly cudnn: string;
}

/** Why the stubs cannot be built here (no gcc, not linux-x64), or undefined when they can. */
export function cudaStubsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'the stubs are ELF shared libraries (linux only)';
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'gcc is not installed';
  }
  return undefined;
}

function gcc(out: string, source: string, extra: string[] = []): void {
  const c = `${out}.c`;
  writeFileSync(c, source);
  execFileSync('gcc', ['-shared', '-fPIC', '-o', out, c, ...extra], { stdio: 'pipe' });
  rmSync(c);
}

/** Builds the fake install under `root` (an empty temporary folder). */
export function buildCudaStubs(root: string): CudaStubs {
  const require = createRequire(import.meta.url);
  const pkg = path.dirname(require.resolve('onnxruntime-node/package.json'));
  // onnxruntime-common exports no package.json: its folder is the part of its entry's path up to its name.
  const commonEntry = createRequire(path.join(pkg, 'package.json')).resolve('onnxruntime-common');
  const marker = `${path.sep}onnxruntime-common${path.sep}`;
  const common = commonEntry.slice(0, commonEntry.lastIndexOf(marker) + marker.length - 1);
  const copy = path.join(root, 'node_modules', 'onnxruntime-node');
  const rel = path.join('bin', 'napi-v6', process.platform, process.arch);
  for (const part of ['package.json', 'dist', 'lib', rel])
    cpSync(path.join(pkg, part), path.join(copy, part), { recursive: true });
  symlinkSync(common, path.join(root, 'node_modules', 'onnxruntime-common'));
  const binFolder = path.join(copy, rel);
  const stubs = path.join(root, 'stubs');
  mkdirSync(stubs);
  const cudnn = path.join(stubs, 'libcudnn.so.9');
  gcc(cudnn, 'int cudnnGetVersion(void) { return 90000; }\n', ['-Wl,-soname,libcudnn.so.9']);
  gcc(
    path.join(binFolder, 'libonnxruntime_providers_shared.so'),
    'void Provider_SetHost(void *host) { (void)host; }\n',
  );
  gcc(
    path.join(binFolder, 'libonnxruntime_providers_cuda.so'),
    'extern int cudnnGetVersion(void);\nint stub_cudnn_version(void) { return cudnnGetVersion(); }\n',
    [`-L${stubs}`, '-l:libcudnn.so.9', `-Wl,-rpath,${stubs}`],
  );
  return { root, binFolder, entry: path.join(copy, 'dist', 'index.js'), cudnn };
}

/** Node arguments that register test/helpers/redirect-hooks.mjs (its map goes in BIGGAN_TEST_REDIRECTS). */
export function redirectHookArgs(): string[] {
  const hooks = pathToFileURL(path.join(process.cwd(), 'test/helpers/redirect-hooks.mjs')).href;
  return [
    '--import',
    `data:text/javascript,import { register } from 'node:module'; register(${JSON.stringify(hooks)});`,
  ];
}
