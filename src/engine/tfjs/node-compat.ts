/**
 * Node 23+ removed `util.isNullOrUndefined` (deprecated since Node 4, DEP0051), and
 * @tensorflow/tfjs-node(-gpu) 4.22 still calls it (`nodejs_kernel_backend.js`,
 * `createTensorsTypeOpAttr`), so on Node 24 the first convolution throws "isNullOrUndefined is
 * not a function" (fixed upstream, not released). This puts the one missing function back on the
 * shared `util` object, only when it is missing, before either package is imported. Each worker
 * thread has its own `util`: the shim is installed by the thread that imports the package.
 */
import util from 'node:util';

type UtilWithLegacy = typeof util & { isNullOrUndefined?: (value: unknown) => boolean };

/** Restores `util.isNullOrUndefined` when missing; returns true when it had to. */
export function installUtilShim(target: UtilWithLegacy = util): boolean {
  if (typeof target.isNullOrUndefined === 'function') return false;
  Object.defineProperty(target, 'isNullOrUndefined', {
    value: (value: unknown): boolean => value === null || value === undefined,
    writable: true,
    configurable: true,
    enumerable: true,
  });
  return true;
}

/** Installs the shim, then imports `pkg` (tests pass a loader for a fake package). */
export async function importTfjsNative(
  pkg: string,
  load: (pkg: string) => Promise<unknown> = (p) => import(p),
): Promise<unknown> {
  installUtilShim();
  return load(pkg);
}
