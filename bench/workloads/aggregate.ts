/** W3: coordinate-wise median and trimmed mean across 64 x 1,000,000 float32; majority over 64 x 1,000,000 bits. */
import { bytes, floats } from '../lib/data.js';
import type { Machine } from '../lib/machine.js';
import { measure } from '../lib/measure.js';
import type { Row } from '../lib/report.js';
import { jsEngine, nativeEngines } from './engines.js';

export async function aggregateWorkload(m: Machine, n: number, d: number, trim: number): Promise<Row[]> {
  const out: Row[] = [];
  const rows = floats(n * d, 4);
  const codes = bytes((n * d) / 8, 5);
  const gb = rows.byteLength / 1e9;
  const size = `${n} x ${d}`;
  const vsStream = (bytesRead: number, s: number) => bytesRead / 1e9 / s / m.streamReadGBs;
  for (const { label, engine } of await nativeEngines({ withoutVpopcntdq: false })) {
    const tm = await measure(`${label} median`, () => engine.median(rows, { n }));
    out.push({
      workload: 'W3 median',
      impl: label,
      size,
      seconds: tm.seconds,
      rme: tm.rme,
      throughput: gb / tm.seconds,
      unit: 'GB/s',
      ofLimit: vsStream(rows.byteLength, tm.seconds),
      limit: 'stream',
    });
    const tt = await measure(`${label} trimmed`, () => engine.trimmedMean(rows, { n, trim }));
    out.push({
      workload: 'W3 trimmed mean',
      impl: label,
      size: `${size}, trim ${trim}`,
      seconds: tt.seconds,
      rme: tt.rme,
      throughput: gb / tt.seconds,
      unit: 'GB/s',
      ofLimit: vsStream(rows.byteLength, tt.seconds),
      limit: 'stream',
    });
    const tj = await measure(`${label} majority`, () => engine.majority(codes, { n, dim: d }));
    out.push({
      workload: 'W3 majority',
      impl: label,
      size: `${n} x ${d} bits`,
      seconds: tj.seconds,
      rme: tj.rme,
      throughput: codes.byteLength / 1e9 / tj.seconds,
      unit: 'GB/s',
      ofLimit: vsStream(codes.byteLength, tj.seconds),
      limit: 'stream',
    });
  }
  const js = await jsEngine();
  const jd = Math.min(d, 20_000);
  const sub = new Float32Array(n * jd);
  for (let i = 0; i < n; i++) sub.set(rows.subarray(i * d, i * d + jd), i * jd);
  const tm = await measure('js median', () => js.median(sub, { n }), { maxTime: 0.5 });
  out.push({
    workload: 'W3 median',
    impl: 'dso js (reference)',
    size: `${n} x ${jd}`,
    seconds: tm.seconds,
    throughput: sub.byteLength / 1e9 / tm.seconds,
    unit: 'GB/s',
  });
  const jcodes = codes.subarray(0, (n * jd) / 8);
  const tj = await measure('js majority', () => js.majority(jcodes, { n, dim: jd }), { maxTime: 0.5 });
  out.push({
    workload: 'W3 majority',
    impl: 'dso js (reference)',
    size: `${n} x ${jd} bits`,
    seconds: tj.seconds,
    throughput: jcodes.byteLength / 1e9 / tj.seconds,
    unit: 'GB/s',
  });
  return out;
}
