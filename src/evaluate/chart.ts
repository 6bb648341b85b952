/** The accuracy chart of an evaluation: pass@1 per condition with its 95% interval, pass@k beside it. */
import { barChart } from '../charts/charts.js';
import type { ChartSpec } from '../charts/render.js';
import type { ConditionResult } from './evaluate.js';

export function accuracyChart(results: readonly ConditionResult[], title: string, caption: string): ChartSpec {
  const k = results[0]?.samples ?? 1;
  return barChart({
    title,
    caption,
    yLabel: 'accuracy on held-out problems',
    yDomain: [0, 1.1],
    series: [
      {
        name: 'pass@1 (95% bootstrap CI)',
        bars: results.map((r) => ({ name: r.name, value: r.passAt1, low: r.passAt1Ci95[0], high: r.passAt1Ci95[1] })),
      },
      ...(k > 1 ? [{ name: `pass@${k}`, bars: results.map((r) => ({ name: r.name, value: r.passAtK })) }] : []),
    ],
  });
}
