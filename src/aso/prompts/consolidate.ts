/** Step 3, at the end of an epoch: fold the batch's candidate operations into a coherent change to the library. */
export const CONSOLIDATE_TEMPLATE = `You maintain a library of experiences, short lessons of the form "When <situation>, <advice>". Below are the library's experiences related to this batch and the operations proposed while solving the batch's problems.

Library experiences:
{experiences}

Proposed operations (texts of proposed additions are labelled P1, P2, ...):
{candidates}

Produce the final operations for the library: keep the proposals that are general and correct, merge proposals and experiences that say the same thing, modify experiences that a proposal corrects, delete experiences that proposals show to be wrong, and drop the rest. Use the ids G1, G2, ... for library experiences. Each text is one sentence of at most 32 words of the form "When <situation>, <advice>".

Answer with JSON only: {"operations": [{"op": "add", "text": "..."}, {"op": "modify", "id": "G1", "text": "..."}, {"op": "merge", "ids": ["G1", "G2"], "text": "..."}, {"op": "delete", "id": "G3"}]}.`;
