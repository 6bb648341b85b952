/**
 * Group-relative advantages (GRPO): each rollout's reward against its group's
 * mean, in units of the group's standard deviation. A group whose rewards are
 * all equal carries no signal about what works, so it has no advantages.
 */
export function groupAdvantages(rewards: readonly number[]): number[] | undefined {
  const n = rewards.length;
  if (n === 0) return undefined;
  const mean = rewards.reduce((s, r) => s + r, 0) / n;
  const variance = rewards.reduce((s, r) => s + (r - mean) ** 2, 0) / n;
  if (!(variance > 1e-12)) return undefined;
  const sd = Math.sqrt(variance);
  return rewards.map((r) => (r - mean) / sd);
}
