/** The engine a command computes with, from its --backend and --verbose flags. */
import { createEngine } from '../engine/create-engine.js';
import type { BackendChoice, Engine } from '../engine/types.js';

export interface EngineFlags {
  backend: BackendChoice;
  verbose?: boolean;
  threads?: number;
}

export async function engineFor(flags: EngineFlags): Promise<Engine> {
  const engine = await createEngine({ backend: flags.backend, threads: flags.threads });
  if (flags.verbose) {
    const i = engine.info;
    console.error(
      `engine: ${i.backend}, ${i.isa}${i.vpopcntdq ? ' (vpopcntdq)' : ''}, ${i.threads} thread(s)${i.adapter ? `, adapter ${i.adapter.description}` : ''}`,
    );
  }
  return engine;
}
