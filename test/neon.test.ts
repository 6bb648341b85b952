import { spawnSync } from 'node:child_process';

import { describe, expect, it } from 'vitest';

// The NEON tier cannot run on x86: scripts/check-neon.sh cross-compiles the
// kernel check (every NEON kernel against the serial tier) and runs it under
// qemu-aarch64. CI installs both tools; elsewhere the test says it is skipped.
const tools = ['aarch64-linux-gnu-g++', 'qemu-aarch64'];
const missing = tools.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
if (missing.length)
  console.warn(`SKIPPED NEON tier check: ${missing.join(', ')} not installed (apt-get install g++-aarch64-linux-gnu qemu-user)`);

describe.skipIf(missing.length > 0)('NEON tier (cross-compiled, under qemu-aarch64)', () => {
  it('matches the serial tier on every kernel', () => {
    const r = spawnSync('bash', ['scripts/check-neon.sh'], { encoding: 'utf8', timeout: 300_000 });
    expect(r.stdout + r.stderr).toMatch(/tiers: serial neon/);
    expect(r.stdout).toMatch(/\d+ passed, 0 failed/);
    expect(r.status).toBe(0);
  });
});
