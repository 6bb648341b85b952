/** A second process on the same chain: votes on a batch as the member whose key it is given, and says how it went. */
import { connectChain } from '../../src/network/chain.js';
import { identityFromKey } from '../../src/network/identity.js';
import { RegistryClient, revertReasonOf } from '../../src/network/registry.js';

const [url, address, key, id] = process.argv.slice(2);
const conn = await connectChain(url, { pollingInterval: 50 });
const client = RegistryClient.at(conn, identityFromKey(key as `0x${string}`), address as `0x${string}`);
try {
  await client.vote(BigInt(id), true);
  process.stdout.write('voted\n');
} catch (e) {
  process.stdout.write(`refused: ${revertReasonOf(e) ?? String(e)}\n`);
}
