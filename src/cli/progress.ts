/**
 * A progress bar on stderr (cli-progress), drawn only when stderr is a
 * terminal, so pipes and logs stay clean.
 */
import { SingleBar } from 'cli-progress';

export interface Progress {
  tick(done: number): void;
  end(): void;
}

export function progress(label: string, total: number): Progress {
  if (process.stderr.isTTY !== true) return { tick: () => undefined, end: () => undefined };
  const bar = new SingleBar({
    format: `${label} [{bar}] {percentage}% {value}/{total} {duration_formatted}`,
    stream: process.stderr,
    hideCursor: true,
    fps: 10,
    clearOnComplete: false,
  });
  bar.start(total, 0);
  return { tick: (done) => bar.update(done), end: () => bar.stop() };
}
