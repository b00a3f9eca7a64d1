// BunTCPTransport on real loopback sockets: round trips, addresses, data
// buffers, writes, close reasons, IPv6 and many connections at once.
import { expect } from 'chai';
import {
  ConnectionAborted,
  ConnectionDone,
  ConnectionLost,
  IPv4Address,
  IPv6Address,
} from '@torsion/core';
import type { ITCPTransport } from '@torsion/core';
import { BunReactor } from '../src/index.js';
import {
  EchoingProtocol,
  RecordingClientFactory,
  RecordingProtocol,
  serveOnLoopback,
} from '@torsion/core/testing';
import { RawPeer, until } from './support/helpers.js';

function canBindIPv6(): boolean {
  try {
    Bun.listen({ hostname: '::1', port: 0, socket: { data() {} } }).stop(true);
    return true;
  } catch {
    return false;
  }
}

describe('BunTCPTransport (loopback)', () => {
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

  it('echoes a round trip between a BunReactor client and server', async () => {
    const { factory, port } = await serveOnLoopback(reactor, () => new EchoingProtocol());
    const client = new RecordingClientFactory(() => new RecordingProtocol());
    const connector = reactor.connectTCP('127.0.0.1', port, client);
    expect(connector.state).to.equal('connecting');
    await until(() => client.built.length === 1);
    const c = client.built[0]!;
    await c.made;
    expect(connector.state).to.equal('connected');
    c.transport.write('hello, ');
    c.transport.write(new TextEncoder().encode('world'));
    const back = await c.waitForBytes(12);
    expect(back.toString()).to.equal('hello, world');
    const [server] = await factory.waitForBuilt(1);
    expect(server!.received().toString()).to.equal('hello, world');
    expect(client.events).to.deep.equal(['startedConnecting', 'buildProtocol']);
  });

  it('reports host and peer as IPv4Address, valid after the close', async () => {
    const { factory, port } = await serveOnLoopback(reactor, () => new RecordingProtocol());
    const peer = await RawPeer.connect(port);
    const [server] = await factory.waitForBuilt(1);
    const t = server!.transport;
    const host = t.getHost();
    const remote = t.getPeer();
    expect(host).to.be.instanceOf(IPv4Address);
    expect(host).to.include({ type: 'TCP', host: '127.0.0.1', port });
    expect(remote).to.be.instanceOf(IPv4Address);
    expect(remote.port).to.equal(peer.socket.localPort);
    peer.socket.end();
    await server!.lost;
    expect(t.getPeer().port).to.equal(remote.port);
  });

  it('reports as host the address a connection arrived at when the port listens on every interface', async () => {
    const { factory, port } = await serveOnLoopback(reactor, () => new RecordingProtocol(), '');
    const peer = await RawPeer.connect(port, '127.0.0.1');
    const [server] = await factory.waitForBuilt(1);
    const host = server!.transport.getHost();
    // '::ffff:127.0.0.1' where the wildcard is IPv6's, '127.0.0.1' where it is IPv4's.
    expect(host.host).to.match(/^(::ffff:)?127\.0\.0\.1$/);
    expect(host.port).to.equal(port);
    peer.socket.end();
    await server!.lost;
  });

  it('hands dataReceived Buffers the protocol may keep', async () => {
    const { factory, port } = await serveOnLoopback(reactor, () => new RecordingProtocol());
    const peer = await RawPeer.connect(port);
    const [server] = await factory.waitForBuilt(1);
    let expected = '';
    for (let i = 0; i < 40; i++) {
      const piece = String.fromCharCode(65 + (i % 26)).repeat(100);
      expected += piece;
      peer.socket.write(piece);
      await Bun.sleep(1);
    }
    await server!.waitForBytes(4000);
    for (const chunk of server!.chunks) expect(Buffer.isBuffer(chunk)).to.equal(true);
    // Later reads must not have overwritten the chunks kept from earlier ones.
    expect(server!.received().toString()).to.equal(expected);
  });

  it('sends strings as UTF-8 and writeSequence items in order', async () => {
    const { factory, port } = await serveOnLoopback(reactor, () => new RecordingProtocol());
    const peer = await RawPeer.connect(port);
    const [server] = await factory.waitForBuilt(1);
    server!.transport.write('héllo ');
    server!.transport.writeSequence(['wörld', Buffer.from(' and '), new Uint8Array([0x21])]);
    server!.transport.writeSequence([]);
    await peer.waitForBytes(Buffer.byteLength('héllo wörld and !'));
    expect(peer.text()).to.equal('héllo wörld and !');
  });

  it('throws TypeError naming the type for bad write data, and writes nothing for a bad sequence', async () => {
    const { factory, port } = await serveOnLoopback(reactor, () => new RecordingProtocol());
    const peer = await RawPeer.connect(port);
    const [server] = await factory.waitForBuilt(1);
    const t = server!.transport;
    expect(() => t.write(42 as never)).to.throw(TypeError, /number/);
    expect(() => t.writeSequence(['ok', null as never])).to.throw(TypeError, /null/);
    t.write('end');
    await peer.waitForBytes(3);
    expect(peer.text()).to.equal('end');
  });

  it('closes cleanly on loseConnection: data flushed, FIN, ConnectionDone on both sides, exactly once', async () => {
    const { factory, port } = await serveOnLoopback(reactor, () => new RecordingProtocol());
    const client = new RecordingClientFactory(() => new RecordingProtocol());
    reactor.connectTCP('127.0.0.1', port, client);
    const [server] = await factory.waitForBuilt(1);
    await server!.made;
    server!.transport.write('last words');
    server!.transport.loseConnection();
    expect(server!.transport.disconnecting).to.equal(true);
    // Writes in the same turn still go out; after the close they are ignored.
    server!.transport.write('!');
    const reason = await server!.lost;
    expect(reason.check(ConnectionDone)).to.equal(ConnectionDone);
    server!.transport.write('ignored');
    server!.transport.loseConnection();
    server!.transport.abortConnection();
    const clientReason = await client.lost;
    expect(clientReason.check(ConnectionDone)).to.equal(ConnectionDone);
    expect(client.built[0]!.received().toString()).to.equal('last words!');
    expect(server!.lostCount).to.equal(1);
    expect(server!.connected).to.equal(false);
    expect(client.events).to.deep.equal([
      'startedConnecting',
      'buildProtocol',
      'clientConnectionLost',
    ]);
  });

  it('aborts with RST: ConnectionAborted here, ConnectionLost at the peer, never synchronously', async () => {
    const { factory, port } = await serveOnLoopback(reactor, () => new RecordingProtocol());
    const peer = await RawPeer.connect(port);
    const [server] = await factory.waitForBuilt(1);
    server!.transport.write('dropped maybe');
    server!.transport.abortConnection();
    expect(server!.lostCount).to.equal(0);
    const reason = await server!.lost;
    expect(reason.check(ConnectionAborted)).to.equal(ConnectionAborted);
    const peerError = await peer.gotClose;
    expect((peerError as { code?: string } | undefined)?.code).to.equal('ECONNRESET');
    expect(server!.lostCount).to.equal(1);
  });

  it('reports a peer reset as ConnectionLost with the socket error as cause', async () => {
    const { factory, port } = await serveOnLoopback(reactor, () => new RecordingProtocol());
    const peer = await RawPeer.connect(port);
    const [server] = await factory.waitForBuilt(1);
    await server!.made;
    peer.socket.terminate();
    const reason = await server!.lost;
    expect(reason.check(ConnectionLost)).to.equal(ConnectionLost);
    expect(reason.check(ConnectionAborted)).to.equal(null);
    expect(reason.check(ConnectionDone)).to.equal(null);
    expect(reason.value.cause).to.be.instanceOf(Error);
  });

  it("closes cleanly when a protocol that is not half-closeable receives the peer's FIN", async () => {
    const { factory, port } = await serveOnLoopback(reactor, () => new EchoingProtocol());
    const peer = await RawPeer.connect(port);
    const [server] = await factory.waitForBuilt(1);
    peer.socket.write('bye');
    await server!.waitForBytes(3);
    peer.socket.shutdown();
    const reason = await server!.lost;
    expect(reason.check(ConnectionDone)).to.equal(ConnectionDone);
    await peer.gotClose;
    expect(peer.text()).to.equal('bye');
  });

  it('reads back setTcpNoDelay and setTcpKeepAlive; Nagle starts off, as Bun sets it', async () => {
    const { factory, port } = await serveOnLoopback(reactor, () => new RecordingProtocol());
    await RawPeer.connect(port);
    const [server] = await factory.waitForBuilt(1);
    const t: ITCPTransport = server!.transport;
    expect(t.getTcpNoDelay()).to.equal(true);
    expect(t.getTcpKeepAlive()).to.equal(false);
    t.setTcpNoDelay(false);
    expect(t.getTcpNoDelay()).to.equal(false);
    t.setTcpKeepAlive(true, 30);
    expect(t.getTcpKeepAlive()).to.equal(true);
    expect(() => t.setTcpKeepAlive(true, -1)).to.throw(RangeError);
    t.setTcpKeepAlive(false);
    expect(t.getTcpKeepAlive()).to.equal(false);
  });

  it('works over IPv6 loopback (::1)', async function () {
    if (!canBindIPv6()) this.skip();
    const { factory, port } = await serveOnLoopback(reactor, () => new EchoingProtocol(), '::1');
    const client = new RecordingClientFactory(() => new RecordingProtocol());
    const connector = reactor.connectTCP('::1', port, client);
    expect(connector.getDestination()).to.be.instanceOf(IPv6Address);
    await until(() => client.built.length === 1);
    const c = client.built[0]!;
    await c.made;
    c.transport.write('six');
    expect((await c.waitForBytes(3)).toString()).to.equal('six');
    const [server] = await factory.waitForBuilt(1);
    expect(server!.transport.getHost()).to.be.instanceOf(IPv6Address);
    expect(server!.transport.getHost().host).to.equal('::1');
    expect(c.transport.getPeer().toString()).to.equal(`[::1]:${String(port)}`);
  });

  it('serves 250 simultaneous connections, each with its own data', async () => {
    const n = 250;
    const { factory, port } = await serveOnLoopback(reactor, () => new EchoingProtocol());
    const client = new RecordingClientFactory(() => new RecordingProtocol());
    for (let i = 0; i < n; i++) reactor.connectTCP('127.0.0.1', port, client);
    await until(() => client.built.length === n && client.built.every((c) => c.connected));
    await factory.waitForBuilt(n);
    client.built.forEach((c, i) => c.transport.write(`connection ${String(i).padStart(4, '0')}`));
    await Promise.all(client.built.map((c) => c.waitForBytes(15)));
    client.built.forEach((c, i) => {
      expect(c.received().toString()).to.equal(`connection ${String(i).padStart(4, '0')}`);
    });
    for (const c of client.built) c.transport.loseConnection();
    const reasons = await Promise.all(factory.built.map((s) => s.lost.promise));
    expect(reasons.every((r) => r.check(ConnectionDone) === ConnectionDone)).to.equal(true);
  });
});
