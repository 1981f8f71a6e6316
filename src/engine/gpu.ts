/** Whether an NVIDIA GPU is visible to this process: both engines ask before trying GPU code. */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

/** True when an NVIDIA GPU is visible to this process (the /dev/nvidia0 device node or a driver entry). */
export function gpuVisible(): boolean {
  try {
    if (existsSync('/dev/nvidia0')) return true;
    return readdirSync('/proc/driver/nvidia/gpus').length > 0;
  } catch {
    return false; // no driver folder: no GPU
  }
}

/**
 * Total memory of GPU 0 in bytes, from `nvidia-smi` (the driver's tool, mounted into GPU
 * containers by the NVIDIA container toolkit); undefined when it cannot be read. Only device 0:
 * the engines use no other.
 */
export function gpuMemoryBytes(query: () => string = queryNvidiaSmi): number | undefined {
  try {
    const mib = Number(query().trim().split('\n')[0]);
    return Number.isFinite(mib) && mib > 0 ? mib * 2 ** 20 : undefined;
  } catch {
    return undefined;
  }
}

function queryNvidiaSmi(): string {
  return execFileSync('nvidia-smi', ['--id=0', '--query-gpu=memory.total', '--format=csv,noheader,nounits'], {
    encoding: 'utf8',
    timeout: 10_000,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
}
