/**
 * A full garbage collection on demand, for the one moment it pays: right after a model is
 * loaded. Loading leaves hundreds of MB of dead buffers (the weight file's bytes, the folded
 * float32 weights, the ONNX model bytes ONNX Runtime copied into its own initializers), and an
 * idle server allocates too little afterwards for V8 to run a major GC on its own, so the dead
 * buffers stay resident for as long as the server does (about 400 MB for the 128 model, issue 20).
 *
 * Node exposes `gc()` only with --expose-gc; the flag is set at run time and the function taken
 * from a fresh context (where V8 installs it), so no CLI flag is needed. Worker threads started
 * after that see `gc` on their global object.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

let gc: (() => void) | undefined;

/** Runs a full (major, compacting) garbage collection of this thread's heap. */
export function collectGarbage(): void {
  if (gc === undefined) {
    const own = (globalThis as { gc?: () => void }).gc;
    if (typeof own === 'function') gc = own;
    else {
      v8.setFlagsFromString('--expose-gc');
      gc = vm.runInNewContext('gc') as () => void;
    }
  }
  gc();
}
