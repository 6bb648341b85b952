/**
 * The charts of dso simulate, dso eval and dso experiment, as Vega-Lite
 * specs. Every chart has a title and a caption saying what was run; every
 * series its own colour and marker (markers are open, so series that lie on
 * each other still show each shape); the y axis has labelled ticks and
 * headroom above the data, so a line at the top value does not sit on the
 * border; the legend is outside the plot, to its right.
 */
import type { ChartSpec } from './render.js';
import { CHART_FONT } from './render.js';

export interface Series {
  name: string;
  points: [number, number][];
}

export interface LineChartOptions {
  title: string;
  /** What was run: a sentence under the title. */
  caption: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  logX?: boolean;
  logY?: boolean;
  /** y axis range (default: from 0, or the data's minimum, to the maximum plus 8% headroom). */
  yDomain?: [number, number];
  width?: number;
  height?: number;
}

const SHAPES = [
  'circle',
  'square',
  'triangle-up',
  'diamond',
  'cross',
  'triangle-down',
  'triangle-right',
  'triangle-left',
  'stroke',
  'arrow',
];
const DASHES = [
  [1, 0],
  [6, 3],
  [2, 2],
  [8, 3, 2, 3],
  [4, 4],
  [10, 2],
  [1, 3],
  [6, 2, 2, 2],
  [3, 6],
  [12, 4],
];
const COLORS = [
  '#4c78a8',
  '#e45756',
  '#54a24b',
  '#f58518',
  '#b279a2',
  '#9d755d',
  '#72b7b2',
  '#eeca3b',
  '#ff9da6',
  '#79706e',
  '#1f3f73',
  '#8c1c13',
  '#2d6a27',
  '#a3540b',
  '#6b3f66',
];

const config = {
  font: CHART_FONT,
  background: 'white',
  padding: 12,
  title: { fontSize: 15, subtitleFontSize: 11, subtitleColor: '#444', anchor: 'start', offset: 10 },
  axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridColor: '#e5e5e5', tickCount: 6 },
  legend: { orient: 'right', labelFontSize: 11, titleFontSize: 12, labelLimit: 0, symbolSize: 90, symbolStrokeWidth: 2 },
  view: { stroke: '#888' },
} as const;

/** Scale ranges that give series i the i-th colour, marker and dash, whatever their names. */
function seriesScales(names: string[]) {
  const pick = <T>(list: readonly T[]) => names.map((_, i) => list[i % list.length]);
  return {
    color: { domain: [...names], range: pick(COLORS) },
    shape: { domain: [...names], range: pick(SHAPES) },
    strokeDash: { domain: [...names], range: pick(DASHES) },
    // Earlier series are drawn wider and with larger markers, so series that coincide show as nested colours.
    strokeWidth: { domain: names.map((_, i) => i), range: names.map((_, i) => Math.max(1.5, 7 - 1.5 * i)) },
    size: { domain: names.map((_, i) => i), range: names.map((_, i) => Math.max(30, 260 - 45 * i)) },
  };
}

/** [low, high] of the y axis: from 0 (or the lowest value) to the highest plus headroom, a log axis by factors. */
function yRange(values: number[], log: boolean): [number, number] {
  const finite = values.filter((v) => Number.isFinite(v) && (!log || v > 0));
  if (finite.length === 0) return log ? [1, 10] : [0, 1];
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  if (log) return [lo / 2, hi * 3];
  const low = Math.min(0, lo);
  const span = hi - low || Math.abs(hi) || 1;
  return [low, hi + 0.08 * span];
}

