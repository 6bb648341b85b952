/** JSON schemas of the request bodies: every field typed and bounded, unknown fields refused, nothing coerced. */
export const text = { type: 'string', minLength: 1, maxLength: 4000 } as const;
export const domain = { type: 'string', minLength: 1, maxLength: 100 } as const;
export const confidence = { type: 'number', minimum: 0, maximum: 1 } as const;

export const addExperiences = {
  type: 'object',
  required: ['experiences'],
  additionalProperties: false,
  properties: {
    experiences: {
      type: 'array',
      minItems: 1,
      maxItems: 10_000,
      items: {
        type: 'object',
        required: ['text'],
        additionalProperties: false,
        properties: { text, domain, confidence, metadata: { type: 'object', maxProperties: 64 } },
      },
    },
  },
} as const;

export const listExperiences = {
  type: 'object',
  additionalProperties: false,
  // Query strings are text: numbers are checked as digits and converted by the handler.
  properties: { limit: { type: 'string', pattern: '^[0-9]{1,5}$' }, offset: { type: 'string', pattern: '^[0-9]{1,9}$' } },
} as const;

export const retrieve = {
  type: 'object',
  required: ['query'],
  additionalProperties: false,
  properties: {
    query: text,
    k: { type: 'integer', minimum: 1, maximum: 100 },
    domain,
    minSimilarity: { type: 'number', minimum: -1, maximum: 1 },
  },
} as const;

const problem = { query: text, groundTruth: { type: 'string', minLength: 1, maxLength: 1000 }, domain } as const;

export const rollouts = {
  type: 'object',
  required: ['query', 'groundTruth', 'responses'],
  additionalProperties: false,
  properties: {
    ...problem,
    responses: { type: 'array', minItems: 2, maxItems: 64, items: { type: 'string', maxLength: 100_000 } },
    experiencesUsed: { type: 'array', maxItems: 100, items: { type: 'string', maxLength: 200 } },
  },
} as const;

export const learn = { type: 'object', required: ['query', 'groundTruth'], additionalProperties: false, properties: problem } as const;
