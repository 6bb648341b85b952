/**
 * Experiences as the model sees them: numbered lines `[G1] (domain,
 * conf:0.70) When ..., ...`, and the template that puts them in front of a
 * problem. The labels are positions in one prompt, not ids: `labels[i]` is
 * the id behind `[G{i+1}]`, so operations the model writes against labels
 * map back to stable ids.
 */
import type { Experience } from './experience.js';

export const NO_EXPERIENCES = 'None';

export interface FormattedExperiences {
  text: string;
  labels: string[];
}

/** What a prompt shows of an experience: a library's own, or one another node returned. */
export type PromptExperience = Pick<Experience, 'id' | 'text' | 'domain' | 'confidence'>;

export function formatExperiences(list: readonly PromptExperience[]): FormattedExperiences {
  if (list.length === 0) return { text: NO_EXPERIENCES, labels: [] };
  return {
    text: list.map((e, i) => `[G${i + 1}] (${e.domain}, conf:${e.confidence.toFixed(2)}) ${e.text}`).join('\n'),
    labels: list.map((e) => e.id),
  };
}

/** The id behind a label such as "G3" or "[G3]", or undefined when the label is not one of them. */
export function labelToId(label: string, labels: readonly string[]): string | undefined {
  const m = /^\[?G(\d+)\]?$/iu.exec(label.trim());
  if (m === null) return undefined;
  return labels[Number(m[1]) - 1];
}

export const EXPERIENCE_INJECTION_TEMPLATE = `Solve the problem below. Experiences learned from earlier problems follow; use those that apply and ignore the rest.

Experiences:
{experiences}

Problem:
{problem}

Reason step by step, then give the final answer as \\boxed{answer}.`;

/**
 * Replaces each {name} of `template` whose name is a key of `vars`. One pass,
 * so braces inside the substituted text (LaTeX, JSON) are never substituted again.
 */
export function fillTemplate(template: string, vars: Readonly<Record<string, string>>): string {
  return template.replace(/\{([A-Za-z]\w*)\}/gu, (whole, k: string) => (Object.hasOwn(vars, k) ? vars[k] : whole));
}

export function injectExperiences(problem: string, experiences: string, template = EXPERIENCE_INJECTION_TEMPLATE): string {
  return fillTemplate(template, { problem, experiences });
}
