// Tests of src/refusal.ts: every refusing policy tells onRefused once per
// refused connection, with a stable policy and reason; an onRefused that
// throws is logged with its stack and the refusal goes ahead.
import { expect } from 'chai';
import { Factory, IPv4Address, IPv6Address, type Failure } from '@torsion/core';
import { Clock, EchoingProtocol, LogCapture, StringTransport } from '@torsion/core/testing';

import {
  checkOnRefused,
  LimitConnectionsByPeer,
  LimitTotalConnectionsFactory,
  notifyRefused,
  RateLimitConnectionsByPeer,
  type RefusalEvent,
  type WrappingFactory,
} from '../src/index.js';

const peer = (host: string, port = 1000) => new IPv4Address('TCP', host, port);

function open(factory: WrappingFactory, addr: IPv4Address): boolean {
  const protocol = factory.buildProtocol(addr);
  protocol?.makeConnection(new StringTransport({ peerAddress: addr }));
  return protocol !== null;
}

describe('onRefused', () => {
  let logs: LogCapture;
  let events: RefusalEvent[];
  const onRefused = (event: RefusalEvent) => {
    events.push(event);
  };
  beforeEach(() => {
    logs = LogCapture.start();
    events = [];
  });
  afterEach(() => {
    logs.stop();
  });

  it('LimitTotalConnectionsFactory: policy limitTotalConnections, reason connection-limit', () => {
    const factory = new LimitTotalConnectionsFactory(Factory.forProtocol(EchoingProtocol), 1, {
      onRefused,
    });
    expect(open(factory, peer('192.0.2.1'))).to.equal(true);
    expect(open(factory, peer('192.0.2.2'))).to.equal(false);
    expect(events).to.deep.equal([
      { policy: 'limitTotalConnections', peer: peer('192.0.2.2'), reason: 'connection-limit' },
    ]);
  });

  it('LimitConnectionsByPeer: policy limitConnectionsByPeer, reason peer-connection-limit', () => {
    const factory = new LimitConnectionsByPeer(Factory.forProtocol(EchoingProtocol), 1, {
      onRefused,
    });
    expect(open(factory, peer('192.0.2.1', 1))).to.equal(true);
    expect(open(factory, peer('192.0.2.9', 1))).to.equal(true);
    const mapped = new IPv6Address('TCP', '::ffff:192.0.2.1', 2);
    expect(factory.buildProtocol(mapped)).to.equal(null);
    expect(events).to.deep.equal([
      { policy: 'limitConnectionsByPeer', peer: mapped, reason: 'peer-connection-limit' },
    ]);
  });

  it('RateLimitConnectionsByPeer: policy rateLimitConnectionsByPeer, reason peer-rate-limit', () => {
    const clock = new Clock();
    const factory = new RateLimitConnectionsByPeer(Factory.forProtocol(EchoingProtocol), {
      ratePerSecond: 1,
      clock,
      onRefused,
    });
    expect(open(factory, peer('192.0.2.1'))).to.equal(true);
    expect(open(factory, peer('192.0.2.1'))).to.equal(false);
    clock.advance(1);
    expect(open(factory, peer('192.0.2.1'))).to.equal(true);
    expect(events).to.deep.equal([
      { policy: 'rateLimitConnectionsByPeer', peer: peer('192.0.2.1'), reason: 'peer-rate-limit' },
    ]);
  });

  it('is not told of admitted connections, nor of a refusal by the wrapped factory', () => {
    const refusing = { buildProtocol: () => null, doStart() {}, doStop() {} };
    const factory = new LimitTotalConnectionsFactory(refusing, 5, { onRefused });
    expect(factory.buildProtocol(peer('192.0.2.1'))).to.equal(null);
    expect(events).to.deep.equal([]);
  });

  it('an onRefused that throws is logged with its stack; the connection is refused all the same', () => {
    const factory = new LimitTotalConnectionsFactory(Factory.forProtocol(EchoingProtocol), 1, {
      onRefused: () => {
        throw new Error('metrics are down');
      },
    });
    open(factory, peer('192.0.2.1'));
    expect(open(factory, peer('192.0.2.2'))).to.equal(false);
    const event = logs.events.find((e) => e.message.startsWith('onRefused threw'));
    expect(event?.level).to.equal('error');
    expect(event?.fields.policy).to.equal('limitTotalConnections');
    expect((event?.fields.failure as Failure).getTraceback()).to.match(
      /metrics are down[\s\S]*at /,
    );
    expect(open(factory, peer('192.0.2.3'))).to.equal(false); // still refusing, still running
  });

  it('notifyRefused without a hook does nothing; checkOnRefused rejects a non-function by name', () => {
    notifyRefused(undefined, { policy: 'p', peer: peer('192.0.2.1'), reason: 'r' });
    expect(checkOnRefused('X', undefined)).to.equal(undefined);
    expect(() => checkOnRefused('X', 'nope')).to.throw(
      TypeError,
      /X onRefused: expected a function, got string/,
    );
    expect(() => new LimitConnectionsByPeer(new Factory(), 2, { onRefused: 3 as never })).to.throw(
      TypeError,
      /LimitConnectionsByPeer onRefused/,
    );
    expect(
      () =>
        new RateLimitConnectionsByPeer(new Factory(), {
          ratePerSecond: 1,
          clock: new Clock(),
          onRefused: {} as never,
        }),
    ).to.throw(TypeError, /RateLimitConnectionsByPeer onRefused/);
  });
});
