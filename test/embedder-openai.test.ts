/**
 * OpenAIEmbedder against a stand-in embeddings endpoint on 127.0.0.1 (POST
 * /v1/embeddings, the OpenAI protocol): batching, retries, the dimension
 * check, use in a library, in dso learn and in a node's config; and the
 * node's /metrics counting the tokens its model server reported.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { ExperienceLibrary, HashingEmbedder, OpenAIEmbedder } from '../src/experience/index.js';
import { loadConfig } from '../src/node/config.js';
import { DsoNode } from '../src/node/dso-node.js';
import { buildHttpApi } from '../src/node/http/server.js';
import { readBody, startChatServer } from './helpers/chat-server.js';
import { errorCode } from './helpers/errors.js';
import { methodModel } from './helpers/method-model.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dso-embed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface EmbeddingsServer {
  url: string;
  batches: string[][];
  close(): Promise<void>;
}

/** Vectors of the hashing embedder, scaled by 3 (the client normalises), or what `fault` says for request n. */
async function startEmbeddings(
  fault?: (n: number, input: string[]) => { status?: number; body?: unknown } | undefined,
): Promise<EmbeddingsServer> {
  const hashing = new HashingEmbedder();
  const batches: string[][] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      if (req.method !== 'POST' || req.url !== '/v1/embeddings') return void res.writeHead(404).end();
      const body = JSON.parse(await readBody(req)) as { model: string; input: string[] };
      batches.push(body.input);
      const f = fault?.(batches.length - 1, body.input);
      const v = hashing.embedSync(body.input);
      const data = body.input.map((_, i) => ({
        object: 'embedding',
        index: i,
        embedding: Array.from(v.subarray(i * 384, (i + 1) * 384), (x) => 3 * x),
      }));
      res.writeHead(f?.status ?? 200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          f?.body ?? { object: 'list', model: body.model, data: data.reverse(), usage: { prompt_tokens: 1, total_tokens: 1 } },
        ),
      );
    })();
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    batches,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

