/**
 * Timing through benchmark.js (statistically sampled, deferred for async
 * work). Long workloads take few samples; the mean and its relative margin of
 * error are reported.
 */
import Benchmark from 'benchmark';

export interface Timing {
  seconds: number;
  rme: number;
  samples: number;
}

export function measure(name: string, fn: () => unknown, opts: { maxTime?: number } = {}): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const bench = new Benchmark(name, {
      defer: true,
      minSamples: 3,
      initCount: 1,
      maxTime: opts.maxTime ?? 1.5,
      fn(deferred: { resolve(): void }) {
        Promise.resolve(fn()).then(
          () => deferred.resolve(),
          (e: unknown) => {
            reject(e instanceof Error ? e : new Error(String(e), { cause: e }));
            deferred.resolve();
          },
        );
      },
      onComplete(this: Benchmark) {
        resolve({ seconds: this.stats.mean, rme: this.stats.rme, samples: this.stats.sample.length });
      },
      onError(this: Benchmark & { error?: unknown }) {
        reject(this.error);
      },
    });
    bench.run({ async: true });
  });
}
