/** How the dso commands print results for people: aligned columns under a header, and one summary line. */
import Table from 'cli-table3';

const PLAIN = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '  ',
};

/** Borderless columns: readable in a terminal, and still one record a line for grep and awk. */
export function table(head: string[], rows: Array<Array<string | number>>, align?: Array<'left' | 'right'>): string {
  const t = new Table({
    head,
    chars: PLAIN,
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
    ...(align ? { colAligns: align } : {}),
  });
  for (const r of rows) t.push(r.map(String));
  return t
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n');
}

/** "1,234 queries in 0.52 s (2,373 queries/s)" */
export function rate(count: number, what: string, seconds: number): string {
  const per = seconds > 0 ? count / seconds : Number.POSITIVE_INFINITY;
  const fmt = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '∞');
  return `${count.toLocaleString('en-US')} ${what} in ${seconds.toFixed(2)} s (${fmt(per)} ${what}/s)`;
}
