/** W1: pack 1,000,000 x 384 float32 rows into sign codes + one scale per row. */
import { floats } from '../lib/data.js';
import type { Machine } from '../lib/machine.js';
import { measure } from '../lib/measure.js';
import type { Row } from '../lib/report.js';
import { jsEngine, nativeEngines } from './engines.js';

export async function packWorkload(m: Machine, rows: number, dim: number): Promise<Row[]> {
  const out: Row[] = [];
  const x = floats(rows * dim, 1);
  const gb = x.byteLength / 1e9;
  for (const { label, engine } of await nativeEngines({ withoutVpopcntdq: false })) {
    const t = await measure(label, () => engine.quantize(x, { dim }));
    out.push({
      workload: 'W1 pack',
      impl: label,
      size: `${rows} x ${dim}`,
      seconds: t.seconds,
      rme: t.rme,
      throughput: gb / t.seconds,
      unit: 'GB/s',
      ofLimit: gb / t.seconds / m.streamReadGBs,
      limit: 'stream',
    });
  }
  const jsRows = Math.min(rows, 20_000);
  const js = await jsEngine();
  const sub = x.subarray(0, jsRows * dim);
  const t = await measure('js', () => js.quantize(sub, { dim }));
  out.push({
    workload: 'W1 pack',
    impl: 'dso js (reference)',
    size: `${jsRows} x ${dim}`,
    seconds: t.seconds,
    throughput: sub.byteLength / 1e9 / t.seconds,
    unit: 'GB/s',
  });
  return out;
}
