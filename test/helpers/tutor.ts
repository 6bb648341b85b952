/**
 * A scripted model for the optimizer: it recognises each of the optimizer's
 * prompts and answers as a real model would, with rollout answers drawn from
 * a per-problem script, so tests control which groups have mixed rewards.
 */
import type { ChatRequest, Reply } from './chat-server.js';

export interface TutorScript {
  /** Boxed answers the rollouts of a problem give, in turn, keyed by a phrase of the problem. */
  answers: Record<string, string[]>;
  /** The operations JSON the extraction call answers; default: one add of `lesson`. */
  extraction?: (prompt: string, n: number) => string;
  lesson?: string;
}

/** The consolidation call's answer that keeps every proposal as it stands. */
export function acceptProposals(prompt: string): string {
  const ops = [...prompt.matchAll(/^- (add|modify|merge|delete) ?([^:>]*?)(?:(?::| ->) (.+))?$/gmu)].map(([, op, who, text]) => {
    const labels = who.split(', ').filter((l) => l.startsWith('G'));
    if (op === 'add') return { op, text };
    if (op === 'merge') return { op, ids: labels, text };
    return op === 'delete' ? { op, id: labels[0] } : { op, id: labels[0], text };
  });
  return JSON.stringify({ operations: ops });
}

export function tutor(script: TutorScript): (req: ChatRequest, n: number) => Reply {
  const turns = new Map<string, number>();
  let extractions = 0;
  return (req) => {
    const prompt = req.messages[req.messages.length - 1].content;
    if (prompt.startsWith('Solve the problem below')) {
      const key = Object.keys(script.answers).find((k) => prompt.includes(k));
      if (key === undefined) return 'I do not know. \\boxed{0}';
      const t = turns.get(key) ?? 0;
      turns.set(key, t + 1);
      const list = script.answers[key];
      return `Let me think step by step.\nSo the answer is \\boxed{${list[t % list.length]}}.`;
    }
    if (prompt.startsWith('You are reviewing one attempt')) return 'The attempt set up the equation and checked the result.';
    if (prompt.startsWith('Several attempts') || prompt.startsWith('That answer could not be used')) {
      if (script.extraction) return script.extraction(prompt, extractions++);
      const lesson = script.lesson ?? 'When an equation has a variable on both sides, move every variable term to one side first.';
      return `Here is what I learned:\n\`\`\`json\n${JSON.stringify({ operations: [{ op: 'add', text: lesson }] })}\n\`\`\``;
    }
    if (prompt.startsWith('You maintain a library')) return acceptProposals(prompt);
    return { status: 400, raw: JSON.stringify({ error: 'unexpected prompt' }) };
  };
}
