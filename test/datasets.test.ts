/** Dataset formats shared by dso learn, dso eval and the federated experiment, on small fixture files of each format. */
import { describe, expect, it } from 'vitest';

import { answersEquivalent, readDataset, splitDataset } from '../src/aso/index.js';
import { errorCode } from './helpers/errors.js';

const fixture = (name: string) => `test/fixtures/datasets/${name}.jsonl`;

describe('datasets', () => {
  it('gsm8k: the final answer after ####, not the rationale', () => {
    const ps = readDataset(fixture('gsm8k'), { format: 'gsm8k' });
    expect(ps.map((p) => p.groundTruth)).toEqual(['4', '2,400']);
    expect(answersEquivalent('2400', ps[1].groundTruth)).toBe(true);
    expect(ps[0]).toMatchObject({ where: `${fixture('gsm8k')}:1`, query: expect.stringContaining('Tom has') as unknown });
    // auto reads the same file and cuts the answer at #### too.
    expect(readDataset(fixture('gsm8k')).map((p) => p.groundTruth)).toEqual(['4', '2,400']);
  });

  it('math: the answer field, else the last \\boxed{} of the solution', () => {
    expect(readDataset(fixture('math'), { format: 'math' }).map((p) => p.groundTruth)).toEqual(['\\frac{3}{4}', '2\\sqrt{2}']);
  });

  it('aime: problem or question, and an integer answer', () => {
    expect(readDataset(fixture('aime'), { format: 'aime' }).map((p) => [p.query.slice(0, 8), p.groundTruth])).toEqual([
      ['Find the', '24'],
      ['How many', '9'],
    ]);
  });

  it('jsonl: the named fields, and the domain', async () => {
    const [p] = readDataset(fixture('custom'), { format: 'jsonl', questionField: 'prompt', answerField: 'target' });
    expect(p).toMatchObject({ query: 'What is 6 times 7?', groundTruth: '42', domain: 'arithmetic' });
    expect(await errorCode(() => readDataset(fixture('custom'), { format: 'jsonl' }))).toBe('INVALID_ARGUMENT');
  });

  it('a line that does not fit its format is an error naming the file and line', async () => {
    expect(() => readDataset(fixture('bad-gsm8k'), { format: 'gsm8k' })).toThrow(
      /bad-gsm8k\.jsonl:3: the gsm8k "answer" has no final answer after "####"/u,
    );
    expect(() => readDataset(fixture('gsm8k'), { format: 'math' })).toThrow(/gsm8k\.jsonl:1: the math format needs a non-empty "problem"/u);
    expect(() => readDataset(fixture('math'), { format: 'aime' })).toThrow(/math\.jsonl:1: the aime format needs an integer "answer"/u);
    expect(await errorCode(() => readDataset('test/fixtures/datasets/missing.jsonl'))).toBe('IO_ERROR');
  });

  it('splits with a seed: train and test never share a problem, and the same seed gives the same split', () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const test = splitDataset(items, 'test', { testFraction: 0.2, seed: 7 });
    const train = splitDataset(items, 'train', { testFraction: 0.2, seed: 7 });
    expect(test).toHaveLength(10);
    expect([...test, ...train].sort((a, b) => a - b)).toEqual(items);
    expect(splitDataset(items, 'test', { testFraction: 0.2, seed: 7 })).toEqual(test);
    expect(splitDataset(items, 'test', { testFraction: 0.2, seed: 8 })).not.toEqual(test);
    expect(splitDataset(items, 'all')).toEqual(items);
  });
});