export function lineChart(o: LineChartOptions): ChartSpec {
  const names = o.series.map((s) => s.name);
  const values = o.series.flatMap((s, order) => s.points.map(([x, y]) => ({ series: s.name, order, x, y })));
  const scales = seriesScales(names);
  const legend = { title: null, symbolFillColor: 'white' };
  const wholeX = values.every((v) => Number.isInteger(v.x));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: o.title, subtitle: o.caption },
    width: o.width ?? 520,
    height: o.height ?? 300,
    config,
    data: { values },
    encoding: {
      x: {
        field: 'x',
        type: 'quantitative',
        title: o.xLabel,
        scale: o.logX ? { type: 'log' } : { zero: false, nice: true },
        axis: { format: o.logX ? '~s' : '~g', ...(wholeX ? { tickMinStep: 1 } : {}) },
      },
      y: {
        field: 'y',
        type: 'quantitative',
        title: o.yLabel,
        scale: {
          type: o.logY ? 'log' : 'linear',
          domain:
            o.yDomain ??
            yRange(
              values.map((v) => v.y),
              o.logY === true,
            ),
          nice: false,
          clamp: false,
        },
        axis: { format: o.logY ? '~s' : '~g' },
      },
      color: { field: 'series', type: 'nominal', scale: scales.color, legend },
      order: { field: 'order' },
    },
    layer: [
      {
        mark: { type: 'line', clip: true },
        encoding: {
          strokeDash: { field: 'series', type: 'nominal', scale: scales.strokeDash, legend },
          strokeWidth: { field: 'order', type: 'ordinal', scale: scales.strokeWidth, legend: null },
        },
      },
      {
        mark: { type: 'point', filled: false, strokeWidth: 2, opacity: 1, clip: true },
        encoding: {
          shape: { field: 'series', type: 'nominal', scale: scales.shape, legend },
          size: { field: 'order', type: 'ordinal', scale: scales.size, legend: null },
        },
      },
    ],
  };
}

export interface Bar {
  /** The category on the x axis (a condition). */
  name: string;
  value: number;
  /** Error bar, when there is one (a 95% confidence interval). */
  low?: number;
  high?: number;
}

export interface BarChartOptions {
  title: string;
  caption: string;
  yLabel: string;
  /** One series of bars per entry, side by side within each category. */
  series: { name: string; bars: Bar[] }[];
  yDomain?: [number, number];
  width?: number;
  height?: number;
}

/** Bars per category and series, each with its error bar where given. */
export function barChart(o: BarChartOptions): ChartSpec {
  const names = o.series.map((s) => s.name);
  const values = o.series.flatMap((s) => s.bars.map((b) => ({ series: s.name, ...b, top: Math.max(b.value, b.high ?? b.value) })));
  const scales = seriesScales(names);
  const categories = [...new Set(values.map((v) => v.name))];
  const x = { field: 'name', type: 'nominal', title: null, sort: categories, axis: { labelAngle: 0, labelLimit: 0 } };
  const y = (field: string) => ({
    field,
    type: 'quantitative',
    title: o.yLabel,
    scale: { domain: o.yDomain ?? yRange([0, ...values.map((v) => v.top)], false), nice: false },
  });
  const withBar = { filter: 'isValid(datum.low) && isValid(datum.high)' };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: o.title, subtitle: o.caption },
    width: o.width ?? Math.max(320, categories.length * (40 + 36 * names.length)),
    height: o.height ?? 300,
    config,
    data: { values },
    encoding: {
      x,
      xOffset: { field: 'series', type: 'nominal', sort: names },
      color: { field: 'series', type: 'nominal', scale: scales.color, legend: { title: null } },
    },
    layer: [
      { mark: { type: 'bar', opacity: 0.85 }, encoding: { y: y('value') } },
      { transform: [withBar], mark: { type: 'rule', color: 'black', strokeWidth: 1.5 }, encoding: { y: y('low'), y2: { field: 'high' } } },
      { transform: [withBar], mark: { type: 'tick', color: 'black', thickness: 1.5, size: 12 }, encoding: { y: y('low') } },
      { transform: [withBar], mark: { type: 'tick', color: 'black', thickness: 1.5, size: 12 }, encoding: { y: y('high') } },
      {
        mark: { type: 'text', dy: -8, fontSize: 10, color: '#222' },
        encoding: { y: y('top'), text: { field: 'value', type: 'quantitative', format: '.2f' } },
      },
    ],
  } as ChartSpec;
}
