/**
 * Why an ONNX Runtime GPU provider library cannot load. When the CUDA provider's dependencies
 * are missing (say `libcudnn.so.9`), onnxruntime-node only throws `OrtSessionOptionsAppend
 * ExecutionProvider_Cuda: Failed to load shared library`; the loader's real message goes to ORT's
 * coloured stderr log line. This loads the provider libraries again, the way ORT does, in a short
 * child process and returns the dynamic loader's own message, so our error can name the library.
 *
 * Why a child `node` with `process.dlopen` and not `ldd`: dlopen gives the exact message ORT got
 * (`libcudnn.so.9: cannot open shared object file`), needs no tool beyond the node binary (slim
 * images may lack `ldd`), and in a child a library that does load (running CUDA's static
 * initialisers) never stays mapped in the serving process.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

/** ORT loads this one first (RTLD_GLOBAL), then the provider itself. */
export const SHARED_PROVIDER_LIBRARY = 'libonnxruntime_providers_shared.so';

/**
 * The child's script: dlopen each path in order and print the first loader error as JSON.
 * A library that loads but is not a Node add-on throws "did not self-register": that is a success.
 */
const DLOPEN_SCRIPT = `
const { constants } = require('node:os');
const { RTLD_NOW, RTLD_GLOBAL, RTLD_LOCAL } = constants.dlopen;
const flags = [RTLD_NOW | RTLD_GLOBAL, RTLD_NOW | RTLD_LOCAL];
const files = process.argv.slice(1);
for (const [i, file] of files.entries()) {
  try {
    process.dlopen({ exports: {} }, file, flags[Math.min(i, 1)]);
  } catch (err) {
    if (/self-register|Module did not/i.test(err.message)) continue;
    process.stdout.write(JSON.stringify({ file, message: err.message }));
    process.exit(0);
  }
}
process.stdout.write('{}');
`;

/** What the loader said about one provider library. */
export interface LoadFailure {
  /** The library that failed to load (full path). */
  readonly file: string;
  /** The dynamic loader's message, e.g. `libcudnn.so.9: cannot open shared object file: ...`. */
  readonly message: string;
  /** The dependency the loader could not find, when the message names one. */
  readonly missing?: string;
}

/** The dependency named by a loader message such as `libcudnn.so.9: cannot open shared object file`. */
export function missingLibraryOf(message: string): string | undefined {
  return /([\w.+-]+\.so[\w.]*): cannot open shared object file/.exec(message)?.[1];
}

/**
 * Loads `<folder>/libonnxruntime_providers_shared.so` then `<folder>/<library>` in a child process;
 * resolves with the first failure, or undefined when both load. Never rejects.
 */
export function diagnoseProviderLoad(
  folder: string,
  library: string,
  timeoutMs = 15_000,
): Promise<LoadFailure | undefined> {
  const files = [SHARED_PROVIDER_LIBRARY, library].map((f) => path.join(folder, f));
  const absent = files.find((f) => !existsSync(f));
  if (absent) return Promise.resolve({ file: absent, message: `${absent}: no such file` });
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['-e', DLOPEN_SCRIPT, ...files],
      { timeout: timeoutMs, encoding: 'utf8' },
      (err, stdout) => {
        let parsed: { file?: string; message?: string } = {};
        try {
          parsed = JSON.parse(stdout) as typeof parsed;
        } catch {
          // the child crashed or timed out: say so rather than guess
          resolve({ file: files[1], message: `the load check itself failed: ${err?.message ?? 'no output'}` });
          return;
        }
        if (parsed.file === undefined || parsed.message === undefined) return resolve(undefined);
        const missing = missingLibraryOf(parsed.message);
        resolve({ file: parsed.file, message: parsed.message, ...(missing !== undefined ? { missing } : {}) });
      },
    );
  });
}

/** One sentence for our error: which library is missing (or what the loader said), and the fix. */
export function describeLoadFailure(failure: LoadFailure): string {
  const lib = path.basename(failure.file);
  if (failure.missing !== undefined) {
    return (
      `${lib} cannot load because ${failure.missing} is missing (loader: ${failure.message}); ` +
      'install it in the image (CUDA 12 / cuDNN 9 runtime) or add its folder to LD_LIBRARY_PATH'
    );
  }
  return `${lib} cannot load (loader: ${failure.message})`;
}
