// BaseUDPPort's shared behaviour, through FakeUDPPort (the in-memory port built
// on it): argument checks, the protocol's lifecycle, address and size checks
// on write, connected UDP, and containment of a protocol's exceptions.
import { expect } from 'chai';
import { addressFor, IPv6Address } from '../../src/address.js';
import { DatagramProtocol } from '../../src/datagram-protocol.js';
import {
  InvalidAddressError,
  MessageLengthError,
  UDPAlreadyConnectedError,
  UDPNotListeningError,
} from '../../src/errors.js';
import type { INETAddress } from '../../src/address.js';
import {
  checkListenUDP,
  DEFAULT_MAX_PACKET_SIZE,
  MAX_UDP_PAYLOAD_IPV4,
  MAX_UDP_PAYLOAD_IPV6,
} from '../../src/reactor-kit/base-udp-port.js';
import { LogCapture, MemoryReactor, RecordingDatagramProtocol } from '../../src/testing/index.js';

describe('BaseUDPPort', () => {
  let logs: LogCapture;
  beforeEach(() => {
    logs = LogCapture.start();
  });
  afterEach(() => {
    logs.stop();
  });

  describe('checkListenUDP', () => {
    const p = new RecordingDatagramProtocol();
    it('fills in the defaults: every IPv4 interface, 8192-byte datagrams', () => {
      expect(checkListenUDP(0, p)).to.deep.equal({
        iface: '0.0.0.0',
        family: 'IPv4',
        maxPacketSize: DEFAULT_MAX_PACKET_SIZE,
        listenMultiple: false,
      });
    });
    it('an IPv6 literal makes an IPv6 port', () => {
      expect(checkListenUDP(0, p, { interface: '::' }).family).to.equal('IPv6');
    });
    it('refuses a host name, a bad port, a bad size and a non-protocol, naming the field', () => {
      expect(() => checkListenUDP(0, p, { interface: 'localhost' })).to.throw(
        InvalidAddressError,
        /localhost: listenUDP\(\) needs an IPv4 or IPv6 address literal/,
      );
      expect(() => checkListenUDP(65_536, p)).to.throw(RangeError, /port/);
      expect(() => checkListenUDP(0, p, { maxPacketSize: 65_536 })).to.throw(
        RangeError,
        /maxPacketSize/,
      );
      expect(() => checkListenUDP(0, null)).to.throw(TypeError, /got null/);
      expect(() => checkListenUDP(0, p, { interface: 1 as never })).to.throw(
        TypeError,
        /interface must be a string/,
      );
    });
  });

  it('starts the protocol once bound and stops it once closed, logging both', async () => {
    const protocol = new RecordingDatagramProtocol();
    const port = new MemoryReactor().listenUDP(5353, protocol, { interface: '127.0.0.1' });
    expect(port.getHost().toString()).to.equal('127.0.0.1:5353');
    expect(port.getHost().type).to.equal('UDP');
    await port.stopListening();
    expect(protocol.events).to.deep.equal(['startProtocol', 'stopProtocol']);
    expect(logs.events.map((e) => e.message)).to.deep.equal([
      'RecordingDatagramProtocol starting on 127.0.0.1:5353',
      'RecordingDatagramProtocol stopped listening on 127.0.0.1:5353',
    ]);
  });

  it('an exception in startProtocol or stopProtocol is logged and the port still works', async () => {
    class Bad extends DatagramProtocol {
      override startProtocol(): void {
        throw new Error('bad start');
      }
      override stopProtocol(): void {
        throw new Error('bad stop');
      }
    }
    const port = new MemoryReactor().listenUDP(0, new Bad());
    port.transport.write('still', { host: '127.0.0.1', port: 9 });
    await port.stopListening();
    expect(logs.events.filter((e) => e.level === 'error').map((e) => e.message)).to.deep.equal([
      'Unhandled error in startProtocol',
      'Unhandled error in stopProtocol',
    ]);
    expect(port.sentTexts()).to.deep.equal(['still']);
  });

  it('an exception in datagramReceived costs only that datagram', () => {
    const seen: string[] = [];
    class Fragile extends DatagramProtocol {
      override datagramReceived(data: Buffer): void {
        seen.push(data.toString());
        if (data.toString() === 'boom') throw new Error('boom');
      }
    }
    const port = new MemoryReactor().listenUDP(0, new Fragile());
    port.deliver('boom');
    port.deliver('next');
    expect(seen).to.deep.equal(['boom', 'next']);
    const errors = logs.events.filter((e) => e.level === 'error');
    expect(errors.map((e) => e.message)).to.deep.equal(['Unhandled error in datagramReceived']);
    expect(errors[0]?.fields.peer).to.match(/^127\.0\.0\.1:\d+$/);
  });

  it('truncates datagrams to maxPacketSize', () => {
    const protocol = new RecordingDatagramProtocol();
    const port = new MemoryReactor().listenUDP(0, protocol, { maxPacketSize: 3 });
    port.deliver('abcdef');
    port.deliver('ab');
    expect(protocol.texts()).to.deep.equal(['abc', 'ab']);
  });

  it('refuses datagrams over the largest UDP payload of the family, with both lengths', () => {
    const v4 = new MemoryReactor().listenUDP(0, new RecordingDatagramProtocol());
    const to = { host: '127.0.0.1', port: 9 };
    v4.transport.write(Buffer.alloc(MAX_UDP_PAYLOAD_IPV4), to);
    expect(() => {
      v4.transport.write(Buffer.alloc(MAX_UDP_PAYLOAD_IPV4 + 1), to);
    }).to.throw(MessageLengthError, /65508 bytes is too long to send, more than the 65507/);
    // A string counts in UTF-8 bytes.
    expect(() => {
      v4.transport.write('é'.repeat(40_000), to);
    }).to.throw(MessageLengthError);
    const v6 = new MemoryReactor().listenUDP(0, new RecordingDatagramProtocol(), {
      interface: '::1',
    });
    v6.transport.write(Buffer.alloc(MAX_UDP_PAYLOAD_IPV6), { host: '::1', port: 9 });
    expect(v6.sent).to.have.length(1);
    expect(v6.sent[0]?.address).to.be.instanceOf(IPv6Address);
  });

  it('write() checks the destination: present, an IP literal, of the port family', () => {
    const t = new MemoryReactor().listenUDP(0, new RecordingDatagramProtocol()).transport;
    expect(() => {
      t.write('x');
    }).to.throw(InvalidAddressError, /needs an address/);
    expect(() => {
      t.write('x', { host: 'example.com', port: 9 });
    }).to.throw(InvalidAddressError, /^example\.com: write\(\) takes an IP address/);
    expect(() => {
      t.write('x', addressFor('UDP', '::1', 9));
    }).to.throw(InvalidAddressError, /IPv4 port cannot send to an IPv6 address/);
    expect(() => {
      t.write('x', { host: 7 as never, port: 9 });
    }).to.throw(TypeError, /host string/);
  });

  it('checks a plain destination object again at each write, even the same object', () => {
    const t = new MemoryReactor().listenUDP(0, new RecordingDatagramProtocol()).transport;
    const to = { host: '127.0.0.1', port: 9 };
    t.write('x', to);
    to.host = 'example.com';
    expect(() => {
      t.write('x', to);
    }).to.throw(InvalidAddressError, /not a host name/);
  });

  it('connected: writes go to the peer, others are not heard, connect twice is refused', () => {
    const protocol = new RecordingDatagramProtocol();
    const port = new MemoryReactor().listenUDP(0, protocol);
    const peer = addressFor('UDP', '192.0.2.1', 7);
    port.transport.connect(peer.host, peer.port);
    expect(port.connectedTo).to.deep.equal(peer);
    port.transport.write('a');
    port.transport.write('b', peer);
    expect(port.sent.map((d) => [d.data.toString(), d.address.toString()])).to.deep.equal([
      ['a', '192.0.2.1:7'],
      ['b', '192.0.2.1:7'],
    ]);
    expect(() => {
      port.transport.write('c', { host: '192.0.2.2', port: 7 });
    }).to.throw(InvalidAddressError, /connected to 192\.0\.2\.1:7/);
    expect(() => {
      port.transport.connect('192.0.2.2', 7);
    }).to.throw(UDPAlreadyConnectedError, /already connected to 192\.0\.2\.1:7/);
    port.deliver('stranger', addressFor('UDP', '192.0.2.9', 7));
    port.deliver('peer', peer);
    expect(protocol.texts()).to.deep.equal(['peer']);
  });

  it('connectionRefused reaches only a connected protocol', () => {
    const protocol = new RecordingDatagramProtocol();
    const port = new MemoryReactor().listenUDP(0, protocol);
    port.refuse();
    expect(protocol.refused.called).to.equal(false);
    port.transport.connect('192.0.2.1', 7);
    port.refuse();
    expect(protocol.refused.called).to.equal(true);
  });

  it('after stopListening, the transport refuses to be used and nothing is delivered', async () => {
    const protocol = new RecordingDatagramProtocol();
    const port = new MemoryReactor().listenUDP(0, protocol);
    await port.stopListening();
    port.deliver('late');
    expect(protocol.datagrams).to.have.length(0);
    const to = { host: '127.0.0.1', port: 9 };
    for (const use of [
      () => {
        port.transport.write('x', to);
      },
      () => {
        port.transport.connect('127.0.0.1', 9);
      },
      () => {
        port.transport.setBroadcastAllowed(true);
      },
      () => port.transport.joinGroup('239.1.1.1'),
      () => {
        port.transport.setTTL(2);
      },
    ]) {
      expect(use).to.throw(UDPNotListeningError);
    }
  });

  it('keeps the socket options it set, and multicast membership through Deferreds', async () => {
    const port = new MemoryReactor().listenUDP(0, new RecordingDatagramProtocol());
    const t = port.transport;
    t.setBroadcastAllowed(true);
    t.setTTL(0);
    t.setLoopbackMode(false);
    expect([t.getBroadcastAllowed(), t.getTTL(), t.getLoopbackMode()]).to.deep.equal([
      true,
      0,
      false,
    ]);
    await t.joinGroup('239.1.2.3');
    expect([...port.groups]).to.deep.equal(['239.1.2.3']);
    await t.leaveGroup('239.1.2.3');
    expect(port.groups.size).to.equal(0);
    await t.setOutgoingInterface('127.0.0.1');
    expect(port.outgoingInterface).to.equal('127.0.0.1');
    let failure: unknown;
    try {
      await t.joinGroup('not a group');
    } catch (err) {
      failure = err;
    }
    expect(failure).to.be.instanceOf(InvalidAddressError);
  });

  it('delivers datagrams with the address they came from', () => {
    const from: INETAddress[] = [];
    class Where extends DatagramProtocol {
      override datagramReceived(_data: Buffer, address: INETAddress): void {
        from.push(address);
      }
    }
    const port = new MemoryReactor().listenUDP(0, new Where(), { interface: '::' });
    port.deliver('x');
    expect(from[0]?.host).to.equal('::1');
    expect(from[0]?.type).to.equal('UDP');
  });
});
