/**
 * The machine's practical convolution ceiling under ONNX Runtime: GFLOP/s of one large 3x3
 * convolution (the shape of the generator's biggest conv_1/conv_2 at a typical batch), measured
 * with the same session options as the engine. The whole-generator speed target is a fraction of it.
 */
import * as ort from 'onnxruntime-node';
import { availableParallelism } from 'node:os';
import { encodeModel, attr } from './onnx-proto.js';
import { ortSessionOptions } from './ort-engine.js';

/** Options of the ceiling measurement. */
export interface ConvCeilingOptions {
  /** Intra-op threads; default all cores. */
  readonly threads?: number;
  /** Input shape [N, C, H, W]; output has the same shape. Default [4, 512, 16, 16]. */
  readonly shape?: readonly [number, number, number, number];
  /** Timed runs after the warm-up; the best one counts. Default 8. */
  readonly runs?: number;
}

/** A deterministic pseudo-random fill in [-0.5, 0.5): the values do not affect the speed. */
function fill(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 4294967296 - 0.5;
  }
  return out;
}

/** GFLOP/s (2 x MACs) of the best of several runs of one C -> C 3x3 convolution (padding 1) with bias. */
export async function ortConvCeilingGflops(opts: ConvCeilingOptions = {}): Promise<number> {
  const [N, C, H, W] = opts.shape ?? [4, 512, 16, 16];
  const bytes = encodeModel({
    name: 'conv_ceiling',
    nodes: [
      {
        opType: 'Conv',
        inputs: ['x', 'w', 'b'],
        outputs: ['y'],
        attributes: [attr.ints('kernel_shape', [3, 3]), attr.ints('pads', [1, 1, 1, 1])],
      },
    ],
    initializers: [
      { name: 'w', dims: [C, C, 3, 3], data: fill(C * C * 9, 1).map((v) => v / Math.sqrt(C * 9)) },
      { name: 'b', dims: [C], data: fill(C, 2) },
    ],
    inputs: [{ name: 'x', elemType: 'float', shape: [N, C, H, W] }],
    outputs: [{ name: 'y', elemType: 'float', shape: [N, C, H, W] }],
  });
  const session = await ort.InferenceSession.create(
    bytes,
    ortSessionOptions(opts.threads ?? availableParallelism(), ['cpu']),
  );
  try {
    const x = new ort.Tensor('float32', fill(N * C * H * W, 3), [N, C, H, W]);
    const flop = 2 * N * H * W * C * C * 9;
    (await session.run({ x })).y.dispose(); // warm-up: first run allocates and prepacks
    let best = Infinity;
    for (let i = 0; i < (opts.runs ?? 8); i++) {
      const t0 = performance.now();
      const out = await session.run({ x });
      best = Math.min(best, performance.now() - t0);
      out.y.dispose();
    }
    x.dispose();
    return flop / (best / 1000) / 1e9;
  } finally {
    await session.release();
  }
}
