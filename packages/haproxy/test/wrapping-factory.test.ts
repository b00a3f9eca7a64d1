// Tests of src/wrapping-factory.ts with the test doubles: the wrapped
// protocol connects only after the header, with the client's addresses;
// LOCAL/UNKNOWN keep the connection's own; bad, slow and untrusted
// connections are closed with a log line; the bytes after the header arrive
// intact whatever the chunking.
import {
  ConnectionDone,
  Factory,
  Failure,
  IPv4Address,
  IPv6Address,
  isDrainable,
  Protocol,
  UNIXAddress,
  type IAddress,
  type IProtocol,
} from '@torsion/core';
import { Clock, LogCapture, StringTransport } from '@torsion/core/testing';
import { expect } from 'chai';
import fc from 'fast-check';
import { encodeProxyV1, encodeProxyV2 } from '../src/encoder.js';
import {
  LimitConnectionsByPeer,
  RateLimitConnectionsByPeer,
  type RefusalEvent,
} from '@torsion/policies';
import {
  DEFAULT_TRUSTED_PROXIES,
  HAProxyProtocol,
  HAProxyWrappingFactory,
  type HAProxyWrappingOptions,
} from '../src/wrapping-factory.js';
import { tcpPairArb } from './support.js';

const PROXY = new IPv4Address('TCP', '127.0.0.1', 40000);
const SELF = new IPv4Address('TCP', '127.0.0.1', 8007);
const CLIENT = new IPv4Address('TCP', '203.0.113.7', 51000);
const SERVER = new IPv4Address('TCP', '198.51.100.1', 443);

/** Records what it saw, and when. */
class Witness extends Protocol {
  events: string[] = [];
  peerAtConnect: IAddress | null = null;
  hostAtConnect: IAddress | null = null;
  received = Buffer.alloc(0);
  override connectionMade(): void {
    this.peerAtConnect = this.transport.getPeer();
    this.hostAtConnect = this.transport.getHost();
    this.events.push('connectionMade');
  }
  override dataReceived(data: Buffer): void {
    this.received = Buffer.concat([this.received, data]);
    this.events.push(`data:${data.toString('latin1')}`);
  }
  override connectionLost(reason: Failure): void {
    this.events.push(`connectionLost:${reason.type.name}`);
  }
}

/** A wrapped factory that builds `witness` and records the address it was asked for. */
function recordingFactory(
  witness: IProtocol,
  builtFor: IAddress[],
  refuse?: (a: IAddress) => boolean,
) {
  return {
    buildProtocol(addr: IAddress): IProtocol | null {
      builtFor.push(addr);
      return refuse?.(addr) === true ? null : witness;
    },
    doStart() {},
    doStop() {},
  };
}

function setUp(options: HAProxyWrappingOptions = {}, peer: IAddress = PROXY) {
  const clock = new Clock();
  const witness = new Witness();
  const builtFor: IAddress[] = [];
  const factory = new HAProxyWrappingFactory(recordingFactory(witness, builtFor), {
    reactor: clock,
    ...options,
  });
  const wrapper = factory.buildProtocol(peer);
  if (!(wrapper instanceof HAProxyProtocol)) throw new Error('expected an HAProxyProtocol');
  const transport = new StringTransport<IAddress>({ peerAddress: peer, hostAddress: SELF });
  wrapper.makeConnection(transport);
  return { clock, factory, wrapper, witness, transport, builtFor };
}

