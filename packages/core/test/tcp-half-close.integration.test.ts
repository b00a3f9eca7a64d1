// Real-socket tests of half-close: the peer's FIN reaching a half-closeable
// protocol (readConnectionLost) or a plain one (clean close), and
// loseWriteConnection() sending our FIN while still reading.
import { expect } from 'chai';
import { ConnectionDone } from '../src/errors.js';
import type { IHalfCloseableProtocol } from '../src/interfaces.js';
import { NodeReactor } from '../src/node-reactor.js';
import { EchoingProtocol, RecordingProtocol, serveOnLoopback } from '../src/testing/index.js';
import { rawConnect, type RawClient } from './support/tcp-helpers.js';

/** Collects a request until the peer's FIN, then answers and closes. */
class Collector extends RecordingProtocol implements IHalfCloseableProtocol {
  readConnectionLost(): void {
    this.events.push('readConnectionLost');
    this.transport.write(`got ${this.received().length} bytes`);
    this.transport.loseConnection();
  }

  writeConnectionLost(): void {
    this.events.push('writeConnectionLost');
  }
}

/** Half-closes its side at once and keeps reading. */
class EarlyFin extends RecordingProtocol implements IHalfCloseableProtocol {
  override connectionMade(): void {
    super.connectionMade();
    this.transport.write('bye-ish');
    this.transport.loseWriteConnection();
  }

  readConnectionLost(): void {
    this.events.push('readConnectionLost');
  }

  writeConnectionLost(): void {
    this.events.push('writeConnectionLost');
  }
}

describe('TCPTransport half-close (integration)', () => {
  let reactor: NodeReactor;
  let done: Promise<void>;
  let raws: RawClient[];

  beforeEach(() => {
    reactor = new NodeReactor({ installSignalHandlers: false, shutdownGracePeriod: 1 });
    done = reactor.run();
    raws = [];
  });

  afterEach(async () => {
    for (const raw of raws) raw.socket.destroy();
    reactor.stop();
    await done;
  });

  const serve = <P extends RecordingProtocol>(make: () => P) => serveOnLoopback(reactor, make);

  async function halfOpenClient(port: number): Promise<RawClient> {
    const client = await rawConnect(port, '127.0.0.1', true);
    raws.push(client);
    return client;
  }

  it('calls readConnectionLost on a half-closeable protocol, which can still write', async () => {
    const { factory, port } = await serve(() => new Collector());
    const client = await halfOpenClient(port);
    client.socket.end('request body');
    await client.gotEnd;
    expect(client.received().toString()).to.equal('got 12 bytes');
    const server = factory.built[0]!;
    expect((await server.lost).check(ConnectionDone)).to.equal(ConnectionDone);
    expect(server.events).to.deep.equal(['connectionMade', 'readConnectionLost', 'connectionLost']);
  });

  it('finishes cleanly, flushing its output, when the protocol is not half-closeable', async () => {
    const { factory, port } = await serve(() => new EchoingProtocol());
    const client = await halfOpenClient(port);
    client.socket.end('echo me');
    await client.gotEnd;
    expect(client.received().toString()).to.equal('echo me');
    expect((await factory.built[0]!.lost).check(ConnectionDone)).to.equal(ConnectionDone);
  });

  it('loseWriteConnection sends FIN, keeps reading, and reports writeConnectionLost', async () => {
    const { factory, port } = await serve(() => new EarlyFin());
    const client = await halfOpenClient(port);
    await client.gotEnd;
    expect(client.received().toString()).to.equal('bye-ish');
    const server = factory.built[0]!;
    client.socket.write('still talking');
    await server.waitForBytes(13);
    expect(server.events).to.include('writeConnectionLost');
    expect(server.transport.disconnecting).to.equal(false);
    client.socket.end();
    const reason = await server.lost;
    expect(reason.check(ConnectionDone)).to.equal(ConnectionDone);
    expect(server.events).to.deep.equal([
      'connectionMade',
      'writeConnectionLost',
      'readConnectionLost',
      'connectionLost',
    ]);
  });

  it('ignores writes after loseWriteConnection has sent the FIN', async () => {
    const { factory, port } = await serve(() => new EarlyFin());
    const client = await halfOpenClient(port);
    await client.gotEnd;
    const server = factory.built[0]!;
    server.transport.write('too late');
    client.socket.end();
    await server.lost;
    expect(client.received().toString()).to.equal('bye-ish');
  });
});
