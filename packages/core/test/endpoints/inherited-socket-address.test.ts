// Tests for src/internal/inherited-socket-address.ts: the address of a listening socket found from
// its descriptor through /proc (Linux), for TCP over IPv4 and IPv6 and a UNIX socket.
import { expect } from 'chai';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatIPv6, inheritedSocketAddress } from '../../src/internal/inherited-socket-address.js';

/** The descriptor of a listening net.Server (Node keeps it on its handle). */
function fdOf(server: Server): number {
  return (server as unknown as { _handle: { fd: number } })._handle.fd;
}

describe('inheritedSocketAddress', () => {
  let dir = '';
  const servers: Server[] = [];
  before(function () {
    if (!existsSync('/proc/net/tcp')) this.skip(); // not Linux: the lookup answers null
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'torsion-inherited-'));
  });
  afterEach(() => {
    for (const server of servers.splice(0)) server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function listening(options: {
    host?: string;
    port?: number;
    path?: string;
  }): Promise<Server> {
    const server = createServer();
    servers.push(server);
    server.listen(options);
    await once(server, 'listening');
    return server;
  }

  it('finds the IPv4 address and port of a listening TCP socket', async () => {
    const server = await listening({ host: '127.0.0.1', port: 0 });
    const { port } = server.address() as AddressInfo;
    expect(inheritedSocketAddress(fdOf(server), 'INET')).to.deep.include({
      host: '127.0.0.1',
      port,
    });
  });

  it('finds the IPv6 address of a listening TCP socket', async function () {
    let server: Server;
    try {
      server = await listening({ host: '::1', port: 0 });
    } catch {
      this.skip(); // no IPv6 loopback here
    }
    const { port } = server.address() as AddressInfo;
    expect(inheritedSocketAddress(fdOf(server), 'INET6')).to.deep.include({ host: '::1', port });
  });

  it('finds the path of a listening UNIX socket', async () => {
    const path = join(dir, 's.sock');
    const server = await listening({ path });
    expect(inheritedSocketAddress(fdOf(server), 'UNIX')).to.deep.include({ name: path });
  });

  it('answers null for a descriptor that is not a socket', () => {
    expect(inheritedSocketAddress(0, 'INET')).to.satisfy(
      (a: unknown) => a === null || typeof a === 'object',
    );
    expect(inheritedSocketAddress(987654, 'INET')).to.equal(null);
  });
});

describe('formatIPv6', () => {
  it('writes RFC 5952 text: lower case, the longest zero run as ::, a lone zero group kept', () => {
    const bytes = (hex: string): number[] => hex.match(/../g)!.map((b) => Number.parseInt(b, 16));
    expect(formatIPv6(bytes('00000000000000000000000000000001'))).to.equal('::1');
    expect(formatIPv6(bytes('00000000000000000000000000000000'))).to.equal('::');
    expect(formatIPv6(bytes('20010db8000000000001000000000001'))).to.equal('2001:db8::1:0:0:1');
    expect(formatIPv6(bytes('20010db8000100000001000100010001'))).to.equal('2001:db8:1:0:1:1:1:1');
  });
});
