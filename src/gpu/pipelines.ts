/** Compute pipelines, compiled once per (program, entry point, override constants). */
import { readFileSync } from 'node:fs';

import type { GpuContext } from './device.js';

const sources = new Map<string, string>();

function source(program: string): string {
  let s = sources.get(program);
  if (s === undefined) {
    s = readFileSync(new URL(`./${program}.wgsl`, import.meta.url), 'utf8');
    sources.set(program, s);
  }
  return s;
}

export class PipelineCache {
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly pipelines = new Map<string, GPUComputePipeline>();

  constructor(private readonly ctx: GpuContext) {}

  get(program: string, entryPoint: string, constants: Record<string, number> = {}): GPUComputePipeline {
    const key = `${program}:${entryPoint}:${JSON.stringify(constants)}`;
    let p = this.pipelines.get(key);
    if (!p) {
      let module = this.modules.get(program);
      if (!module) {
        module = this.ctx.device.createShaderModule({ label: program, code: source(program) });
        this.modules.set(program, module);
      }
      p = this.ctx.device.createComputePipeline({ label: key, layout: 'auto', compute: { module, entryPoint, constants } });
      this.pipelines.set(key, p);
    }
    return p;
  }
}
