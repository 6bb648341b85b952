/**
 * Files from outside are untrusted: index files, vector files and key files
 * that are not regular files, hold contents a checksum cannot vouch for, or
 * sit beside planted links and stale temporaries each fail with one typed
 * error, the same with and without mmap, and never hang.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';

import { afterAll, describe, expect, it } from 'vitest';

import { writeIndexFile } from '../src/binary-index/format.js';
import { BinaryIndex } from '../src/index.js';
import { loadOrCreateNodeKey } from '../src/network/identity.js';
import { addonAvailable } from '../src/simd/addon.js';
import { errorCode } from './helpers/errors.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dso-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** How opening `file` as `kind` ends in a child process: a DsoError code, 'ok', or 'hung' after 20 s. */
function openInChild(kind: string, file: string): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'test/helpers/open-child.ts', kind, file], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  return r.signal ? 'hung' : r.stdout.trim();
}

function fifo(name: string): string {
  const p = path.join(dir, name);
  expect(spawnSync('mkfifo', [p]).status).toBe(0);
  return p;
}

/** A pid that no process has: a child that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => child.once('exit', r));
  return child.pid!;
}

describe('files that are not regular files', () => {
  it.each(['key', 'index', 'vectors', ...(addonAvailable() ? ['index-mmap'] : [])])(
    'a FIFO or a directory as the %s file is NOT_A_FILE, without hanging',
    (kind) => {
      expect(openInChild(kind, fifo(`${kind}.fifo`))).toBe('NOT_A_FILE');
      const d = path.join(dir, `${kind}.dir`);
      mkdirSync(d);
      expect(openInChild(kind, d)).toBe('NOT_A_FILE');
    },
    60_000,
  );

  it('an index saved over a directory is NOT_A_FILE, and the directory stays', async () => {
    const d = path.join(dir, 'target.dir');
    mkdirSync(d);
    const index = new BinaryIndex({ dim: 8, threads: 1 });
    index.add(new Uint8Array(4));
    expect(await errorCode(index.save(d))).toBe('NOT_A_FILE');
    expect(statSync(d).isDirectory()).toBe(true);
  });
});

describe.skipIf(!addonAvailable())('index contents a checksum cannot vouch for', () => {
  const dim = 16;
  const codes = new Uint8Array(3 * 2).fill(9);
  const good = { dim, codes, labels: BigInt64Array.from([1n, 2n, 3n]) };
  const cases: Array<[string, Parameters<typeof writeIndexFile>[1]]> = [
    ['duplicate labels', { ...good, labels: BigInt64Array.from([1n, 2n, 2n]) }],
    ['descending labels', { ...good, labels: BigInt64Array.from([3n, 2n, 1n]) }],
    ['a NaN scale', { ...good, scales: Float32Array.from([1, Number.NaN, 1]) }],
    ['a negative scale', { ...good, scales: Float32Array.from([1, -1, 1]) }],
    ['an infinite vector value', { ...good, vectors: Float32Array.from({ length: 3 * dim }, (_, i) => (i === 20 ? Infinity : 1)) }],
    ['a NaN baseline value', { ...good, baseline: Float32Array.from({ length: dim }, (_, i) => (i === 3 ? Number.NaN : 0)) }],
  ];
  it.each(cases)('%s: CORRUPT_INDEX with and without mmap', async (what, rows) => {
    const file = path.join(dir, `${what}.dso`);
    await writeIndexFile(file, rows);
    expect(await errorCode(BinaryIndex.load(file, { threads: 1 }))).toBe('CORRUPT_INDEX');
    expect(await errorCode(BinaryIndex.load(file, { threads: 1, mmap: true }))).toBe('CORRUPT_INDEX');
  });

  it('a nonzero reserved header field, or an empty file: CORRUPT_INDEX with and without mmap', async () => {
    const file = path.join(dir, 'reserved.dso');
    await writeIndexFile(file, good);
    const bytes = readFileSync(file);
    bytes.writeUInt32LE(1, 20);
    // A consistent checksum, so only the field itself can be refused.
    bytes.writeUInt32LE(crc32(bytes.subarray(0, bytes.length - 8)) >>> 0, bytes.length - 8);
    writeFileSync(file, bytes);
    const empty = path.join(dir, 'empty.dso');
    writeFileSync(empty, '');
    for (const f of [file, empty]) {
      expect(await errorCode(BinaryIndex.load(f, { threads: 1 }))).toBe('CORRUPT_INDEX');
      expect(await errorCode(BinaryIndex.load(f, { threads: 1, mmap: true }))).toBe('CORRUPT_INDEX');
    }
  });
});

describe.skipIf(!addonAvailable())('temporaries of killed saves', () => {
  it('are removed at the next save and load when their process is gone, and nothing else is', async () => {
    const file = path.join(dir, 'stale.dso');
    const index = new BinaryIndex({ dim: 8, threads: 1 });
    index.add(new Uint8Array(4));
    const dead = await deadPid();
    const temp = (pid: number, hex: string, base = 'stale.dso') => path.join(dir, `.${base}.${pid}.${hex}.tmp`);
    const stale = [temp(dead, 'deadbeef'), temp(dead, '0badf00d')];
    const kept = [temp(process.pid, 'cafebabe'), temp(dead, 'deadbeef', 'other.dso'), path.join(dir, `.stale.dso.${dead}.tmp`)];
    for (const f of [...stale, ...kept]) writeFileSync(f, 'partial');
    await index.save(file);
    for (const f of stale) expect(existsSync(f), f).toBe(false);
    for (const f of kept) expect(existsSync(f), f).toBe(true);
    writeFileSync(stale[0], 'partial');
    await BinaryIndex.load(file, { threads: 1 });
    expect(existsSync(stale[0])).toBe(false);
    writeFileSync(stale[0], 'partial');
    await BinaryIndex.load(file, { threads: 1, mmap: true });
    expect(existsSync(stale[0])).toBe(false);
  });
});

describe('node key files', () => {
  const key = (name: string, content: string) => {
    const f = path.join(dir, name);
    writeFileSync(f, content, { mode: 0o600 });
    return f;
  };

  it('a dangling symbolic link is NOT_A_FILE, and nothing is created at its target', async () => {
    const target = path.join(dir, 'nowhere', 'victim.key');
    const link = path.join(dir, 'dangling.key');
    symlinkSync(target, link);
    expect(await errorCode(() => loadOrCreateNodeKey(link))).toBe('NOT_A_FILE');
    expect(existsSync(target)).toBe(false);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
  });

  it('a symbolic link to a valid key file is read', () => {
    const real = path.join(dir, 'real.key');
    const a = loadOrCreateNodeKey(real);
    const link = path.join(dir, 'linked.key');
    symlinkSync(real, link);
    expect(loadOrCreateNodeKey(link).address).toBe(a.address);
  });

  it.each([
    ['JSON null', 'null'],
    ['an array', '[]'],
    ['a string', '"0x01"'],
    ['no version', '{"privateKey":"0x0000000000000000000000000000000000000000000000000000000000000001"}'],
    ['a zero key', `{"version":1,"privateKey":"0x${'0'.repeat(64)}"}`],
    ['a key at the group order', '{"version":1,"privateKey":"0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"}'],
    ['an all-ones key', `{"version":1,"privateKey":"0x${'f'.repeat(64)}"}`],
    ['a short key', '{"version":1,"privateKey":"0x1234"}'],
    ['a non-hex key', `{"version":1,"privateKey":"0x${'g'.repeat(64)}"}`],
    ['a numeric address', `{"version":1,"privateKey":"0x${'0'.repeat(63)}1","address":12}`],
    ['5 MB of JSON', `{"version":1,"pad":"${'x'.repeat(5 << 20)}"}`],
  ])('%s is INVALID_KEY_FILE', async (what, content) => {
    expect(await errorCode(() => loadOrCreateNodeKey(key(`${what}.key`, content)))).toBe('INVALID_KEY_FILE');
  });

  it('creation never writes through a planted temporary name', () => {
    const file = path.join(dir, 'planted', 'node.key');
    mkdirSync(path.dirname(file));
    const victim = path.join(dir, 'planted-victim');
    // The name the key was once written under before being linked into place.
    symlinkSync(victim, `${file}.${process.pid}.tmp`);
    const id = loadOrCreateNodeKey(file);
    expect(existsSync(victim)).toBe(false);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadOrCreateNodeKey(file).address).toBe(id.address);
  });

  it("removes a killed creation's temporary at the next start", async () => {
    const file = path.join(dir, 'restart.key');
    const stale = path.join(dir, `.restart.key.${await deadPid()}.0123abcd.tmp`);
    writeFileSync(stale, 'half a key', { mode: 0o600 });
    loadOrCreateNodeKey(file);
    expect(existsSync(stale)).toBe(false);
  });
});
