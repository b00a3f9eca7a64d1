// Real-socket tests of ProtocolWrapper on the Node reactor: a wrapped
// protocol half-closes and streams through a producer exactly as it would
// unwrapped.
import { connect, type Socket } from 'node:net';
import { expect } from 'chai';
import {
  NodeReactor,
  Protocol,
  type IHalfCloseableProtocol,
  type IPullProducer,
  type IStreamTransport,
} from '@torsion/core';
import { Eventual, RecordingFactory, RecordingProtocol } from '@torsion/core/testing';

import { ProtocolWrapper, WrappingFactory } from '../src/index.js';

/** Collects a request until the peer's FIN, then answers and closes. */
class Collector extends RecordingProtocol implements IHalfCloseableProtocol {
  readConnectionLost(): void {
    this.events.push('readConnectionLost');
    this.transport.write(`got ${String(this.received().length)} bytes`);
    this.transport.loseConnection();
  }

  writeConnectionLost(): void {
    this.events.push('writeConnectionLost');
  }
}

const TOTAL = 4 * 1024 * 1024;
const CHUNK = 64 * 1024;

/** Streams TOTAL bytes through a pull producer, then closes. */
class Streamer extends Protocol<never, IStreamTransport> implements IPullProducer {
  sent = 0;
  pulls = 0;
  override connectionMade(): void {
    this.transport.registerProducer(this, false);
  }
  resumeProducing(): void {
    this.pulls += 1;
    if (this.sent >= TOTAL) return;
    this.transport.write(Buffer.alloc(CHUNK, 0x61));
    this.sent += CHUNK;
    if (this.sent >= TOTAL) {
      this.transport.unregisterProducer();
      this.transport.loseConnection();
    }
  }
  stopProducing(): void {}
  override connectionLost(): void {
    this.lost.callback();
  }
  readonly lost = new Eventual<void>();
}

function rawClient(
  port: number,
): Promise<{ socket: Socket; data: () => Buffer; ended: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    const ended = new Promise<void>((done) => socket.on('end', done));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('error', reject);
    socket.once('connect', () => {
      resolve({ socket, data: () => Buffer.concat(chunks), ended });
    });
  });
}

describe('ProtocolWrapper over real sockets (integration)', () => {
  let reactor: NodeReactor;
  let done: Promise<void>;
  const sockets: Socket[] = [];

  beforeEach(() => {
    reactor = new NodeReactor({ installSignalHandlers: false, shutdownGracePeriod: 1 });
    done = reactor.run();
  });

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    reactor.stop();
    await done;
  });

  async function listen(factory: WrappingFactory): Promise<number> {
    const port = await reactor.listenTCP(0, factory, { interface: '127.0.0.1' }).whenListening();
    return port.getHost().port;
  }

  it("a wrapped half-closeable protocol hears the peer's FIN and still answers", async () => {
    const inner = new RecordingFactory(() => new Collector());
    const port = await listen(new WrappingFactory(inner));
    const client = await rawClient(port);
    sockets.push(client.socket);
    client.socket.end('request body');
    await client.ended;
    expect(client.data().toString()).to.equal('got 12 bytes');
    const server = inner.built[0]!;
    await server.lost;
    expect(server.events).to.deep.equal(['connectionMade', 'readConnectionLost', 'connectionLost']);
  });

  it("a wrapped pull producer is driven by the real transport's flow control", async () => {
    const built: Streamer[] = [];
    const inner = new RecordingFactory(() => {
      const streamer = new Streamer();
      built.push(streamer);
      return streamer;
    });
    const factory = new WrappingFactory(inner);
    const port = await listen(factory);
    const client = await rawClient(port);
    sockets.push(client.socket);
    await client.ended;
    expect(client.data().length).to.equal(TOTAL);
    expect(built[0]!.transport).to.be.instanceOf(ProtocolWrapper);
    expect(built[0]!.pulls).to.equal(TOTAL / CHUNK);
    await built[0]!.lost;
    expect(factory.protocols.size).to.equal(0);
  });
});
