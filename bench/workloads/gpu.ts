/**
 * GPU rows: W1-W3 and a 10,000,000-code base on the webgpu backend, upload
 * time reported apart from search time, results checked against native,
 * results read into reused `out` arrays. The single query row also states
 * what one call costs in submissions, passes and bytes read back (the same
 * on any adapter). A software adapter (lavapipe) runs them only when asked
 * (--gpu), at quick sizes: its timings say nothing about GPUs.
 */
import { createEngine, type Engine } from '../../src/index.js';
import { bytes, floats } from '../lib/data.js';
import { measure } from '../lib/measure.js';
import type { Row } from '../lib/report.js';

export interface GpuSizes {
  packRows: number;
  searchRows: number;
  batch: number;
  columns: number;
}

async function same(a: Promise<{ ids: Int32Array }>, b: Promise<{ ids: Int32Array }>): Promise<boolean> {
  const [x, y] = await Promise.all([a, b]);
  return x.ids.length === y.ids.length && x.ids.every((v, i) => v === y.ids[i]);
}

export async function gpuWorkload(S: GpuSizes, native: Engine): Promise<{ rows: Row[]; note: string }> {
  let e: Engine;
  try {
    e = await createEngine({ backend: 'webgpu' });
  } catch (err) {
    return { rows: [], note: `no GPU rows: ${(err as Error).message}` };
  }
  const a = e.info.adapter!;
  const label = `dso webgpu (${a.description || a.device || a.vendor})`;
  const out: Row[] = [];
  const dim = 384;
  const B = dim / 8;

  const x = floats(S.packRows * dim, 1);
  const packed = { codes: new Uint8Array(S.packRows * B), scales: new Float32Array(S.packRows) };
  const tp = await measure('gpu pack', () => e.quantize(x, { dim, out: packed }));
  out.push({
    workload: 'W1 pack',
    impl: label,
    size: `${S.packRows} x ${dim}`,
    seconds: tp.seconds,
    throughput: x.byteLength / 1e9 / tp.seconds,
    unit: 'GB/s',
    note: 'incl. upload + readback, into reused out arrays',
  });

  for (const rows of [S.searchRows, 10 * S.searchRows]) {
    const base = bytes(rows * B, 2);
    const queries = bytes(S.batch * B, 3);
    const t0 = performance.now();
    const resident = await e.uploadCodes(base, { dim });
    const upload = (performance.now() - t0) / 1000;
    const identical = await same(e.hammingTopK(resident, queries, { dim, k: 10 }), native.hammingTopK(base, queries, { dim, k: 10 }));
    const tb = await measure('gpu batch', () => e.hammingTopK(resident, queries, { dim, k: 10 }));
    const note = `resident; upload ${upload.toFixed(2)} s; ${identical ? 'identical to native' : 'DIFFERS from native'}`;
    out.push({
      workload: 'W2 batch',
      impl: label,
      size: `${rows} x ${dim} bits, ${S.batch} queries`,
      seconds: tb.seconds,
      throughput: S.batch / tb.seconds,
      unit: 'q/s',
      note,
    });
    const q1 = queries.subarray(0, B);
    const one = { ids: new Int32Array(10), distances: new Int32Array(10) };
    const before = e.stats().gpu!;
    await e.hammingTopK(resident, q1, { dim, k: 10, out: one });
    const after = e.stats().gpu!;
    const perCall = `${after.submits - before.submits} submission, ${after.passes - before.passes} pass, ${after.dispatches - before.dispatches} dispatches, ${after.readBytes - before.readBytes} bytes read back`;
    const ts = await measure('gpu single', () => e.hammingTopK(resident, q1, { dim, k: 10, out: one }));
    out.push({
      workload: 'W2 single',
      impl: label,
      size: `${rows} x ${dim} bits`,
      seconds: ts.seconds,
      throughput: 1 / ts.seconds,
      unit: 'q/s',
      note: `resident; ${(base.byteLength / 1e9 / ts.seconds).toFixed(1)} GB/s of codes; per call: ${perCall}`,
    });
    resident.release();
  }

  const n = 64;
  const cols = floats(n * S.columns, 4);
  const medians = new Float32Array(S.columns);
  const tm = await measure('gpu median', () => e.median(cols, { n, out: medians }));
  out.push({
    workload: 'W3 median',
    impl: label,
    size: `${n} x ${S.columns}`,
    seconds: tm.seconds,
    throughput: cols.byteLength / 1e9 / tm.seconds,
    unit: 'GB/s',
    note: 'incl. upload + readback',
  });
  const codes = bytes((n * S.columns) / 8, 5);
  const tj = await measure('gpu majority', () => e.majority(codes, { n, dim: S.columns }));
  out.push({
    workload: 'W3 majority',
    impl: label,
    size: `${n} x ${S.columns} bits`,
    seconds: tj.seconds,
    throughput: codes.byteLength / 1e9 / tj.seconds,
    unit: 'GB/s',
    note: 'incl. upload + readback',
  });
  await e.close();
  return {
    rows: out,
    note: `GPU: ${a.vendor} ${a.architecture} ${a.device} (${a.description})${a.software ? ' — software rasterizer: correctness only' : ''}`,
  };
}
