// Half-close on Bun: the peer's FIN reaches an IHalfCloseableProtocol as
// readConnectionLost (Bun sockets are opened with allowHalfOpen), and
// loseWriteConnection sends our FIN with socket.shutdown() while reading goes on.
import { expect } from 'chai';
import { ConnectionDone } from '@torsion/core';
import type { IHalfCloseableProtocol } from '@torsion/core';
import { BunReactor } from '../src/index.js';
import { RecordingClientFactory, RecordingProtocol, serveOnLoopback } from '@torsion/core/testing';
import { RawPeer, until } from './support/helpers.js';

/** Collects the request until the peer's FIN, then answers in upper case and closes. */
class Upper extends RecordingProtocol implements IHalfCloseableProtocol {
  readConnectionLost(): void {
    this.events.push('readConnectionLost');
    this.transport.write(this.received().toString().toUpperCase());
    this.transport.loseConnection();
  }

  writeConnectionLost(): void {
    this.events.push('writeConnectionLost');
  }
}

/** Sends a request, half-closes, and records the answer. */
class Asker extends RecordingProtocol implements IHalfCloseableProtocol {
  override connectionMade(): void {
    super.connectionMade();
    this.transport.write('make me loud');
    this.transport.loseWriteConnection();
  }

  readConnectionLost(): void {
    this.events.push('readConnectionLost');
  }

  writeConnectionLost(): void {
    this.events.push('writeConnectionLost');
  }
}

describe('half-close on Bun (loopback)', () => {
  let reactor: BunReactor;
  let done: Promise<void>;

  beforeEach(() => {
    reactor = new BunReactor({ installSignalHandlers: false, shutdownGracePeriod: 1 });
    done = reactor.run();
  });

  afterEach(async () => {
    if (reactor.running) reactor.stop();
    await done;
  });

  it("tells a half-closeable protocol about the peer's FIN, and it may still answer", async () => {
    const { factory, port } = await serveOnLoopback(reactor, () => new Upper());
    const peer = await RawPeer.connect(port);
    peer.socket.write('hello there');
    const [server] = await factory.waitForBuilt(1);
    await server!.waitForBytes(11);
    peer.socket.shutdown();
    // A Bun socket that sent its own FIN reports the other FIN as `close`.
    await peer.gotClose;
    expect(peer.text()).to.equal('HELLO THERE');
    const reason = await server!.lost;
    expect(reason.check(ConnectionDone)).to.equal(ConnectionDone);
    expect(server!.events).to.deep.equal([
      'connectionMade',
      'readConnectionLost',
      'connectionLost',
    ]);
  });

  it('sends FIN on loseWriteConnection and keeps reading; both ends close with ConnectionDone', async () => {
    const { factory, port } = await serveOnLoopback(reactor, () => new Upper());
    const client = new RecordingClientFactory(() => new Asker());
    reactor.connectTCP('127.0.0.1', port, client);
    const [server] = await factory.waitForBuilt(1);
    const serverReason = await server!.lost;
    await until(() => client.built.length === 1);
    const asker = client.built[0]!;
    const clientReason = await asker.lost;
    expect(asker.received().toString()).to.equal('MAKE ME LOUD');
    expect(server!.received().toString()).to.equal('make me loud');
    expect(serverReason.check(ConnectionDone)).to.equal(ConnectionDone);
    expect(clientReason.check(ConnectionDone)).to.equal(ConnectionDone);
    expect(asker.events).to.deep.equal([
      'connectionMade',
      'writeConnectionLost',
      'readConnectionLost',
      'connectionLost',
    ]);
  });

  it('keeps a half-closed connection open for reading until the peer finishes', async () => {
    const { factory, port } = await serveOnLoopback(reactor, () => new RecordingProtocol());
    const peer = await RawPeer.connect(port);
    const [server] = await factory.waitForBuilt(1);
    await server!.made;
    server!.transport.write('one way');
    server!.transport.loseWriteConnection();
    await peer.gotEnd;
    expect(peer.text()).to.equal('one way');
    // The write side is closed now: later writes are silently dropped.
    server!.transport.write('too late');
    peer.socket.write('the other way');
    await server!.waitForBytes(13);
    expect(server!.received().toString()).to.equal('the other way');
    expect(server!.lostCount).to.equal(0);
    server!.transport.loseConnection();
    expect((await server!.lost).check(ConnectionDone)).to.equal(ConnectionDone);
    expect(peer.text()).to.equal('one way');
  });
});
