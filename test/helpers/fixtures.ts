/**
 * Access to the tiny-128 reference fixture (test/fixtures/tiny-128): cases, reference outputs
 * (NCHW float32) and PNGs, and comparisons against NHWC engine outputs.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

export const FIXTURE_DIR = path.join(process.cwd(), 'test/fixtures/tiny-128');
export const CASE_NAMES = readdirSync(path.join(FIXTURE_DIR, 'cases')).sort();

/** One fixture case. */
export interface FixtureCase {
  readonly name: string;
  readonly batch: number;
  readonly truncation: number;
  readonly z: Float32Array; // [B, 128]
  readonly classVector: Float32Array; // [B, 1000]
  readonly output: Float32Array; // [B, 3, H, W] NCHW
  readonly height: number;
  readonly width: number;
  readonly pngFiles: string[];
}

/** Loads a case's inputs.json and output.f32. */
export function loadCase(name: string): FixtureCase {
  const dir = path.join(FIXTURE_DIR, 'cases', name);
  const inputs = JSON.parse(readFileSync(path.join(dir, 'inputs.json'), 'utf8')) as {
    z: number[][];
    class_vector: number[][];
    truncation: number;
    output_shape: number[];
    png_files: string[];
  };
  const buf = readFileSync(path.join(dir, 'output.f32'));
  const output = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
  return {
    name,
    batch: inputs.z.length,
    truncation: inputs.truncation,
    z: Float32Array.from(inputs.z.flat()),
    classVector: Float32Array.from(inputs.class_vector.flat()),
    output,
    height: inputs.output_shape[2],
    width: inputs.output_shape[3],
    pngFiles: inputs.png_files.map((f) => path.join(dir, f)),
  };
}

/** Max |ref - out| between a reference NCHW [B, 3, H, W] and an engine NHWC [B, H, W, 3] output. */
export function maxAbsDiffNchwNhwc(
  refNchw: Float32Array,
  outNhwc: Float32Array,
  batch: number,
  height: number,
  width: number,
): number {
  let max = 0;
  for (let b = 0; b < batch; b++)
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < height; y++)
        for (let x = 0; x < width; x++) {
          const d = Math.abs(
            refNchw[((b * 3 + c) * height + y) * width + x] - outNhwc[((b * height + y) * width + x) * 3 + c],
          );
          if (!(d <= max)) max = d; // NaN propagates as a failure
        }
  return max;
}

/** Max per-channel difference between two RGB8 buffers of equal length. */
export function maxPixelDiff(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Infinity;
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}
