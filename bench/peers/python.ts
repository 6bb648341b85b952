/** Runs bench/peers/peers.py with the first python3 that has numpy (Debian's first: FAISS lives there). */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PythonPeerRow {
  workload: string;
  impl: string;
  seconds: number;
  queries?: number;
}

export interface PythonPeers {
  python: string;
  numpy: string;
  faiss: string | null;
  rows: PythonPeerRow[];
  faissDistances?: number[];
}

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'peers.py');

export function findPython(): string | undefined {
  for (const py of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(py, ['-c', 'import numpy'], { stdio: 'ignore' });
    if (r.status === 0) return py;
  }
  return undefined;
}

export function runPythonPeers(config: object): PythonPeers | { error: string } {
  const python = findPython();
  if (!python) return { error: 'no python3 with numpy (apt-get install python3-numpy python3-faiss)' };
  const r = spawnSync(python, [script, JSON.stringify(config)], { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0) return { error: `peers.py failed: ${r.stderr.slice(-2000)}` };
  return { python, ...(JSON.parse(r.stdout) as Omit<PythonPeers, 'python'>) };
}
