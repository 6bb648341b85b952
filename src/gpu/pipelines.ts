/**
 * Compute pipelines, compiled once per (program, entry point, override
 * constants). A program is one .wgsl file, or several concatenated in order
 * where a variant swaps one part (the subgroup and plain versions of a
 * helper), since an `enable` directive cannot be switched on by a constant.
 * A program may also have a line replaced by code generated for its shape.
 * Every program's `struct Params` comes from its TS declaration (params.ts),
 * put in place of the program's PARAMS: line.
 */
import { readFileSync } from 'node:fs';

import type { GpuContext } from './device.js';
import { type ParamFields, type ParamLayout, withParams } from './params.js';

const sources = new Map<string, string>();

function source(file: string): string {
  let s = sources.get(file);
  if (s === undefined) {
    s = readFileSync(new URL(`./${file}.wgsl`, import.meta.url), 'utf8');
    sources.set(file, s);
  }
  return s;
}

export class PipelineCache {
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly pipelines = new Map<string, GPUComputePipeline>();

  constructor(private readonly ctx: GpuContext) {}

  get(
    program: string | readonly string[],
    params: ParamLayout<ParamFields>,
    entryPoint: string,
    constants: Record<string, number> = {},
  ): GPUComputePipeline {
    const files = typeof program === 'string' ? [program] : program;
    const name = files.join('+');
    return this.build(name, () => withParams(files.map(source).join('\n'), params, name), entryPoint, constants);
  }

  /** A program whose text is `file` with each line holding a marker (a key of `code`) replaced by its generated code (`variant` names it). */
  getGenerated(
    file: string,
    params: ParamLayout<ParamFields>,
    variant: string,
    code: () => Record<string, string>,
    entryPoint: string,
  ): GPUComputePipeline {
    const text = (): string =>
      Object.entries(code()).reduce(
        (t, [marker, c]) => t.replace(new RegExp(`^.*${marker}.*$`, 'm'), () => c),
        withParams(source(file), params, file),
      );
    return this.build(`${file}#${variant}`, text, entryPoint, {});
  }

  private build(name: string, text: () => string, entryPoint: string, constants: Record<string, number>): GPUComputePipeline {
    const key = `${name}:${entryPoint}:${JSON.stringify(constants)}`;
    let p = this.pipelines.get(key);
    if (!p) {
      let module = this.modules.get(name);
      if (!module) {
        module = this.ctx.device.createShaderModule({ label: name, code: text() });
        this.modules.set(name, module);
      }
      p = this.ctx.device.createComputePipeline({ label: key, layout: 'auto', compute: { module, entryPoint, constants } });
      this.pipelines.set(key, p);
    }
    return p;
  }
}
