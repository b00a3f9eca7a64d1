// Tests for src/testing/string-transport.ts: the recording transport doubles.
import { expect } from 'chai';

import { IPv4Address, IPv6Address } from '../../src/address.js';
import { ConnectionAborted, ConnectionDone } from '../../src/errors.js';
import type { Failure } from '../../src/failure.js';
import type { IPushProducer, WriteData } from '../../src/interfaces.js';
import { Protocol } from '../../src/protocol.js';
import {
  StringTransport,
  StringTransportWithDisconnection,
} from '../../src/testing/string-transport.js';

/** The example protocol docs/testing.md teaches with. */
class Echo extends Protocol {
  override dataReceived(data: Buffer): void {
    this.transport.write(data);
  }
}

/** Records its lifecycle; closes the connection when it receives "bye". */
class Recorder extends Protocol {
  reasons: Failure[] = [];
  override dataReceived(data: Buffer): void {
    if (data.toString() === 'bye') this.transport.loseConnection();
  }
  override connectionLost(reason: Failure): void {
    this.reasons.push(reason);
    // Closing again from connectionLost must not notify twice.
    this.transport.loseConnection();
  }
}

const noopProducer: IPushProducer = {
  pauseProducing() {},
  resumeProducing() {},
  stopProducing() {},
};

