/** Endpoints read from the chain are untrusted text: bounded, parsed address by address, the bad ones dropped. */
import { describe, expect, it } from 'vitest';

import { formatEndpoint, MAX_ENDPOINT_ADDRESSES, MAX_ENDPOINT_BYTES, parseEndpoint } from '../src/network/endpoints.js';
import { errorCode } from './helpers/errors.js';

const peer = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN';
const at = (port: number) => `/ip4/127.0.0.1/tcp/${port}/p2p/${peer}`;

describe('member endpoints', () => {
  it('keeps dialable /tcp/.../p2p/... addresses and drops the rest', () => {
    const text = [
      at(4101),
      'junk',
      '/ip4/127.0.0.1/tcp/4102',
      '/ip4/1.2.3.4/udp/1/p2p/x',
      `/dns4/node.example/tcp/443/p2p/${peer}`,
      at(4101),
    ].join(' ');
    expect(parseEndpoint(text)).toEqual([
      { address: at(4101), peer },
      { address: `/dns4/node.example/tcp/443/p2p/${peer}`, peer },
    ]);
    expect(parseEndpoint('')).toEqual([]);
    expect(parseEndpoint('/ip4/127.0.0.1/tcp/70000/p2p/' + peer)).toEqual([]);
  });

  it('bounds what one member makes a node dial', () => {
    const many = Array.from({ length: 6 }, (_, i) => at(5000 + i)).join(',');
    expect(parseEndpoint(many)).toHaveLength(MAX_ENDPOINT_ADDRESSES);
    expect(parseEndpoint(`${at(1)} ${'x'.repeat(MAX_ENDPOINT_BYTES)}`)).toEqual([]);
  });

  it('formats what fits and refuses listen addresses that no peer can dial', async () => {
    expect(formatEndpoint([at(1), '/ip4/127.0.0.1/tcp/2', at(3)])).toBe(`${at(1)} ${at(3)}`);
    expect(Buffer.byteLength(formatEndpoint(Array.from({ length: 20 }, (_, i) => at(1000 + i))))).toBeLessThanOrEqual(MAX_ENDPOINT_BYTES);
    expect(await errorCode(() => formatEndpoint(['/ip4/127.0.0.1/tcp/2']))).toBe('INVALID_ARGUMENT');
  });
});
