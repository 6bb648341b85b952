/** The charts module: rendered by Vega in Node and by resvg, legends inside the canvas, one colour and marker per series. */
import { Resvg } from '@resvg/resvg-js';
import { describe, expect, it } from 'vitest';

import { barChart, lineChart } from '../src/charts/charts.js';
import { renderSvg, svgToPng } from '../src/charts/render.js';
import { checkLegend, legendInside } from './helpers/chart-check.js';

const LONG = 'deltaAgreement (F=0.3, the honest-only DeltaSoup as reference)';

describe('charts', () => {
  it('a line chart whose series coincide still shows each series, inside the canvas, with headroom', async () => {
    const names = ['precision', 'recall', 'signAgreement', LONG];
    const svg = await renderSvg(
      lineChart({
        title: 'sign-flip, 100 nodes, 30% Byzantine',
        caption: 'dso simulate --nodes 100 --byzantine 0.3 --rounds 5 --seed 1',
        xLabel: 'round',
        yLabel: 'fraction',
        series: names.map((name) => ({ name, points: [1, 2, 3, 4, 5].map((r) => [r, 1] as [number, number]) })),
      }),
    );
    const legend = checkLegend(svg);
    expect(legend.labels).toEqual(names);
    expect(new Set(legend.colors).size).toBe(names.length);
    expect(legendInside(legend)).toBe(true);
    // The label is set in a real font and still fits: the box reaches past the plot but not past the canvas.
    expect(legend.box.width).toBeGreaterThan(300);
    // Four marker shapes, and the y axis goes above the data (1) with labelled ticks.
    const shapes = new Set([...svg.matchAll(/role-legend-symbol"[^>]*><path[^>]* d="([^"]+)"/gu)].map((m) => m[1]));
    expect(shapes.size).toBe(names.length);
    expect(svg).toContain('>sign-flip, 100 nodes, 30% Byzantine<');
    expect(svg).toContain('>dso simulate --nodes 100 --byzantine 0.3 --rounds 5 --seed 1<');
    const ticks = [...svg.matchAll(/role-axis-label[\s\S]*?<\/g>/gu)].join('');
    expect(ticks).toContain('>0.8<');
    expect(ticks).toContain('>1<');
  });

  it('a log-scale chart and a bar chart with error bars render to SVG and PNG', async () => {
    const log = await renderSvg(
      lineChart({
        title: 'bytes per node per round',
        caption: 'DSO against FedAvg',
        xLabel: 'round',
        yLabel: 'bytes (log)',
        logY: true,
        series: [
          {
            name: 'DSO',
            points: [
              [1, 3e4],
              [2, 3.1e4],
            ],
          },
          {
            name: 'FedAvg, 7B parameters',
            points: [
              [1, 2.8e10],
              [2, 2.8e10],
            ],
          },
        ],
      }),
    );
    expect(legendInside(checkLegend(log))).toBe(true);
    const bars = await renderSvg(
      barChart({
        title: 'Accuracy per condition',
        caption: 'dso eval: 20 problems, 4 samples each',
        yLabel: 'accuracy',
        series: [
          {
            name: 'pass@1 (95% CI)',
            bars: [
              { name: 'baseline', value: 0.3, low: 0.2, high: 0.4 },
              { name: 'library', value: 0.8, low: 0.7, high: 0.9 },
            ],
          },
          {
            name: 'pass@4',
            bars: [
              { name: 'baseline', value: 0.6 },
              { name: 'library', value: 1 },
            ],
          },
        ],
      }),
    );
    const legend = checkLegend(bars);
    expect(legendInside(legend)).toBe(true);
    expect(new Set(legend.colors).size).toBe(2);
    const png = svgToPng(bars);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    // The PNG (its IHDR width) is twice the SVG canvas.
    expect(Buffer.from(png).readUInt32BE(16)).toBe(2 * new Resvg(bars).width);
  });
});