describe('OpenAIEmbedder', () => {
  it('embeds in batches, in order, normalised, and probes the dimension', async () => {
    const s = await startEmbeddings();
    try {
      const e = await OpenAIEmbedder.open({ baseUrl: s.url, model: 'stand-in-embed', batchSize: 64 });
      expect(e.dim).toBe(384);
      expect(e.id).toBe('openai:stand-in-embed:384');
      const texts = Array.from({ length: 150 }, (_, i) => `When problem ${i} comes, check step ${i % 7}.`);
      texts[5] = '   ';
      const got = await e.embed(texts);
      expect(s.batches.slice(1).map((b) => b.length)).toEqual([64, 64, 21]);
      const want = new HashingEmbedder().embedSync(texts);
      for (let i = 0; i < texts.length; i++) {
        if (i === 5) expect(got.subarray(i * 384, (i + 1) * 384).every((x) => x === 0)).toBe(true);
        else expect(Math.abs(got[i * 384 + 7] - want[i * 384 + 7])).toBeLessThan(1e-6);
      }
    } finally {
      await s.close();
    }
  });

  it('retries a failing server, and refuses answers of the wrong size or shape', async () => {
    const flaky = await startEmbeddings((n) => (n === 1 ? { status: 503, body: { error: 'busy' } } : undefined));
    const wrong = await startEmbeddings((n, input) =>
      n === 0 ? undefined : { body: { data: input.map((_, i) => ({ index: i, embedding: new Array(383).fill(0.1) })) } },
    );
    const short = await startEmbeddings((n) => (n === 0 ? undefined : { body: { data: [] } }));
    try {
      const e = await OpenAIEmbedder.open({ baseUrl: flaky.url, model: 'm', backoffMs: 1 });
      expect((await e.embed(['When retried, answer.'])).length).toBe(384);
      expect(flaky.batches).toHaveLength(3);
      const w = await OpenAIEmbedder.open({ baseUrl: wrong.url, model: 'm' });
      expect(await errorCode(w.embed(['When wrong, refuse.']))).toBe('DIM_MISMATCH');
      expect(await errorCode(OpenAIEmbedder.open({ baseUrl: wrong.url, model: 'm', dim: 100 }).then((x) => x.embed(['x y'])))).toBe(
        'DIM_MISMATCH',
      );
      const sh = await OpenAIEmbedder.open({ baseUrl: short.url, model: 'm' });
      expect(await errorCode(sh.embed(['When short, refuse.']))).toBe('MODEL_BAD_RESPONSE');
      expect(await errorCode(OpenAIEmbedder.open({ baseUrl: 'ftp://x', model: 'm' }))).toBe('INVALID_ARGUMENT');
    } finally {
      await Promise.all([flaky.close(), wrong.close(), short.close()]);
    }
  });

  it('backs a library, which then refuses another embedder', async () => {
    const s = await startEmbeddings();
    const file = path.join(dir, 'lib.db');
    try {
      const lib = await ExperienceLibrary.open({ path: file, embedder: await OpenAIEmbedder.open({ baseUrl: s.url, model: 'm' }) });
      await lib.add([{ text: 'When dividing, check the remainder.' }, { text: 'When adding fractions, find a common denominator.' }]);
      const [best] = await lib.retrieve('fractions with a common denominator', { k: 1 });
      expect(best.experience.text).toContain('common denominator');
      await lib.close();
      expect(await errorCode(ExperienceLibrary.open({ path: file }))).toBe('LIBRARY_MISMATCH');
    } finally {
      await s.close();
    }
  });

  it('serves dso learn, and a node configured with [embedder] kind = "openai" whose /metrics count model tokens', async () => {
    const s = await startEmbeddings();
    const chat = await startChatServer(methodModel());
    const toml = path.join(dir, 'node.toml');
    writeFileSync(
      toml,
      `dataDir = "${path.join(dir, 'node')}"\nenabled = false\n[embedder]\nkind = "openai"\nbaseUrl = "${s.url}"\nmodel = "m"\n` +
        `[model]\nbaseUrl = "${chat.url}"\nname = "stand-in"\n`,
    );
    try {
      expect(loadConfig({ file: toml, env: {} }).embedder).toEqual({ kind: 'openai', baseUrl: s.url, model: 'm' });
      expect(loadConfig({ env: { DSO_EMBEDDER: 'hashing' } }).embedder).toBe('hashing');
      const node = await DsoNode.start(loadConfig({ file: toml, env: {} }));
      const app = await buildHttpApi(node);
      try {
        expect(node.library.embedder.id).toBe('openai:m:384');
        const headers = { host: '127.0.0.1:8787', authorization: `Bearer ${node.httpToken}` };
        const learned = await app.inject({
          method: 'POST',
          url: '/learn',
          headers,
          payload: { query: 'What is 20% of 300?', groundTruth: '60' },
        });
        expect(learned.statusCode).toBe(200);
        const metrics = (await app.inject({ url: '/metrics', headers })).body;
        expect(metrics).toContain(`dso_model_prompt_tokens_total ${chat.reported.prompt}`);
        expect(metrics).toContain(`dso_model_completion_tokens_total ${chat.reported.completion}`);
        expect(metrics).toContain(`dso_model_calls_total ${chat.reported.calls}`);
      } finally {
        await app.close();
        await node.stop();
      }
      const data = path.join(dir, 'p.jsonl');
      writeFileSync(data, `${JSON.stringify({ question: 'What is 20% of 300?', answer: '#### 60' })}\n`);
      const r = await new Promise<{ status: number | null; err: string }>((resolve) => {
        const p = spawn(
          process.execPath,
          [
            '--import',
            'tsx',
            'src/cli/main.ts',
            'learn',
            '--data',
            data,
            '--format',
            'gsm8k',
            '--model-url',
            chat.url,
            '--model',
            'm',
            '--epochs',
            '1',
            '--library',
            path.join(dir, 'learn.db'),
            '--embedder',
            'openai',
            '--embedder-url',
            s.url,
            '--embedder-model',
            'm',
          ],
          { stdio: ['ignore', 'ignore', 'pipe'] },
        );
        let err = '';
        p.stderr.on('data', (d: Buffer) => (err += d.toString()));
        p.on('exit', (status) => resolve({ status, err }));
      });
      expect(r.err).toBe('');
      expect(r.status).toBe(0);
      expect(s.batches.length).toBeGreaterThan(2);
    } finally {
      await s.close();
      await chat.close();
    }
  }, 120_000);
});
