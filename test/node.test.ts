import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { keccak256, parseEther, toHex } from 'viem';
import { afterAll, describe, expect, it } from 'vitest';

import { ExperienceLibrary } from '../src/experience/index.js';
import { startInProcessChain } from '../src/network/chain.js';
import { identityFromKey, loadOrCreateNodeKey } from '../src/network/identity.js';
import { RegistryClient } from '../src/network/registry.js';
import { loadConfig } from '../src/node/config.js';
import { DsoNode } from '../src/node/dso-node.js';
import { buildHttpApi } from '../src/node/http/server.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dso-node-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let dirs = 0;
const fresh = () => path.join(dir, `n${dirs++}`);

function code(fn: () => unknown): { code?: string; message?: string; field?: string } {
  try {
    fn();
  } catch (e) {
    return e as { code?: string; message?: string; field?: string };
  }
  return {};
}

describe('DsoConfig', () => {
  it('layers defaults < file < environment < flags', () => {
    const d = fresh();
    rmSync(d, { recursive: true, force: true });
    const file = path.join(dir, 'dso.config.json');
    writeFileSync(
      file,
      JSON.stringify({ syncFrequency: 10, network: 'from-file', library: { capacity: 50 }, peers: ['/ip4/127.0.0.1/tcp/1'] }),
    );
    const c = loadConfig({ file, env: { DSO_SYNC_FREQUENCY: '20', DSO_NETWORK: 'from-env' }, flags: { network: 'from-flag' } });
    expect(c.syncFrequency).toBe(20);
    expect(c.network).toBe('from-flag');
    expect(c.library).toEqual({ namespace: 'default', capacity: 50, eviction: 'hybrid' });
    expect(c.peers).toEqual(['/ip4/127.0.0.1/tcp/1']);
    expect(c.acceptanceThreshold).toBe(0.7);
    expect(c.votingThreshold).toBe(0.4);
    expect(c.byzantineRobust).toBe(true);
    const toml = path.join(dir, 'dso.config.toml');
    writeFileSync(toml, 'syncFrequency = 7\n[http]\nport = 9001\n[model]\nbaseUrl = "http://127.0.0.1:8080/v1"\nname = "qwen"\n');
    const t = loadConfig({ file: toml, env: {} });
    expect(t.syncFrequency).toBe(7);
    expect(t.http).toMatchObject({ host: '127.0.0.1', port: 9001, auth: 'token' });
    expect(t.model?.name).toBe('qwen');
    expect(loadConfig({ cwd: dir, env: {} }).syncFrequency).toBe(10); // dso.config.json found in cwd
  });

  it('names the bad field and where it came from', () => {
    expect(code(() => loadConfig({ env: { DSO_SYNC_FREQUENCY: 'often' } }))).toMatchObject({
      code: 'INVALID_CONFIG',
      message: expect.stringContaining('DSO_SYNC_FREQUENCY') as unknown,
    });
    expect(code(() => loadConfig({ env: {}, flags: { 'acceptance-threshold': '1.5' } }))).toMatchObject({
      code: 'INVALID_CONFIG',
      field: 'acceptanceThreshold',
      message: expect.stringContaining('flag --acceptance-threshold') as unknown,
    });
    expect(code(() => loadConfig({ env: {}, flags: { speed: '1' } }))).toMatchObject({
      code: 'INVALID_CONFIG',
      message: 'unknown flag --speed',
    });
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ syncFrequncy: 5 }));
    expect(code(() => loadConfig({ file: bad, env: {} }))).toMatchObject({
      code: 'INVALID_CONFIG',
      message: expect.stringContaining('syncFrequncy') as unknown,
    });
    writeFileSync(bad, '{ not json');
    expect(code(() => loadConfig({ file: bad, env: {} }))).toMatchObject({ code: 'INVALID_CONFIG' });
    writeFileSync(bad, JSON.stringify({ registryAddress: '0x12' }));
    expect(code(() => loadConfig({ file: bad, env: {} }))).toMatchObject({ field: 'registryAddress' });
  });
});

