/** Step 1 of semantic advantage extraction: what one rollout did, and where it went right or wrong. */
export const SUMMARIZE_TEMPLATE = `You are reviewing one attempt at a problem.

Problem:
{problem}

Correct answer: {groundTruth}
This attempt's answer was {outcome} (reward {reward}).

Attempt:
{response}

Summarise the attempt in at most five short lines: the approach it took, the key steps, and the step where it went wrong (or what made it succeed). Plain text only.`;
