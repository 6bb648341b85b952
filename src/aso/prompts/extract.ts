/**
 * Step 2 of semantic advantage extraction: from a group's summaries and their
 * advantages (how much better or worse than the group's mean each attempt
 * scored), at most {maxOperations} operations on the experience library.
 */
export const EXTRACT_TEMPLATE = `Several attempts at the same problem were made with the experiences below in the prompt. Each attempt is summarised with its advantage: positive means better than the group's average, negative worse.

Problem:
{problem}

Correct answer: {groundTruth}

Experiences in the prompt:
{experiences}

Attempts:
{summaries}

What general lesson separates the better attempts from the worse ones? Turn it into at most {maxOperations} operations on the experiences:
- {"op": "add", "text": "When ..., ..."} for a new lesson;
- {"op": "modify", "id": "G2", "text": "When ..., ..."} to correct or sharpen an experience;
- {"op": "merge", "ids": ["G1", "G3"], "text": "When ..., ..."} to join experiences that say the same thing;
- {"op": "delete", "id": "G4"} for an experience that misled the attempts.
Each text is one sentence of at most 32 words of the form "When <situation>, <advice>", general enough to help on other problems, with no numbers specific to this one.

Answer with JSON only: {"operations": [...]}. An empty list is fine when there is nothing general to learn.`;
