// Module hooks for a child process in a test: bare specifiers resolve to the files named in
// BIGGAN_TEST_REDIRECTS (JSON: {"onnxruntime-node": "/tmp/.../index.js"}), e.g. a fake install of
// onnxruntime-node with CUDA provider stubs (test/helpers/cuda-stubs.ts) or a fake tfjs-node.
import process from 'node:process';
import { pathToFileURL } from 'node:url';

const redirects = JSON.parse(process.env.BIGGAN_TEST_REDIRECTS ?? '{}');

export async function resolve(specifier, context, next) {
  const file = redirects[specifier];
  if (file !== undefined) return { url: pathToFileURL(file).href, format: 'commonjs', shortCircuit: true };
  return next(specifier, context);
}
