/**
 * The engine of a component that may be handed one: a given engine is used
 * and left open (its owner closes it); otherwise one is created on first use
 * and closed with the component.
 */
import { createEngine } from './create-engine.js';
import type { Engine } from './types.js';

export class LazyEngine {
  private engine?: Engine;
  private readonly owned: boolean;

  private creating?: Promise<Engine>;

  constructor(
    given?: Engine,
    private readonly create: () => Promise<Engine> = () => createEngine(),
  ) {
    this.engine = given;
    this.owned = given === undefined;
  }

  async get(): Promise<Engine> {
    if (this.engine) return this.engine;
    // Callers that ask at once share one engine instead of each creating one.
    this.creating ??= this.create();
    this.engine = await this.creating;
    return this.engine;
  }

  async close(): Promise<void> {
    if (!this.owned) return;
    const e = this.engine ?? (await this.creating?.catch(() => undefined));
    this.engine = undefined;
    this.creating = undefined;
    await e?.close();
  }
}

/** Runs `fn` on the given engine, or on one created for the call and closed after it. */
export async function withEngine<T>(given: Engine | undefined, fn: (engine: Engine) => Promise<T>): Promise<T> {
  const lazy = new LazyEngine(given);
  try {
    return await fn(await lazy.get());
  } finally {
    await lazy.close();
  }
}