describe('StringTransport', () => {
  it('records what an echo protocol writes back', () => {
    const transport = new StringTransport();
    const proto = new Echo();
    proto.makeConnection(transport);
    proto.dataReceived(Buffer.from('hello'));
    proto.dataReceived(Buffer.from(' world'));
    expect(transport.value().toString()).to.equal('hello world');
  });

  it('encodes strings as UTF-8 and accepts any Uint8Array', () => {
    const transport = new StringTransport();
    transport.write('é');
    transport.write(new Uint8Array([0x21]));
    expect(transport.value()).to.deep.equal(Buffer.from([0xc3, 0xa9, 0x21]));
  });

  it('forgets written bytes on clear()', () => {
    const transport = new StringTransport();
    transport.write('abc');
    transport.clear();
    transport.write('d');
    expect(transport.value().toString()).to.equal('d');
  });

  it('keeps a snapshot: changing the written array later does not change value()', () => {
    const transport = new StringTransport();
    const data = new Uint8Array([1, 2, 3]);
    transport.write(data);
    data[0] = 9;
    expect([...transport.value()]).to.deep.equal([1, 2, 3]);
  });

  it('throws a TypeError naming the type for anything but bytes or a string', () => {
    const transport = new StringTransport();
    expect(() => transport.write(42 as unknown as WriteData)).to.throw(TypeError, /number/);
    expect(() => transport.write(null as unknown as WriteData)).to.throw(TypeError, /null/);
  });

  it('writeSequence writes each item in order', () => {
    const transport = new StringTransport();
    transport.writeSequence(['a', Buffer.from('b'), 'c']);
    expect(transport.value().toString()).to.equal('abc');
  });

  it('writeSequence records nothing when one item is invalid', () => {
    const transport = new StringTransport();
    expect(() => transport.writeSequence(['a', {} as unknown as WriteData])).to.throw(
      TypeError,
      /Object/,
    );
    expect(transport.value().length).to.equal(0);
  });

  it('loseConnection sets disconnecting but does not call connectionLost', () => {
    const transport = new StringTransport();
    const proto = new Recorder();
    proto.makeConnection(transport);
    proto.dataReceived(Buffer.from('bye'));
    expect(transport.disconnecting).to.equal(true);
    expect(transport.aborted).to.equal(false);
    expect(proto.reasons).to.have.length(0);
  });

  it('keeps writes made after loseConnection, as a real transport sends them', () => {
    const transport = new StringTransport();
    transport.loseConnection();
    transport.write('late');
    expect(transport.value().toString()).to.equal('late');
  });

  it('abortConnection sets disconnecting and aborted and drops later writes', () => {
    const transport = new StringTransport();
    transport.abortConnection();
    transport.write('dropped');
    expect(transport.disconnecting).to.equal(true);
    expect(transport.aborted).to.equal(true);
    expect(transport.value().length).to.equal(0);
  });

  it('loseWriteConnection sets writeDisconnected and drops later writes', () => {
    const transport = new StringTransport();
    transport.write('before');
    transport.loseWriteConnection();
    transport.write('after');
    expect(transport.writeDisconnected).to.equal(true);
    expect(transport.disconnecting).to.equal(false);
    expect(transport.value().toString()).to.equal('before');
  });

  it('records a registered producer and whether it streams', () => {
    const transport = new StringTransport();
    transport.registerProducer(noopProducer, true);
    expect(transport.producer).to.equal(noopProducer);
    expect(transport.streaming).to.equal(true);
    transport.unregisterProducer();
    expect(transport.producer).to.equal(null);
    expect(transport.streaming).to.equal(null);
  });

  it('refuses a second producer until the first is unregistered', () => {
    const transport = new StringTransport();
    transport.registerProducer(noopProducer, false);
    expect(() => transport.registerProducer(noopProducer, true)).to.throw(Error, /already/);
    transport.unregisterProducer();
    expect(() => transport.registerProducer(noopProducer, true)).not.to.throw();
  });

  it('tracks its own producer state through pause, resume and stop', () => {
    const transport = new StringTransport();
    expect(transport.producerState).to.equal('producing');
    transport.pauseProducing();
    expect(transport.producerState).to.equal('paused');
    transport.resumeProducing();
    expect(transport.producerState).to.equal('producing');
    transport.stopProducing();
    expect(transport.producerState).to.equal('stopped');
  });

  it('throws when a stopped transport is paused or resumed', () => {
    const transport = new StringTransport();
    transport.stopProducing();
    expect(() => transport.resumeProducing()).to.throw(Error, /stopped/);
    expect(() => transport.pauseProducing()).to.throw(Error, /stopped/);
  });

  it('reports loopback addresses by default', () => {
    const transport = new StringTransport();
    expect(transport.getHost()).to.deep.include({ host: '127.0.0.1', port: 12345, type: 'TCP' });
    expect(transport.getPeer()).to.deep.include({ host: '127.0.0.1', port: 54321, type: 'TCP' });
  });

  it('reports the addresses it was given', () => {
    const host = new IPv6Address('TCP', '::1', 80);
    const peer = new IPv4Address('TCP', '127.0.0.2', 4000);
    const transport = new StringTransport({ hostAddress: host, peerAddress: peer });
    expect(transport.getHost()).to.equal(host);
    expect(transport.getPeer()).to.equal(peer);
  });

  it('remembers TCP_NODELAY and keep-alive settings', () => {
    const transport = new StringTransport();
    expect(transport.getTcpNoDelay()).to.equal(false);
    expect(transport.getTcpKeepAlive()).to.equal(false);
    transport.setTcpNoDelay(true);
    transport.setTcpKeepAlive(true, 30);
    expect(transport.getTcpNoDelay()).to.equal(true);
    expect(transport.getTcpKeepAlive()).to.equal(true);
    expect(transport.tcpKeepAliveInitialDelay).to.equal(30);
    transport.setTcpKeepAlive(false);
    expect(transport.tcpKeepAliveInitialDelay).to.equal(null);
  });

  it('rejects a negative or infinite keep-alive delay, as a real transport does', () => {
    const transport = new StringTransport();
    expect(() => {
      transport.setTcpKeepAlive(true, -1);
    }).to.throw(RangeError, /setTcpKeepAlive/);
    expect(() => {
      transport.setTcpKeepAlive(true, Infinity);
    }).to.throw(RangeError);
    expect(transport.getTcpKeepAlive()).to.equal(false);
  });
});

describe('StringTransportWithDisconnection', () => {
  it('calls connectionLost with ConnectionDone once when the protocol closes', () => {
    const proto = new Recorder();
    const transport = new StringTransportWithDisconnection({ protocol: proto });
    proto.makeConnection(transport);
    proto.dataReceived(Buffer.from('bye'));
    transport.loseConnection();
    expect(proto.reasons).to.have.length(1);
    expect(proto.reasons[0]!.check(ConnectionDone)).to.equal(ConnectionDone);
    expect(transport.connected).to.equal(false);
    expect(transport.disconnecting).to.equal(true);
  });

  it('calls connectionLost with ConnectionAborted on abortConnection', () => {
    const proto = new Recorder();
    const transport = new StringTransportWithDisconnection();
    transport.protocol = proto;
    proto.makeConnection(transport);
    transport.abortConnection();
    expect(proto.reasons).to.have.length(1);
    expect(proto.reasons[0]!.check(ConnectionAborted)).to.equal(ConnectionAborted);
  });

  it('behaves as a plain StringTransport when no protocol is set', () => {
    const transport = new StringTransportWithDisconnection();
    transport.loseConnection();
    expect(transport.disconnecting).to.equal(true);
    expect(transport.connected).to.equal(true);
  });
});
