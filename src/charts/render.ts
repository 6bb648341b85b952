/**
 * Charts as files: a Vega-Lite spec compiled to Vega and rendered to SVG in
 * Node (no browser, no canvas), and the same SVG rasterised to PNG by resvg.
 * Text is set in DejaVu Sans; without a canvas Vega estimates text widths
 * generously (0.8 em a character), so legends and titles get room to spare.
 */
import { renameSync, writeFileSync } from 'node:fs';

import { Resvg } from '@resvg/resvg-js';
import type { TopLevelSpec } from 'vega-lite';

import { DsoError } from '../core/errors.js';

export type ChartSpec = TopLevelSpec;

export const CHART_FONT = 'DejaVu Sans';

/** Resvg's fonts: the system's, with the charts' font first where it is installed. */
export const RESVG_FONTS = { loadSystemFonts: true, defaultFontFamily: CHART_FONT, sansSerifFamily: CHART_FONT } as const;

export async function renderSvg(spec: ChartSpec): Promise<string> {
  // Loaded when a chart is drawn, so the commands that draw none do not pay for Vega at start-up.
  const [{ parse: parseVega, View }, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  try {
    const view = new View(parseVega(compile(spec).spec), { renderer: 'none' });
    const svg = await view.toSVG();
    view.finalize();
    return svg;
  } catch (e) {
    throw new DsoError('INVALID_ARGUMENT', `the chart could not be rendered: ${(e as Error).message}`, { cause: e });
  }
}

/** The SVG as a PNG at `scale` times its size. */
export function svgToPng(svg: string, scale = 2): Uint8Array {
  const png = new Resvg(svg, { font: RESVG_FONTS, fitTo: { mode: 'zoom', value: scale }, background: 'white' }).render().asPng();
  return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
}

function writeAtomic(file: string, data: string | Uint8Array): void {
  try {
    writeFileSync(`${file}.tmp`, data);
    renameSync(`${file}.tmp`, file);
  } catch (e) {
    throw new DsoError('IO_ERROR', `cannot write ${file}: ${(e as Error).message}`, { cause: e });
  }
}

/** Writes `<base>.svg` and `<base>.png`; returns their paths. */
export async function writeChart(base: string, spec: ChartSpec): Promise<string[]> {
  const svg = await renderSvg(spec);
  writeAtomic(`${base}.svg`, svg);
  writeAtomic(`${base}.png`, svgToPng(svg));
  return [`${base}.svg`, `${base}.png`];
}
