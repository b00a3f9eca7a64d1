// Real sockets: a client that sends a lot and never reads must not make the
// Echo server buffer without bound. The server stops reading from it while its
// output is above the high-water mark; once the client reads, every byte comes
// back intact. Loopback only, bounded in bytes and time.
import { expect } from 'chai';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { NodeReactor } from '@torsion/core';
import type { IAddress, IListeningPort, IProtocol } from '@torsion/core';
import { Echo, EchoFactory } from '../src/echo.js';

const TOTAL = 16 * 1024 * 1024;
const HIGH_WATER_MARK = 64 * 1024;
/** Node reads at most this much per 'data' event; Echo writes it before the pause can act. */
const ONE_READ = 64 * 1024;

/** Echo that records how far its output buffer ever grew. */
class MeasuredEcho extends Echo {
  received = 0;
  maxBuffered = 0;
  override dataReceived(data: Buffer): void {
    this.received += data.length;
    super.dataReceived(data);
    const buffered = (this.transport as unknown as { writeBufferSize: number }).writeBufferSize;
    this.maxBuffered = Math.max(this.maxBuffered, buffered);
  }
}

class MeasuredEchoFactory extends EchoFactory {
  readonly built: MeasuredEcho[] = [];
  override buildProtocol(addr: IAddress): IProtocol {
    void addr;
    const protocol = new MeasuredEcho();
    protocol.factory = this;
    this.built.push(protocol);
    return protocol;
  }
}

/** Resolves once `read()` has not changed for `quietMs`, or after `limitMs`. */
async function settled(read: () => number, quietMs = 300, limitMs = 15_000): Promise<void> {
  let last = read();
  let quietSince = Date.now();
  const start = Date.now();
  while (Date.now() - start < limitMs) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const now = read();
    if (now !== last) {
      last = now;
      quietSince = Date.now();
    } else if (Date.now() - quietSince >= quietMs) {
      return;
    }
  }
}

describe('Echo backpressure over TCP', function () {
  this.timeout(60_000);
  let reactor: NodeReactor;
  let port: IListeningPort | null = null;
  let client: Socket | null = null;

  beforeEach(() => {
    reactor = new NodeReactor({
      installSignalHandlers: false,
      writeHighWaterMark: HIGH_WATER_MARK,
    });
  });

  afterEach(async () => {
    client?.destroy();
    client = null;
    await port?.stopListening();
    port = null;
  });

  it('stops reading from a client that never reads, then echoes all 16 MB intact', async () => {
    const factory = new MeasuredEchoFactory();
    port = await reactor.listenTCP(0, factory, { interface: '127.0.0.1' }).whenListening();
    const socket = connect(port.getHost().port, '127.0.0.1');
    client = socket;
    await once(socket, 'connect');
    socket.pause();
    const sent = Buffer.alloc(TOTAL);
    for (let i = 0; i < TOTAL; i += 4) sent.writeUInt32BE(i, i);
    socket.write(sent);

    await settled(() => factory.built[0]?.received ?? 0);
    const server = factory.built[0];
    expect(server, 'the server accepted the connection').to.not.equal(undefined);
    // The server stopped reading: most of the data still waits on the client side.
    expect(server!.received).to.be.greaterThan(0);
    expect(server!.received, 'bytes the server read before it stopped').to.be.lessThan(TOTAL / 2);
    expect(socket.writableLength).to.be.greaterThan(0);
    // And what it holds is bounded by the mark plus one read, not by what was sent.
    expect(server!.maxBuffered).to.be.at.most(HIGH_WATER_MARK + ONE_READ);

    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.resume();
    socket.end();
    await once(socket, 'close');
    const echoed = Buffer.concat(chunks);
    expect(echoed.length).to.equal(TOTAL);
    expect(echoed.equals(sent)).to.equal(true);
    expect(server!.maxBuffered).to.be.at.most(HIGH_WATER_MARK + ONE_READ);
  });
});