describe('dso node HTTP API', () => {
  it('adds, retrieves, reports status and metrics, and answers bad requests with 400 naming the field', async () => {
    const node = await DsoNode.start(loadConfig({ env: {}, flags: { 'data-dir': fresh(), enabled: 'false' } }));
    const app = await buildHttpApi(node);
    const headers = { host: '127.0.0.1:8787', authorization: `Bearer ${node.httpToken}` };
    const post = (url: string, payload: unknown) => app.inject({ method: 'POST', url, headers, payload: payload as object });
    const add = await post('/experiences', {
      experiences: [
        { text: 'When a test is flaky, look for shared state.', domain: 'code', confidence: 0.8 },
        { text: 'When dividing fractions, multiply by the reciprocal.', domain: 'math' },
      ],
    });
    expect(add.statusCode).toBe(200);
    expect(add.json<{ added: unknown[] }>().added).toHaveLength(2);
    const r = await post('/retrieve', { query: 'my test is flaky sometimes', k: 1 });
    expect(r.statusCode).toBe(200);
    const retrieved = r.json<{ experiences: { text: string }[]; prompt: string }>();
    expect(retrieved.experiences[0].text).toBe('When a test is flaky, look for shared state.');
    expect(retrieved.prompt).toBe('[G1] (code, conf:0.80) When a test is flaky, look for shared state.');
    expect((await app.inject({ url: '/status', headers })).json()).toMatchObject({
      nodeId: node.nodeId,
      library: { size: 2 },
      learning: false,
      chain: null,
    });
    const metrics = (await app.inject({ url: '/metrics', headers })).body;
    expect(metrics).toMatch(/dso_library_experiences 2/u);
    expect(metrics).toMatch(/dso_retrieval_seconds_count 1/u);
    const bad = [
      [await post('/retrieve', { k: 3 }), 'query'],
      [await post('/retrieve', { query: 'x', k: 0 }), 'k'],
      [await post('/experiences', { experiences: [{ text: 'no form here' }] }), undefined],
      [await post('/experiences', { experiences: [{ text: 'When x, y.', confidence: 3 }] }), 'experiences.0.confidence'],
      [await post('/rollouts', { query: 'q', groundTruth: '1', responses: ['only one'] }), 'responses'],
    ] as const;
    for (const [res, field] of bad) {
      expect(res.statusCode).toBe(400);
      if (field) expect(res.json()).toMatchObject({ error: 'INVALID_ARGUMENT', field });
    }
    expect(bad[2][0].json()).toMatchObject({ error: 'INVALID_EXPERIENCE' });
    const learn = await post('/learn', { query: 'q', groundTruth: '1' });
    expect(learn.statusCode).toBe(503);
    expect(learn.json<{ error: string }>().error).toBe('BACKEND_UNAVAILABLE');
    await app.close();
    await node.stop();
  });

  it('resumes from disk after a restart', async () => {
    const dataDir = fresh();
    const cfg = loadConfig({ env: {}, flags: { 'data-dir': dataDir, enabled: 'false' } });
    const a = await DsoNode.start(cfg);
    await a.library.add({ text: 'When restarting a node, keep the data directory.', confidence: 0.9 });
    const id = a.nodeId;
    await a.stop();
    const b = await DsoNode.start(cfg);
    expect(b.nodeId).toBe(id);
    expect(b.library.list().map((e) => e.text)).toEqual(['When restarting a node, keep the data directory.']);
    await b.stop();
  });
});

