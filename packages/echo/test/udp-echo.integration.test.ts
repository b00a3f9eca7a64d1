// DatagramEcho on a real NodeReactor UDP port, over loopback (IPv4 and IPv6).
import { expect } from 'chai';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { NodeReactor } from '@torsion/core';
import { DatagramEcho } from '../src/udp-echo.js';

async function roundTrip(
  socket: Socket,
  data: Buffer,
  port: number,
  host: string,
): Promise<Buffer> {
  const reply = once(socket, 'message');
  socket.send(data, port, host);
  const [got] = (await reply) as [Buffer];
  return got;
}

describe('DatagramEcho (integration)', () => {
  let reactor: NodeReactor;
  let done: Promise<void>;
  const sockets: Socket[] = [];

  beforeEach(() => {
    reactor = new NodeReactor({ installSignalHandlers: false });
    done = reactor.run();
  });

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.close();
    reactor.stop();
    await done;
  });

  for (const [family, host, type] of [
    ['IPv4', '127.0.0.1', 'udp4'],
    ['IPv6', '::1', 'udp6'],
  ] as const) {
    it(`echoes datagrams of every size up to 65,000 bytes over ${family}`, async () => {
      const port = reactor.listenUDP(0, new DatagramEcho(), {
        interface: host,
        maxPacketSize: 65_535,
      });
      await port.whenListening();
      const client = createSocket(type);
      sockets.push(client);
      client.bind(0, host);
      await once(client, 'listening');
      for (const size of [0, 1, 512, 1472, 9000, 65_000]) {
        const data = Buffer.alloc(size, size % 251);
        expect((await roundTrip(client, data, port.getHost().port, host)).equals(data)).to.equal(
          true,
        );
      }
    });
  }
});
