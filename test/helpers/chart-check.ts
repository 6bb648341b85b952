/**
 * Checks on a rendered chart as a person would see it: the legend group of a
 * Vega SVG, lifted out with its absolute offset and rendered by resvg with
 * real fonts, must lie inside the canvas (a clipped legend would reach past
 * it), and each legend entry must have a colour of its own.
 */
import { Resvg } from '@resvg/resvg-js';

import { RESVG_FONTS } from '../../src/charts/render.js';

export interface LegendCheck {
  canvas: { width: number; height: number };
  box: { x: number; y: number; width: number; height: number };
  colors: string[];
  labels: string[];
}

export function checkLegend(svg: string): LegendCheck {
  const width = Number(/<svg[^>]* width="([\d.]+)"/u.exec(svg)?.[1]);
  const height = Number(/<svg[^>]* height="([\d.]+)"/u.exec(svg)?.[1]);
  const stack: [number, number][] = [];
  const tag = /<(\/?)g\b([^>]*)>/gu;
  for (let m = tag.exec(svg); m !== null; m = tag.exec(svg)) {
    if (m[1] === '/') {
      stack.pop();
      continue;
    }
    const t = /transform="translate\(([-\d.]+),([-\d.]+)\)"/u.exec(m[2]);
    if (m[2].includes('class="mark-group role-legend"')) {
      const [ox, oy] = stack.reduce(([x, y], [dx, dy]) => [x + dx, y + dy], [0, 0]);
      let depth = 1;
      const from = m.index;
      for (let n = tag.exec(svg); n !== null; n = tag.exec(svg)) {
        depth += n[1] === '/' ? -1 : 1;
        if (depth === 0) break;
      }
      const group = svg.slice(from, tag.lastIndex);
      const alone =
        `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
        `<g fill="none" transform="translate(${ox},${oy})">${group}</g></svg>`;
      const box = new Resvg(alone, { font: RESVG_FONTS }).getBBox();
      if (!box) throw new Error('the legend renders nothing');
      const colors = [...group.matchAll(/role-legend-symbol"[^>]*><path[^>]* (?:stroke|fill)="(#[0-9a-f]{6})"/gu)].map((c) => c[1]);
      const labels = [...group.matchAll(/role-legend-label"[^>]*><text[^>]*>([^<]*)<\/text>/gu)].map((c) => c[1]);
      return { canvas: { width, height }, box: { x: box.x, y: box.y, width: box.width, height: box.height }, colors, labels };
    }
    stack.push(t ? [Number(t[1]), Number(t[2])] : [0, 0]);
  }
  throw new Error('no legend in the SVG');
}

/** Whether the legend lies wholly inside the canvas. */
export function legendInside(c: LegendCheck): boolean {
  return c.box.x >= 0 && c.box.y >= 0 && c.box.x + c.box.width <= c.canvas.width && c.box.y + c.box.height <= c.canvas.height;
}