describe('HAProxyWrappingFactory', () => {
  let logs: LogCapture;
  beforeEach(() => {
    logs = LogCapture.start();
  });
  afterEach(() => {
    logs.stop();
  });

  it("connects the wrapped protocol only once the header is read, with the client's addresses", () => {
    const { witness, wrapper } = setUp();
    expect(witness.events).to.deep.equal([]);
    wrapper.dataReceived(encodeProxyV1({ source: CLIENT, destination: SERVER }).subarray(0, 10));
    expect(witness.events).to.deep.equal([]);
    wrapper.dataReceived(
      Buffer.concat([
        encodeProxyV1({ source: CLIENT, destination: SERVER }).subarray(10),
        Buffer.from('hello'),
      ]),
    );
    expect(witness.events).to.deep.equal(['connectionMade', 'data:hello']);
    expect(witness.peerAtConnect).to.deep.equal(CLIENT);
    expect(witness.hostAtConnect).to.deep.equal(SERVER);
    wrapper.dataReceived(Buffer.from(' world'));
    expect(witness.received.toString()).to.equal('hello world');
    expect(wrapper.proxyHeader?.version).to.equal(1);
  });

  it('lets a protocol that speaks first greet only a connection whose header was read', () => {
    class Greeter extends Protocol {
      override connectionMade(): void {
        this.transport.write(`hello ${this.transport.getPeer().toString()}\r\n`);
      }
    }
    const factory = new HAProxyWrappingFactory(Factory.forProtocol(Greeter), {
      reactor: new Clock(),
    });
    const wrapper = factory.buildProtocol(PROXY);
    const transport = new StringTransport<IAddress>({ peerAddress: PROXY, hostAddress: SELF });
    wrapper?.makeConnection(transport);
    expect(transport.value().length).to.equal(0);
    wrapper?.dataReceived(encodeProxyV2({ source: CLIENT, destination: SERVER }));
    expect(transport.value().toString()).to.equal('hello 203.0.113.7:51000\r\n');
  });

  it("keeps the connection's own addresses for LOCAL (health checks) and UNKNOWN", () => {
    for (const header of [encodeProxyV2({ command: 'LOCAL' }), encodeProxyV1(null)]) {
      const { witness, wrapper } = setUp();
      wrapper.dataReceived(header);
      expect(witness.peerAtConnect).to.deep.equal(PROXY);
      expect(witness.hostAtConnect).to.deep.equal(SELF);
    }
  });

  it('exposes the whole header, TLVs included, as proxyHeader', () => {
    const { wrapper } = setUp();
    wrapper.dataReceived(
      encodeProxyV2({ source: CLIENT, destination: SERVER, alpn: 'h2', authority: 'example.com' }),
    );
    const header = wrapper.proxyHeader;
    if (header?.version !== 2) throw new Error('expected a v2 header');
    expect(header.authority).to.equal('example.com');
    expect(header.alpn?.toString()).to.equal('h2');
  });

  it('delivers the bytes after the header intact, the header split at every byte, v1 and v2', () => {
    fc.assert(
      fc.property(
        tcpPairArb,
        fc.boolean(),
        fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
        (pair, v2, data) => {
          const whole = Buffer.concat([v2 ? encodeProxyV2(pair) : encodeProxyV1(pair), data]);
          for (let at = 0; at <= whole.length; at++) {
            const { witness, wrapper, transport } = setUp();
            for (const chunk of [whole.subarray(0, at), whole.subarray(at)]) {
              if (chunk.length > 0) wrapper.dataReceived(chunk);
            }
            expect(transport.disconnecting).to.equal(false);
            expect(witness.peerAtConnect).to.deep.equal(pair.source);
            expect(witness.hostAtConnect).to.deep.equal(pair.destination);
            expect(witness.received).to.deep.equal(data);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('closes a connection whose header is malformed, logging why; the wrapped protocol never hears of it', () => {
    const { witness, wrapper, transport } = setUp();
    wrapper.dataReceived(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    expect(transport.disconnecting).to.equal(true);
    expect(logs.messages('warn').join('\n')).to.match(
      /closed a connection from 127\.0\.0\.1:40000: the connection does not start with a PROXY header/,
    );
    wrapper.dataReceived(Buffer.from('more')); // still in flight: dropped
    wrapper.connectionLost(new Failure(new ConnectionDone()));
    expect(witness.events).to.deep.equal([]);
    expect(wrapper.factory.protocols.size).to.equal(0);
  });

  it('closes a v1 header that runs past 107 bytes', () => {
    const { transport, wrapper } = setUp();
    wrapper.dataReceived(Buffer.from(`PROXY UNKNOWN ${'x'.repeat(200)}`));
    expect(transport.disconnecting).to.equal(true);
    expect(logs.messages('warn').join('\n')).to.match(/too long/);
  });

  it('closes a connection that has not finished its header within headerTimeout', () => {
    const { clock, transport, wrapper, witness } = setUp({ headerTimeout: 2 });
    wrapper.dataReceived(Buffer.from('PROXY TCP4 '));
    clock.advance(1.9);
    expect(transport.disconnecting).to.equal(false);
    clock.advance(0.1);
    expect(transport.disconnecting).to.equal(true);
    expect(logs.messages('warn').join('\n')).to.match(
      /no complete PROXY header within 2 s \(11 bytes received\)/,
    );
    expect(witness.events).to.deep.equal([]);
  });

  it('times nothing once the header is read, nor after the connection is lost', () => {
    const read = setUp({ headerTimeout: 1 });
    read.wrapper.dataReceived(encodeProxyV1(null));
    read.clock.advance(10);
    expect(read.transport.disconnecting).to.equal(false);
    const lost = setUp({ headerTimeout: 1 });
    lost.wrapper.connectionLost(new Failure(new ConnectionDone()));
    lost.clock.advance(10);
    expect(lost.transport.disconnecting).to.equal(false);
    expect(lost.clock.getDelayedCalls()).to.have.length(0);
  });

  it("tells the wrapped protocol of the connection's end once it was connected", () => {
    const { witness, wrapper } = setUp();
    wrapper.dataReceived(encodeProxyV1(null));
    wrapper.connectionLost(new Failure(new ConnectionDone()));
    expect(witness.events).to.deep.equal(['connectionMade', 'connectionLost:ConnectionDone']);
  });

  it('refuses a connection from outside trustedProxies with a log line, loopback trusted by default', () => {
    expect(DEFAULT_TRUSTED_PROXIES).to.deep.equal(['127.0.0.0/8', '::1/128']);
    const factory = new HAProxyWrappingFactory(Factory.forProtocol(Witness), {
      reactor: new Clock(),
    });
    expect(factory.buildProtocol(new IPv4Address('TCP', '10.0.0.5', 1))).to.equal(null);
    expect(logs.messages('warn')).to.deep.equal([
      'refused a connection from 10.0.0.5:1: not in trustedProxies (127.0.0.0/8, ::1/128)',
    ]);
    expect(factory.buildProtocol(new IPv6Address('TCP', '::1', 1))).to.be.instanceOf(
      HAProxyProtocol,
    );
    expect(factory.buildProtocol(new IPv6Address('TCP', '::ffff:127.0.0.1', 1))).to.be.instanceOf(
      HAProxyProtocol,
    );
    expect(factory.buildProtocol(new UNIXAddress(null))).to.be.instanceOf(HAProxyProtocol);
  });

  it('trusts the ranges it is given, and nothing else', () => {
    const factory = new HAProxyWrappingFactory(Factory.forProtocol(Witness), {
      reactor: new Clock(),
      trustedProxies: ['10.0.0.0/8', 'fd00::/8'],
    });
    expect(factory.buildProtocol(new IPv4Address('TCP', '10.9.8.7', 1))).to.be.instanceOf(
      HAProxyProtocol,
    );
    expect(factory.buildProtocol(new IPv6Address('TCP', 'fd00::5', 1))).to.be.instanceOf(
      HAProxyProtocol,
    );
    expect(factory.buildProtocol(new IPv4Address('TCP', '127.0.0.1', 1))).to.equal(null);
    const none = new HAProxyWrappingFactory(Factory.forProtocol(Witness), {
      reactor: new Clock(),
      trustedProxies: [],
    });
    expect(none.buildProtocol(PROXY)).to.equal(null);
    expect(logs.messages('warn').at(-1)).to.match(/not in trustedProxies \(none\)/);
  });

  it('refuses bad options with an error naming the option', () => {
    const inner = Factory.forProtocol(Witness);
    expect(() => new HAProxyWrappingFactory(inner, { trustedProxies: ['10.0.0.0/40'] })).to.throw(
      RangeError,
      /trustedProxies\[0\]/,
    );
    expect(
      () => new HAProxyWrappingFactory(inner, { trustedProxies: 'x' as unknown as string[] }),
    ).to.throw(TypeError, /trustedProxies/);
    expect(() => new HAProxyWrappingFactory(inner, { headerTimeout: 0 })).to.throw(
      RangeError,
      /headerTimeout/,
    );
    expect(() => new HAProxyWrappingFactory(inner, { headerTimeout: Infinity })).to.throw(
      RangeError,
      /headerTimeout/,
    );
    expect(() => new HAProxyWrappingFactory(inner, { maxV2Length: 1 })).to.throw(
      RangeError,
      /maxV2Length/,
    );
  });

  it("asks the wrapped factory for a protocol only after the header, for the client's address", () => {
    const { wrapper, builtFor } = setUp();
    wrapper.dataReceived(encodeProxyV2({ source: CLIENT, destination: SERVER }).subarray(0, 20));
    expect(builtFor).to.deep.equal([]);
    expect(wrapper.hasWrappedProtocol).to.equal(false);
    wrapper.dataReceived(encodeProxyV2({ source: CLIENT, destination: SERVER }).subarray(20));
    expect(builtFor).to.deep.equal([CLIENT]);
    const local = setUp();
    local.wrapper.dataReceived(encodeProxyV2({ command: 'LOCAL' }));
    expect(local.builtFor).to.deep.equal([PROXY]);
  });

  it('closes the connection when the wrapped factory refuses the client, which it judges by its own address', () => {
    const clock = new Clock();
    const witness = new Witness();
    const builtFor: IAddress[] = [];
    const factory = new HAProxyWrappingFactory(
      recordingFactory(witness, builtFor, (addr) => addr.toString().startsWith('203.0.113.')),
      { reactor: clock },
    );
    const wrapper = factory.buildProtocol(PROXY);
    if (!(wrapper instanceof HAProxyProtocol)) throw new Error('expected an HAProxyProtocol');
    const transport = new StringTransport<IAddress>({ peerAddress: PROXY, hostAddress: SELF });
    wrapper.makeConnection(transport);
    wrapper.dataReceived(
      Buffer.concat([encodeProxyV1({ source: CLIENT, destination: SERVER }), Buffer.from('x')]),
    );
    expect(builtFor).to.deep.equal([CLIENT]);
    expect(transport.disconnecting).to.equal(true);
    expect(logs.messages('info')).to.include(
      'closed a connection from 203.0.113.7:51000: the factory refused it',
    );
    wrapper.dataReceived(Buffer.from('more'));
    wrapper.connectionLost(new Failure(new ConnectionDone()));
    expect(witness.events).to.deep.equal([]);
    expect(factory.protocols.size).to.equal(0);
    expect(clock.getDelayedCalls()).to.have.length(0);
  });

  it('tells onRefused of each refusal: untrusted proxy, bad header, header timeout', () => {
    const events: RefusalEvent[] = [];
    const onRefused = (event: RefusalEvent) => events.push(event);
    const outsider = new IPv4Address('TCP', '10.0.0.5', 1);
    const factory = new HAProxyWrappingFactory(Factory.forProtocol(Witness), {
      reactor: new Clock(),
      onRefused,
    });
    expect(factory.buildProtocol(outsider)).to.equal(null);
    setUp({ onRefused }).wrapper.dataReceived(Buffer.from('GET / HTTP/1.1\r\n'));
    const slow = setUp({ onRefused, headerTimeout: 1 });
    slow.clock.advance(1);
    const good = setUp({ onRefused });
    good.wrapper.dataReceived(encodeProxyV1(null));
    expect(events).to.deep.equal([
      { policy: 'haproxy', peer: outsider, reason: 'untrusted-proxy' },
      { policy: 'haproxy', peer: PROXY, reason: 'bad-header' },
      { policy: 'haproxy', peer: PROXY, reason: 'header-timeout' },
    ]);
  });

  it('logs an onRefused that throws, with its stack, and refuses all the same', () => {
    const { wrapper, transport } = setUp({
      onRefused: () => {
        throw new Error('metrics are down');
      },
    });
    wrapper.dataReceived(Buffer.from('nonsense\r\n'));
    expect(transport.disconnecting).to.equal(true);
    const failure = logs.events.find((e) => e.message.startsWith('onRefused threw'));
    expect((failure?.fields.failure as Failure).getTraceback()).to.match(
      /metrics are down[\s\S]*at /,
    );
    expect(() => new HAProxyWrappingFactory(new Factory(), { onRefused: 1 as never })).to.throw(
      TypeError,
      /onRefused/,
    );
  });

  it('has no drain hook while the header is pending; afterwards, the wrapped protocol’s, when it has one', () => {
    const deadlines: number[] = [];
    class Draining extends Protocol {
      serverDraining(deadline: number): void {
        deadlines.push(deadline);
      }
    }
    const factory = new HAProxyWrappingFactory(Factory.forProtocol(Draining), {
      reactor: new Clock(),
    });
    const wrapper = factory.buildProtocol(PROXY);
    if (!(wrapper instanceof HAProxyProtocol)) throw new Error('expected an HAProxyProtocol');
    wrapper.makeConnection(
      new StringTransport<IAddress>({ peerAddress: PROXY, hostAddress: SELF }),
    );
    expect(isDrainable(wrapper)).to.equal(false);
    wrapper.dataReceived(encodeProxyV1({ source: CLIENT, destination: SERVER }));
    expect(isDrainable(wrapper)).to.equal(true);
    wrapper.serverDraining?.(7);
    expect(deadlines).to.deep.equal([7]);
    const plain = setUp();
    plain.wrapper.dataReceived(encodeProxyV1({ source: CLIENT, destination: SERVER }));
    expect(isDrainable(plain.wrapper)).to.equal(false);
  });

  it('per-peer limits inside it count the client from the header, not the proxy', () => {
    const limited = new LimitConnectionsByPeer(Factory.forProtocol(Protocol), 1);
    const rated = new RateLimitConnectionsByPeer(limited, {
      ratePerSecond: 1,
      burst: 2,
      clock: new Clock(),
    });
    const factory = new HAProxyWrappingFactory(rated, { reactor: new Clock() });
    const other = new IPv4Address('TCP', '203.0.113.8', 51000);
    const open = (client: IAddress) => {
      const wrapper = factory.buildProtocol(PROXY);
      if (!(wrapper instanceof HAProxyProtocol)) throw new Error('expected an HAProxyProtocol');
      const transport = new StringTransport<IAddress>({ peerAddress: PROXY, hostAddress: SELF });
      wrapper.makeConnection(transport);
      wrapper.dataReceived(encodeProxyV2({ source: client, destination: SERVER }));
      return { wrapper, transport };
    };
    const first = open(CLIENT);
    const second = open(other); // the same proxy, another client: admitted
    expect(first.transport.disconnecting).to.equal(false);
    expect(second.transport.disconnecting).to.equal(false);
    expect([...limited.peerConnections]).to.deep.equal([
      ['203.0.113.7', 1],
      ['203.0.113.8', 1],
    ]);
    const again = open(CLIENT); // this client's second: over its limit of 1
    expect(again.transport.disconnecting).to.equal(true);
    first.wrapper.connectionLost(new Failure(new ConnectionDone()));
    again.wrapper.connectionLost(new Failure(new ConnectionDone()));
    expect([...limited.peerConnections]).to.deep.equal([['203.0.113.8', 1]]);
    // The rate limit judged the client too: CLIENT used its burst of 2, OTHER has one left.
    expect(open(CLIENT).transport.disconnecting).to.equal(true);
    expect(open(other).transport.disconnecting).to.equal(true); // the per-peer limit of 1
    expect(logs.messages('warn')).to.include(
      'Refused a connection: the peer opens connections too fast',
    );
  });

  it('passes the wrapped factory’s shared-read-buffer opt-in on, and keeps a copy of a partial header', () => {
    const optIn = Object.assign(Factory.forProtocol(Witness), { readsIntoSharedBuffer: true });
    expect(new HAProxyWrappingFactory(optIn).readsIntoSharedBuffer).to.equal(true);
    expect(new HAProxyWrappingFactory(Factory.forProtocol(Witness)).readsIntoSharedBuffer).to.equal(
      false,
    );
    const { wrapper, witness } = setUp();
    const header = encodeProxyV2({ source: CLIENT, destination: SERVER });
    const shared = Buffer.alloc(64);
    header.copy(shared, 0, 0, 20);
    wrapper.dataReceived(shared.subarray(0, 20));
    shared.fill(0xee); // the reactor reuses its read buffer for the next read
    const restLength = header.length - 20;
    header.copy(shared, 0, 20);
    shared.write('after', restLength, 'latin1');
    wrapper.dataReceived(shared.subarray(0, restLength + 5));
    expect(witness.peerAtConnect).to.deep.equal(CLIENT);
    expect(witness.received.toString()).to.equal('after');
  });
});
