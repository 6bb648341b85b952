import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { ExperienceLibrary, TransformersEmbedder } from '../src/experience/index.js';
import { BitDeltaQuantizer, createEngine, decodeCompressed, encodeCompressed, packReference } from '../src/index.js';
import { gaussian } from './helpers/random.js';

const TINY = path.resolve('test/fixtures/tiny-embedder');

describe('TransformersEmbedder on the checked-in tiny model', () => {
  it('tokenizes, runs ONNX Runtime, mean-pools and normalises', async () => {
    const emb = await TransformersEmbedder.load({ modelPath: TINY });
    expect(emb.dim).toBe(32);
    expect(emb.id).toBe('transformers:tiny-embedder:fp32:32');
    const texts = ['When solving an equation, check the final answer.', 'When a loop never ends, check the counter.', 'hello'];
    const v = await emb.embed(texts);
    expect(v.length).toBe(3 * 32);
    for (let r = 0; r < 3; r++) {
      const row = v.subarray(r * 32, (r + 1) * 32);
      expect(row.reduce((s, x) => s + x * x, 0)).toBeCloseTo(1, 4);
    }
    // Batching does not change results.
    const one = await emb.embed([texts[1]]);
    for (let j = 0; j < 32; j++) expect(one[j]).toBeCloseTo(v[32 + j], 5);
    await emb.close();
  });

  it('backs a library end to end', async () => {
    const emb = await TransformersEmbedder.load({ modelPath: TINY, batchSize: 2 });
    const lib = await ExperienceLibrary.open({ embedder: emb, duplicateThreshold: 1 });
    await lib.add([
      { text: 'When you solve an equation, check the final answer.' },
      { text: 'When a loop never ends, check the counter.' },
      { text: 'When sorting strings, compare them as lists of letters.' },
    ]);
    const [top] = await lib.retrieve('When a loop never ends, check the counter.', { k: 1 });
    expect(top.experience.text).toBe('When a loop never ends, check the counter.');
    expect(top.similarity).toBeCloseTo(1, 4);
    await lib.close();
    await emb.close();
  });

  it('refuses to download and says how to fix it', async () => {
    await expect(
      TransformersEmbedder.load({ model: 'Xenova/all-MiniLM-L6-v2', localModelPath: path.resolve('test/fixtures') }),
    ).rejects.toMatchObject({
      code: 'EMBEDDER_UNAVAILABLE',
      message: expect.stringContaining('remote downloads are off') as unknown,
    });
  });
});

describe('BitDeltaQuantizer', () => {
  it('quantizes deltas through the engine and dequantizes them back', async () => {
    const engine = await createEngine();
    const q = new BitDeltaQuantizer({ engine });
    const v = gaussian(384, 11);
    const base = gaussian(384, 12);
    const c = await q.quantizeDelta(v, { baseline: base, groupSize: 128 });
    expect(c.code.length).toBe(48);
    expect(c.scales.length).toBe(3);
    const ref = packReference(v, { rows: 1, dim: 384, groupSize: 128, groups: 3, bytesPerRow: 48 }, base);
    expect(Array.from(c.code)).toEqual(Array.from(ref.codes));
    const back = await q.dequantize(c, { dim: 384, groupSize: 128, baseline: base });
    for (let j = 0; j < 384; j++) {
      const s = c.scales[Math.floor(j / 128)];
      expect(back[j]).toBeCloseTo(base[j] + ((c.code[j >> 3] >> (j & 7)) & 1 ? s : -s), 5);
    }
    await expect(q.quantizeDelta(new Float32Array([1, Number.NaN]))).rejects.toMatchObject({ code: 'NON_FINITE' });
    await engine.close();
  });

  it('compresses a library for the network: 48 bytes of signs for 384 dims, confident experiences only', async () => {
    const lib = await ExperienceLibrary.open();
    await lib.add([
      { text: 'When solving a linear equation, isolate the variable first.', domain: 'math', confidence: 0.9 },
      { text: 'When a loop never ends, check the counter update.', domain: 'code', confidence: 0.7 },
      { text: 'When unsure about a guess, say so.', confidence: 0.4 },
    ]);
    const q = new BitDeltaQuantizer();
    const recs = await q.compressForNetwork(lib, { minConfidence: 0.7 });
    expect(recs.map((r) => r.confidence)).toEqual([0.9, 0.7]);
    expect(recs[0].code.byteLength).toBe(48);
    expect(Array.from(recs[0].code)).toEqual(Array.from(lib.list()[0].code));
    expect(recs[0].scales[0]).toBeCloseTo(lib.list()[0].scale, 6);
    // The library's stored signs and scales go out as they are; quantizing the embeddings again gives the same records.
    let quantized = 0;
    const counting = await createEngine({ backend: 'js' });
    const quantize = counting.quantize.bind(counting);
    counting.quantize = (x, o) => {
      quantized++;
      return quantize(x, o);
    };
    const viaLibrary = await new BitDeltaQuantizer({ engine: counting }).compressForNetwork(lib, { minConfidence: 0.7 });
    expect(quantized).toBe(0);
    const bare = lib.list().map(({ code: _c, scale: _s, ...rest }) => rest);
    const requantized = await new BitDeltaQuantizer({ engine: counting }).compressForNetwork(bare, { minConfidence: 0.7 });
    expect(quantized).toBe(1);
    expect(requantized).toEqual(viaLibrary);
    await counting.close();
    const wire = encodeCompressed(recs[0]);
    expect(decodeCompressed(wire, recs[0].id)).toEqual(recs[0]);
    const report = BitDeltaQuantizer.compressionReport(
      recs,
      lib
        .list()
        .slice(0, 2)
        .map((e) => e.embedding),
    );
    expect(report.embeddingBytes).toBe(52);
    expect(report.float32EmbeddingBytes).toBe(1536);
    expect(report.embeddingRatio).toBeCloseTo(1536 / 52, 6);
    // Text and framing travel in both forms, so the whole record shrinks less than the embedding.
    expect(report.recordRatio).toBeGreaterThan(5);
    expect(report.recordRatio).toBeLessThan(report.embeddingRatio);
    expect(report.float32RecordBytes - report.recordBytes).toBeGreaterThan(1400);
    await q.close();
    await lib.close();
  });

  it('refuses malformed wire records', () => {
    const rec = {
      id: 'x',
      text: 'When x, y.',
      code: new Uint8Array(2),
      scales: new Float32Array([0.5]),
      dim: 12,
      groupSize: 12,
      confidence: 0.8,
      domain: 'd',
      epoch: 0,
      source: 'n',
      createdAt: 1,
    };
    expect(decodeCompressed(encodeCompressed(rec), 'x')).toEqual(rec);
    const bad = [
      new Uint8Array([0xff, 0x00]),
      encodeCompressed({ ...rec, code: new Uint8Array(3) }),
      encodeCompressed({ ...rec, code: new Uint8Array([0, 0xf0]) }),
      encodeCompressed({ ...rec, scales: new Float32Array([Number.NaN]) }),
      encodeCompressed({ ...rec, confidence: 3 }),
      encodeCompressed({ ...rec, groupSize: 20 }),
    ];
    for (const b of bad)
      expect(() => decodeCompressed(b, 'x')).toThrowError(
        expect.objectContaining({ code: expect.stringMatching(/MALFORMED_RECORD|LENGTH_MISMATCH|NON_FINITE|INVALID_DIM/u) as unknown }),
      );
  });
});
