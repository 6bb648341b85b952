/**
 * W1: pack 1,000,000 x 384 float32 rows into sign codes + one scale per row;
 * into fresh result arrays (each call's 52 MB are new pages, faulted in by
 * the kernel) and into reused `out` arrays, side by side.
 */
import { floats } from '../lib/data.js';
import type { Machine } from '../lib/machine.js';
import { measure } from '../lib/measure.js';
import type { Row } from '../lib/report.js';
import { jsEngine, nativeEngines } from './engines.js';

export async function packWorkload(m: Machine, rows: number, dim: number): Promise<Row[]> {
  const out: Row[] = [];
  const x = floats(rows * dim, 1);
  const gb = x.byteLength / 1e9;
  const reused = { codes: new Uint8Array(rows * Math.ceil(dim / 8)), scales: new Float32Array(rows) };
  for (const { label, engine } of await nativeEngines({ withoutVpopcntdq: false })) {
    for (const into of [false, true]) {
      const t = await measure(label, () => engine.quantize(x, { dim, out: into ? reused : undefined }));
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
        note: into ? 'into reused out arrays' : 'into fresh arrays',
      });
    }
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
