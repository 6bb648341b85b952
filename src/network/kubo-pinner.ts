/**
 * Pins accepted batches on an IPFS node through kubo's RPC API
 * (POST /api/v0/dag/import, as `ipfs dag import --pin-roots` does): the
 * node sends the batch as a CAR whose root is its signed announcement, so
 * the pin holds the signature, the manifest and every record, and kubo
 * needs no connection to this node to get them. The RPC endpoint is the
 * operator's own (trusted), but its answers are still bounded: a deadline
 * on the call and a cap on the response read.
 */
import type { CID } from 'multiformats/cid';

import { DsoError } from '../core/errors.js';
import { carStream, loadBatchBlocks } from './car.js';
import type { ContentStore } from './content-store.js';

const MAX_RESPONSE_BYTES = 1 << 20;

interface ImportLine {
  Root?: { Cid?: { '/'?: string }; PinErrorMsg?: string };
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of chunks) parts.push(c);
  return new Uint8Array(Buffer.concat(parts));
}

/** The response body as text, refusing more than MAX_RESPONSE_BYTES. */
async function boundedText(res: Response): Promise<string> {
  if (res.body === null) return '';
  const parts: Uint8Array[] = [];
  let size = 0;
  // Leaving the loop early cancels the rest of the body.
  for await (const value of res.body as AsyncIterable<Uint8Array>) {
    size += value.byteLength;
    if (size > MAX_RESPONSE_BYTES) throw new DsoError('TOO_LARGE', `the IPFS RPC answered more than ${MAX_RESPONSE_BYTES} bytes`);
    parts.push(value);
  }
  return Buffer.concat(parts).toString('utf8');
}

export class KuboPinner {
  constructor(
    private readonly rpcUrl: string,
    private readonly store: ContentStore,
    private readonly timeoutMs = 30_000,
  ) {}

  /** Imports and pins the batch whose announcement is `announcement` (the CID the registry records). */
  async pin(announcement: CID): Promise<void> {
    const { manifest, blocks } = await loadBatchBlocks(this.store, announcement);
    // Root the announcement: announcement -> manifest -> records, depth first.
    const ordered = [blocks[blocks.length - 1], ...blocks.slice(0, -1)];
    if (!ordered[0].cid.equals(announcement)) throw new DsoError('INVALID_ARGUMENT', `${String(announcement)} is not a batch announcement`);
    const car = await collect(carStream(announcement, ordered));
    const form = new FormData();
    form.append('file', new Blob([car], { type: 'application/vnd.ipld.car' }), `${manifest.cid.toString()}.car`);
    const url = new URL('/api/v0/dag/import?pin-roots=true', this.rpcUrl);
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, { method: 'POST', body: form, signal: AbortSignal.timeout(this.timeoutMs) });
      text = await boundedText(res);
    } catch (e) {
      if (e instanceof DsoError) throw e;
      throw new DsoError('IO_ERROR', `IPFS RPC ${url.origin}: ${(e as Error).message}`, { cause: e });
    }
    if (!res.ok) {
      let message = text.slice(0, 300);
      try {
        message = (JSON.parse(text) as { Message?: string }).Message ?? message;
      } catch {
        // not kubo's JSON error: keep the text
      }
      throw new DsoError('IO_ERROR', `IPFS RPC ${url.origin} answered ${res.status}: ${message}`);
    }
    const roots = text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => {
        try {
          return (JSON.parse(l) as ImportLine).Root;
        } catch {
          return undefined;
        }
      });
    const root = roots.find((r) => r?.Cid?.['/'] === announcement.toString());
    if (root === undefined) throw new DsoError('IO_ERROR', `IPFS RPC ${url.origin} did not report pinning ${announcement.toString()}`);
    if (root.PinErrorMsg)
      throw new DsoError('IO_ERROR', `IPFS RPC ${url.origin} could not pin ${announcement.toString()}: ${root.PinErrorMsg}`);
  }
}
