/**
 * Rewards for rollouts. The built-in one is for math: the final answer is the
 * last \boxed{...} (or, failing that, a "final answer:" line, or the last
 * number), compared with the ground truth numerically when both read as
 * numbers (fractions, decimals, thousands separators, percent) and as
 * normalised text otherwise.
 */
export type RewardFunction = (response: string, groundTruth: string, problem: string) => number | Promise<number>;

/** The contents of the last \boxed{...} (braces matched), or undefined. */
export function extractBoxed(text: string): string | undefined {
  let found: string | undefined;
  let from = 0;
  for (;;) {
    const at = text.indexOf('\\boxed', from);
    if (at < 0) return found;
    let i = at + '\\boxed'.length;
    while (text[i] === ' ') i++;
    if (text[i] !== '{') {
      from = i;
      continue;
    }
    let depth = 0;
    const start = i + 1;
    for (; i < text.length; i++) {
      if (text[i] === '{') depth++;
      else if (text[i] === '}' && --depth === 0) break;
    }
    if (depth !== 0) return found;
    found = text.slice(start, i);
    from = i + 1;
  }
}

/** The model's final answer: \boxed{}, else an "answer:" line, else the last number. */
export function extractFinalAnswer(text: string): string | undefined {
  const boxed = extractBoxed(text);
  if (boxed !== undefined) return boxed;
  const lines = [...text.matchAll(/(?:final answer|answer)\s*(?:is|:)\s*(.+)/giu)];
  if (lines.length > 0) return lines[lines.length - 1][1].trim();
  const nums = text.match(/-?\d[\d,]*(?:\.\d+)?(?:\/\d+)?/gu);
  return nums ? nums[nums.length - 1] : undefined;
}

export function normalizeAnswer(a: string): string {
  let s = a.trim();
  s = s.replace(/\\text\{([^}]*)\}/gu, '$1').replace(/\\(?:left|right|,|!|;|quad)/gu, '');
  s = s.replace(/\\d?frac\{([^{}]*)\}\{([^{}]*)\}/gu, '($1)/($2)');
  s = s.replace(/\\%|%/gu, '%').replace(/\$/gu, '').replace(/\s+/gu, '');
  s = s.replace(/[.。]+$/u, '');
  return s.toLowerCase();
}

/** The number a normalised answer denotes, or undefined. */
export function answerValue(a: string): number | undefined {
  let s = a.replace(/^\((.*)\)$/u, '$1');
  const percent = s.endsWith('%');
  if (percent) s = s.slice(0, -1);
  if (/^-?\d{1,3}(,\d{3})+(\.\d+)?$/u.test(s)) s = s.replace(/,/gu, '');
  const frac = /^\(?(-?[\d.]+)\)?\/\(?(-?[\d.]+)\)?$/u.exec(s);
  let v: number;
  if (frac) v = Number(frac[1]) / Number(frac[2]);
  else if (/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/u.test(s)) v = Number(s);
  else return undefined;
  if (!Number.isFinite(v)) return undefined;
  return percent ? v / 100 : v;
}

export function answersEquivalent(a: string, b: string): boolean {
  const na = normalizeAnswer(a);
  const nb = normalizeAnswer(b);
  if (na === nb) return true;
  const va = answerValue(na);
  const vb = answerValue(nb);
  if (va === undefined || vb === undefined) return false;
  return Math.abs(va - vb) <= 1e-6 * Math.max(1, Math.abs(vb));
}

/** 1 when the response's final answer matches the ground truth, else 0. */
export const mathReward: RewardFunction = (response, groundTruth) => {
  const answer = extractFinalAnswer(response);
  return answer !== undefined && answersEquivalent(answer, groundTruth) ? 1 : 0;
};
