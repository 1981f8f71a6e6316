/**
 * A test engine worker (worker-host protocol): `run(n)` answers n zero floats, `run(-1)` ends the
 * worker thread as a crash or out-of-memory kill would.
 */
import { serveWorker } from '../../src/engine/worker-host.js';

serveWorker<null, string, number, Float32Array>({
  open: async () => 'opened',
  run: async (n) => {
    if (n < 0) process.exit(3);
    const result = new Float32Array(n);
    return { result, transfer: [result.buffer] };
  },
  close: async () => undefined,
});
