/**
 * The reference's image conversion: `uint8(clip(((x + 1) / 2) * 256, 0, 255))` computed in
 * float32 and truncated toward zero, HWC RGB. `/2` and `*256` are exact in float32, so this is
 * `min(255, floor(128 * fl32(x + 1)))`; the only rounding step is `x + 1` in float32.
 */

/** Converts one sample of NHWC tanh output to 8-bit RGB [H, W, 3]. `pixels` is [H, W, 3] float32. */
export function toRgb8(pixels: Float32Array): Uint8Array {
  const out = new Uint8Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) {
    // x + 1 is exact in float64 for a float32 x; Math.fround then rounds it as float32 addition would.
    const v = Math.floor(128 * Math.fround(pixels[i] + 1));
    out[i] = v > 255 ? 255 : v < 0 ? 0 : v;
  }
  return out;
}

/** The [H, W, 3] slice of sample `index` in an NHWC [B, H, W, 3] batch output (a view, no copy). */
export function sampleView(data: Float32Array, index: number, height: number, width: number): Float32Array {
  const size = height * width * 3;
  return data.subarray(index * size, (index + 1) * size);
}
