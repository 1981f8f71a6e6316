/** Whether an NVIDIA GPU is visible to this process: both engines ask before trying GPU code. */
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
