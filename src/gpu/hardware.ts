/**
 * Whether this machine can have a hardware GPU adapter at all, without
 * opening WebGPU. On Linux a GPU driver needs a device node: a DRM render
 * node (Mesa's AMD and Intel drivers) or NVIDIA's /dev/nvidia*. Without one
 * only a software rasterizer (lavapipe) can answer, which `auto` never uses,
 * so it need not open Dawn (whose adapter probe prints warnings) at all.
 * Elsewhere the answer is always yes: the probe decides.
 */
import { readdirSync } from 'node:fs';

function hasEntry(dir: string, prefix: string): boolean {
  try {
    return readdirSync(dir).some((f) => f.startsWith(prefix));
  } catch {
    return false;
  }
}

export function hardwareGpuPossible(): boolean {
  if (process.platform !== 'linux') return true;
  return hasEntry('/dev/dri', 'renderD') || hasEntry('/dev', 'nvidia');
}