describe('trainers syncing through the full stack on 127.0.0.1', () => {
  it('three nodes: A shares, B votes it in, and B and C merge it', async () => {
    const chain = await startInProcessChain();
    const dataDirs = [fresh(), fresh(), fresh()];
    const ids = dataDirs.map((d) => loadOrCreateNodeKey(path.join(d, 'node.key')));
    for (const id of ids) await chain.fund(id.address, parseEther('10'));
    const owner = identityFromKey(keccak256(toHex('owner')));
    await chain.fund(owner.address, parseEther('10'));
    const reg = await RegistryClient.deploy(chain, owner, { votingPeriod: 3600, members: ids.map((i) => i.address) });
    const nodes: DsoNode[] = [];
    for (const d of dataDirs) {
      const peers = nodes.length > 0 ? nodes[nodes.length - 1].network!.p2p.addresses.join(',') : '';
      const flags: Record<string, string> = { 'data-dir': d, network: 'dso-trainers', 'sync-frequency': '1' };
      if (peers) flags.peers = peers;
      nodes.push(await DsoNode.start(loadConfig({ env: {}, flags }), { chain, registryAddress: reg.address }));
    }
    const [a, b, c] = nodes;
    await a.library.add([
      { text: 'When an integral looks hard, try substitution first.', domain: 'math', confidence: 0.9 },
      { text: 'When a proof stalls, try contradiction.', domain: 'math', confidence: 0.5 },
    ]);
    const sa = await a.trainer.sync();
    expect(sa.submitted?.records).toBe(1); // below the acceptance threshold stays home
    const sb = await b.trainer.sync();
    expect(sb.votes).toEqual([{ batchId: sa.submitted?.batchId, approve: true }]);
    expect(sb.merged).toBe(1); // its vote decided the batch, so the same sync fetched it
    // A's submission is its own yes: with B's, 2 of 3 accepted the batch before C's turn.
    const sc = await c.trainer.sync();
    expect(sc.votes).toEqual([]);
    expect(sc.merged).toBe(1);
    expect(c.library.list().map((e) => e.text)).toEqual(['When an integral looks hard, try substitution first.']);
    expect(c.library.list()[0].source).toBe(a.nodeId);
    const sb2 = await b.trainer.sync();
    expect(sb2.merged).toBe(0);
    // A does not merge its own experience back, and nothing is shared twice.
    const sa2 = await a.trainer.sync();
    expect(sa2.merged).toBe(0);
    expect(sa2.submitted).toBeUndefined();
    expect(b.trainer.metrics).toMatchObject({ syncs: 2, batchesAccepted: 1, experiencesMerged: 1 });
    expect(b.trainer.metrics.bytesIn).toBeGreaterThan(0);
    for (const n of nodes) await n.stop();
    await chain.close();
    const reopened = await ExperienceLibrary.open({ path: path.join(dataDirs[2], 'library.db') });
    expect(reopened.size).toBe(1);
    await reopened.close();
  }, 120_000);
});

describe('dso node process', () => {
  it('finishes the running sync on SIGTERM, then exits 0 with the database closed', async () => {
    const dataDir = fresh();
    const port = 20_000 + (process.pid % 10_000) + 7;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'node', '--data-dir', dataDir, '--port', String(port), '--capacity', '5000'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, DSO_LOG_LEVEL: 'info' },
      },
    );
    let log = '';
    child.stdout.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    for (let i = 0; i < 300 && !log.includes('dso node ready'); i++) await new Promise((r) => setTimeout(r, 100));
    expect(log).toContain('dso node ready');
    const url = `http://127.0.0.1:${port}`;
    const authorization = `Bearer ${readFileSync(path.join(dataDir, 'http.token'), 'utf8').trim()}`;
    const experiences = Array.from({ length: 3000 }, (_, i) => ({
      text: `When case ${i} arrives, handle it with rule ${i * 7}.`,
      confidence: 0.9,
    }));
    expect(
      (
        await fetch(`${url}/experiences`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization },
          body: JSON.stringify({ experiences }),
        })
      ).status,
    ).toBe(200);
    const sync = fetch(`${url}/sync`, { method: 'POST', headers: { authorization } }).then(
      (r) => r.json() as Promise<{ submitted?: { records: number } }>,
    );
    await new Promise((r) => setTimeout(r, 30));
    child.kill('SIGTERM');
    const report = await sync;
    expect(await exited).toBe(0);
    expect(report.submitted?.records).toBe(3000);
    const lines = log
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; time: number; reqId?: string; req?: { url: string } });
    const stopping = lines.find((l) => l.msg === 'stopping: finishing the running sync');
    const syncReq = lines.find((l) => l.req?.url === '/sync')?.reqId;
    const syncDone = lines.find((l) => l.reqId === syncReq && l.msg === 'request completed');
    // The signal came while the sync ran, and the sync still finished before the node stopped.
    expect(stopping && syncDone && stopping.time <= syncDone.time).toBe(true);
    expect(lines.map((l) => l.msg)).toContain('stopped');
    const lib = await ExperienceLibrary.open({ path: path.join(dataDir, 'library.db') });
    expect(lib.size).toBe(3000);
    await lib.close();
  }, 120_000);
});
