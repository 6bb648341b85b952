import { spawnSync } from 'node:child_process';

import { describe, expect, it } from 'vitest';

// scripts/check-sanitizers.sh builds the kernel check (every kernel of every
// tier this CPU runs, against the serial tier, including float32 edge values
// and seeded random Hamming shapes) with AddressSanitizer and
// UndefinedBehaviorSanitizer, so an out-of-bounds read or undefined
// arithmetic in a kernel fails here even where the results happen to match.
const probe = spawnSync('sh', ['-c', 'echo "int main(){}" | g++ -x c++ -fsanitize=address,undefined -o /dev/null -'], { encoding: 'utf8' });
const unavailable = probe.status !== 0;
if (unavailable) console.warn('SKIPPED sanitizer kernel check: g++ with libasan and libubsan is not installed (apt-get install g++)');

describe.skipIf(unavailable)('native kernels under AddressSanitizer and UndefinedBehaviorSanitizer', () => {
  it('match the serial tier with no sanitizer report', () => {
    const r = spawnSync('bash', ['scripts/check-sanitizers.sh'], { encoding: 'utf8', timeout: 600_000 });
    expect(r.stderr).not.toMatch(/Sanitizer|runtime error/);
    expect(r.stdout).toMatch(/\d+ passed, 0 failed/);
    expect(r.status).toBe(0);
  }, 600_000);
});
