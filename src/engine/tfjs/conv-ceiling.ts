/**
 * The tfjs backend's practical ceiling: GFLOP/s of one large 3x3 convolution (the generator's
 * dominant op), measured on the active backend. `npm run bench` reports the whole generator's
 * GFLOP/s as a fraction of this.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Best GFLOP/s of a [batch, 32, 32, 256] x 3x3x256x256 convolution over `runs` timed runs. */
export async function tfjsConvCeilingGflops(
  opts: { batch?: number; channels?: number; size?: number; runs?: number } = {},
): Promise<number> {
  const batch = opts.batch ?? 4;
  const C = opts.channels ?? 256;
  const S = opts.size ?? 32;
  const runs = opts.runs ?? 5;
  const x = tf.randomNormal([batch, S, S, C]) as tf.Tensor4D;
  const w = tf.randomNormal([3, 3, C, C]) as tf.Tensor4D;
  const flops = 2 * batch * S * S * C * C * 9;
  let best = Infinity;
  try {
    for (let i = 0; i < runs + 1; i++) {
      const t0 = performance.now();
      const y = tf.conv2d(x, w, 1, 'same');
      await y.data();
      y.dispose();
      const s = (performance.now() - t0) / 1000;
      if (i > 0) best = Math.min(best, s); // the first run warms up
    }
  } finally {
    tf.dispose([x, w]);
  }
  return flops / best / 1e9;
}
