import { expect } from 'chai';
import {
  ConnectionDone,
  Factory,
  Failure,
  IPv4Address,
  IPv6Address,
  UNIXAddress,
  type IAddress,
} from '@torsion/core';
import { Clock, EchoingProtocol, LogCapture, StringTransport } from '@torsion/core/testing';

import {
  LimitConnectionsByPeer,
  LimitTotalConnectionsFactory,
  ProtocolWrapper,
  RateLimitConnectionsByPeer,
  peerKey,
  type WrappingFactory,
} from '../src/index.js';

const v4 = (host: string, port = 1000) => new IPv4Address('TCP', host, port);
const v6 = (host: string, port = 1000) => new IPv6Address('TCP', host, port);

/** Builds and connects a protocol from `peer`, as a port would; null if refused. */
function connect(factory: WrappingFactory, peer: IAddress): ProtocolWrapper | null {
  const built = factory.buildProtocol(peer);
  if (built === null) return null;
  if (!(built instanceof ProtocolWrapper)) throw new Error('not a wrapper');
  built.makeConnection(new StringTransport({ peerAddress: peer as IPv4Address }));
  return built;
}

const done = () => new Failure(new ConnectionDone());

function quietly<T>(fn: () => T): { result: T; logs: LogCapture } {
  const logs = LogCapture.start();
  try {
    return { result: fn(), logs };
  } finally {
    logs.stop();
  }
}

describe('peerKey', () => {
  it('is the IP address without the port; IPv4-mapped IPv6 counts as the IPv4 address', () => {
    expect(peerKey(v4('192.0.2.1', 5))).to.equal('192.0.2.1');
    expect(peerKey(v6('::ffff:192.0.2.1'))).to.equal('192.0.2.1');
    expect(peerKey(v6('::FFFF:192.0.2.1'))).to.equal('192.0.2.1');
    expect(peerKey(v6('2001:db8::1'))).to.equal('2001:db8::1');
    expect(peerKey(new UNIXAddress(null))).to.equal('unix:<unnamed UNIX socket>');
  });
});

describe('LimitTotalConnectionsFactory', () => {
  it('refuses connections over the limit at once, with a log line, and admits again when one ends', () => {
    const factory = new LimitTotalConnectionsFactory(Factory.forProtocol(EchoingProtocol), 2);
    const a = connect(factory, v4('192.0.2.1'));
    connect(factory, v4('192.0.2.2'));
    const { result: refused, logs } = quietly(() => factory.buildProtocol(v4('192.0.2.3')));
    expect(refused).to.equal(null);
    expect(logs.messages('warn')).to.deep.equal([
      'Refused a connection: the connection limit is reached',
    ]);
    expect(factory.connectionCount).to.equal(2);
    a!.connectionLost(done());
    expect(factory.connectionCount).to.equal(1);
    expect(connect(factory, v4('192.0.2.3'))).to.not.equal(null);
  });

  it('rejects a bad limit, naming the field', () => {
    expect(() => new LimitTotalConnectionsFactory(new Factory(), 0)).to.throw(
      RangeError,
      /connectionLimit/,
    );
  });
});

describe('LimitConnectionsByPeer', () => {
  it('counts per peer address, not per port, and IPv4-mapped peers as IPv4', () => {
    const factory = new LimitConnectionsByPeer(Factory.forProtocol(EchoingProtocol), 2);
    const first = connect(factory, v4('192.0.2.1', 1));
    connect(factory, v6('::ffff:192.0.2.1', 2));
    const { result, logs } = quietly(() => factory.buildProtocol(v4('192.0.2.1', 3)));
    expect(result).to.equal(null);
    expect(logs.messages('warn')).to.have.length(1);
    expect(connect(factory, v4('192.0.2.9'))).to.not.equal(null);
    expect(factory.peerConnections.get('192.0.2.1')).to.equal(2);
    first!.connectionLost(done());
    expect(factory.peerConnections.get('192.0.2.1')).to.equal(1);
    expect(connect(factory, v4('192.0.2.1', 4))).to.not.equal(null);
  });

  it('forgets a peer whose connections all ended', () => {
    const factory = new LimitConnectionsByPeer(Factory.forProtocol(EchoingProtocol));
    expect(factory.maxConnectionsPerPeer).to.equal(5);
    connect(factory, v6('2001:db8::1'))!.connectionLost(done());
    expect(factory.peerConnections.size).to.equal(0);
  });
});

describe('RateLimitConnectionsByPeer', () => {
  it('admits a burst, then the refill rate, per peer', () => {
    const clock = new Clock();
    const factory = new RateLimitConnectionsByPeer(Factory.forProtocol(EchoingProtocol), {
      ratePerSecond: 2,
      burst: 3,
      clock,
    });
    const peer = v4('198.51.100.1');
    const admitted = () => quietly(() => factory.buildProtocol(peer)).result !== null;
    expect([admitted(), admitted(), admitted(), admitted()]).to.deep.equal([
      true,
      true,
      true,
      false,
    ]);
    // Another peer has its own bucket.
    expect(factory.buildProtocol(v4('198.51.100.2'))).to.not.equal(null);
    clock.advance(0.5);
    expect([admitted(), admitted()]).to.deep.equal([true, false]);
    // Over 10 s at most 2/s get through.
    let count = 0;
    for (let i = 0; i < 100; i++) {
      clock.advance(0.1);
      if (admitted()) count += 1;
    }
    expect(count).to.be.within(19, 21);
    clock.advance(10);
    expect(factory.trackedPeers).to.equal(0);
  });

  it('rejects bad options, naming the field', () => {
    const clock = new Clock();
    expect(
      () => new RateLimitConnectionsByPeer(new Factory(), { ratePerSecond: 0, clock }),
    ).to.throw(RangeError, /ratePerSecond/);
    expect(
      () => new RateLimitConnectionsByPeer(new Factory(), { ratePerSecond: 1, burst: -1, clock }),
    ).to.throw(RangeError, /burst/);
  });
});
