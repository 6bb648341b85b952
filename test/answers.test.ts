/** The answer rule of src/aso/answers.ts, pair by pair: what a mathematician would accept, and what not. */
import { describe, expect, it } from 'vitest';

import { answersEquivalent, extractBoxed, extractFinalAnswer, mathReward } from '../src/aso/index.js';

const EQUAL: [string, string][] = [
  ['\\boxed{\\dfrac12}', '1/2'],
  ['\\dfrac12', '1/2'],
  ['\\frac{1}{2}', '0.5'],
  ['\\tfrac{3}{4}', '0.75'],
  ['\\frac34', '3/4'],
  ['-\\frac{1}{2}', '\\frac{-1}{2}'],
  ['2\\sqrt{2}', '\\sqrt{8}'],
  ['\\frac{\\sqrt{2}}{2}', '\\frac{1}{\\sqrt{2}}'],
  ['\\sqrt[3]{27}', '3'],
  ['sqrt(8)', '2\\sqrt{2}'],
  ['\\pi', '3.14159265358979'],
  ['\\frac{\\pi}{2}', 'pi/2'],
  ['2\\pi', '2*pi'],
  ['50\\%', '0.5'],
  ['50\\%', '50'],
  ['12.5%', '\\frac{1}{8}'],
  ['1,000', '1000'],
  ['1{,}000', '1000'],
  ['1,234,567.5', '1234567.5'],
  ['\\$18', '18'],
  ['18 dollars', '18'],
  ['10\\,\\text{cm}', '10'],
  ['10 \\text{ cm}^2', '10'],
  ['5 apples', '5'],
  ['30^\\circ', '30'],
  ['30°', '30'],
  ['\\text{Paris}', 'paris'],
  ['\\textbf{yes}', 'Yes'],
  ['$x = 3$', 'x=3'],
  ['x = 3', '3'],
  ['\\(4\\)', '4'],
  ['\\left( 1, 2 \\right)', '(1,2)'],
  ['3.0', '3'],
  ['+5', '5'],
  ['\u22125', '-5'],
  ['1e3', '1000'],
  ['1.5 \\times 10^3', '1500'],
  ['2^{10}', '1024'],
  ['10!', '3628800'],
  ['\\binom{5}{2}', '10'],
  ['\\log_2 8', '3'],
  ['1, 2, 3', '3, 2, 1'],
  ['\\{1, 2\\}', '\\{2, 1\\}'],
  ['-1, \\frac12', '0.5, -1'],
  ['[0, 1)', '\\left[0,1\\right)'],
  ['(-\\infty, 1) \\cup (2, \\infty)', '(2, \\infty) \\cup (-\\infty, 1)'],
  ['x \\in [0, 1]', '[0,1]'],
  ['(x+1)^2', 'x^2+2x+1'],
  ['\\frac{x^2-1}{x-1}', 'x+1'],
  ['y = 2x + 1', 'y=1+2x'],
  ['(B)', 'B'],
  ['\\text{(C)}', 'C'],
  ['42.', '42'],
  ['0.333333333', '\\frac13'],
  ['3\\sqrt{2}+1', '1+\\sqrt{18}'],
  ['\\sqrt{-4}', '2i'],
];

const DIFFERENT: [string, string][] = [
  ['3', '4'],
  ['\\frac{1}{2}', '\\frac{1}{3}'],
  ['2\\sqrt{2}', '\\sqrt{6}'],
  ['-5', '5'],
  ['\\pi', '3.14'],
  ['1, 2, 3', '1, 2'],
  ['1, 2', '1, 2, 2'],
  ['(1, 2)', '(2, 1)'],
  ['[0, 1)', '[0, 1]'],
  ['(0, 1)', '[0, 1]'],
  ['(-\\infty, 1) \\cup (2, \\infty)', '(-\\infty, 1)'],
  ['(x+1)^2', 'x^2+1'],
  ['x+1', 'x+2'],
  ['\\text{Paris}', 'London'],
  ['(A)', 'B'],
  ['1000', '100'],
  ['1,000', '1.000'],
  ['50\\%', '5'],
  ['1e3', '100'],
  ['99999!', '100000!'],
  ['', '0'],
  ['\\frac{1}{0}', '1'],
  ['y = 2x + 1', 'y = 2x'],
  ['\\{1, 2\\}', '\\{1, 3\\}'],
];

describe('answersEquivalent', () => {
  it('has at least 60 pairs in its table', () => {
    expect(EQUAL.length + DIFFERENT.length).toBeGreaterThanOrEqual(60);
  });

  it.each(EQUAL)('%s is the same answer as %s', (a, b) => {
    const x = extractBoxed(a) ?? a;
    expect(answersEquivalent(x, b)).toBe(true);
    expect(answersEquivalent(b, x)).toBe(true);
  });

  it.each(DIFFERENT)('%s is not the same answer as %s', (a, b) => {
    expect(answersEquivalent(a, b)).toBe(false);
    expect(answersEquivalent(b, a)).toBe(false);
  });

  it('compares what is too long, or not a string, as text only', () => {
    expect(answersEquivalent('1'.repeat(3000), '1'.repeat(3000))).toBe(true);
    expect(answersEquivalent(`${'0'.repeat(3000)}1`, '1')).toBe(false);
    expect(answersEquivalent(undefined as unknown as string, '1')).toBe(false);
  });
});

describe('extractFinalAnswer', () => {
  it.each([
    ['so we get \\boxed{1} then \\boxed{\\frac{1}{2}}.', '\\frac{1}{2}'],
    ['nested \\boxed{\\frac{\\sqrt{2}}{2}} here', '\\frac{\\sqrt{2}}{2}'],
    ['\\fbox{7}', '7'],
    ['Natalia sold 48 clips in April.\n#### 72', '72'],
    ['The answer is $\\frac{3}{4}$.', '$\\frac{3}{4}$.'],
    ['so the final answer: 42.', '42.'],
    ['we get 3 then 1,200 and -7', '-7'],
    ['\\boxed{unclosed', undefined],
    ['no digits at all', undefined],
  ])('%j gives %j', (text, answer) => {
    expect(extractFinalAnswer(text)).toBe(answer);
  });

  it('mathReward: 1 for the right final answer, else 0', () => {
    expect(mathReward('thus \\boxed{\\dfrac{1}{2}}', '0.5', '')).toBe(1);
    expect(mathReward('The answer is 1,000 apples.', '1000', '')).toBe(1);
    expect(mathReward('thus \\boxed{13}', '12', '')).toBe(0);
    expect(mathReward('no answer here', '12', '')).toBe(0);
  });
});
