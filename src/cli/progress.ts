/** A one-line progress bar on stderr, redrawn at most 10 times a second; silent when stderr is not a terminal. */
export function progress(label: string, total: number): { tick(done: number): void; end(): void } {
  const tty = process.stderr.isTTY === true;
  const start = performance.now();
  let last = 0;
  const draw = (done: number) => {
    const frac = total ? done / total : 1;
    const width = 30;
    const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '-');
    const secs = ((performance.now() - start) / 1000).toFixed(1);
    process.stderr.write(`\r${label} [${bar}] ${(frac * 100).toFixed(0).padStart(3)}% ${done}/${total} ${secs} s`);
  };
  return {
    tick(done) {
      const now = performance.now();
      if (!tty || now - last < 100) return;
      last = now;
      draw(done);
    },
    end() {
      if (!tty) return;
      draw(total);
      process.stderr.write('\n');
    },
  };
}
