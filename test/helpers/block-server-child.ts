/**
 * Child process for the peer memory test: a node serving `count` blocks of
 * `size` bytes from a block store on disk (as `dso node` does), with the peer
 * limits given as JSON. Prints { address, cids } once it listens, then serves
 * until killed.
 */
import { ContentStore } from '../../src/network/content-store.js';
import { P2PNode } from '../../src/network/p2p-node.js';
import { bigBlock } from './peers.js';

const [dir, count, size, limits] = process.argv.slice(2);
const store = await ContentStore.fs(dir);
const cids: string[] = [];
for (let i = 0; i < Number(count); i++) cids.push((await store.put(bigBlock(Number(size), i + 1))).toString());
const p2p = await P2PNode.start({
  network: 'dso-peer-load',
  chainId: 31337,
  registry: '0x0000000000000000000000000000000000000000',
  store,
  limits: JSON.parse(limits) as object,
  log: () => undefined,
});
process.stdout.write(`${JSON.stringify({ address: p2p.addresses[0], cids })}\n`);
