// Module hooks for a child process: `onnxruntime-node` resolves to the copy named by
// BIGGAN_TEST_ORT_ENTRY (a fake install with CUDA provider stubs, test/helpers/cuda-stubs.ts).
import process from 'node:process';
import { pathToFileURL } from 'node:url';

const entry = pathToFileURL(process.env.BIGGAN_TEST_ORT_ENTRY).href;

export async function resolve(specifier, context, next) {
  if (specifier === 'onnxruntime-node') return { url: entry, format: 'commonjs', shortCircuit: true };
  return next(specifier, context);
}
