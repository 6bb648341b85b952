/**
 * Rewards for rollouts. The built-in one is for math: 1 when the response's
 * final answer is the ground truth's answer by the rule of answers.ts, else 0.
 */
import { answersEquivalent, extractFinalAnswer } from './answers.js';

export { answersEquivalent, extractBoxed, extractFinalAnswer } from './answers.js';

export type RewardFunction = (response: string, groundTruth: string, problem: string) => number | Promise<number>;

/** 1 when the response's final answer matches the ground truth, else 0. */
export const mathReward: RewardFunction = (response, groundTruth) => {
  const answer = extractFinalAnswer(response);
  return answer !== undefined && answersEquivalent(answer, groundTruth) ? 1 : 0;
};
