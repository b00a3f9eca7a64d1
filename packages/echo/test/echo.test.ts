// Echo with the test doubles: every byte comes back whatever the chunking,
// the transport is registered as its own streaming producer, and a half-close
// from the peer flushes and closes.
import { expect } from 'chai';
import { ConnectionDone, Protocol } from '@torsion/core';
import type { Failure } from '@torsion/core';
import {
  StringTransport,
  connectedServerAndClient,
  randomChunker,
  type FakeTransport,
} from '@torsion/core/testing';
import { Echo, EchoFactory } from '../src/echo.js';

class Collector extends Protocol {
  received = Buffer.alloc(0);
  lostReason: Failure | null = null;
  override dataReceived(data: Buffer): void {
    this.received = Buffer.concat([this.received, data]);
  }
  override connectionLost(reason: Failure): void {
    this.lostReason = reason;
  }
}

const ALL_BYTES = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));

describe('Echo', () => {
  it('writes back every byte it receives, fed one byte at a time', () => {
    const transport = new StringTransport();
    const proto = new Echo();
    proto.makeConnection(transport);
    for (const byte of ALL_BYTES) proto.dataReceived(Buffer.of(byte));
    expect(transport.value().equals(ALL_BYTES)).to.equal(true);
  });

  it('writes back chunks of any size in order', () => {
    const transport = new StringTransport();
    const proto = new Echo();
    proto.makeConnection(transport);
    for (const chunk of randomChunker(7, 40)(ALL_BYTES)) proto.dataReceived(chunk);
    expect(transport.value().equals(ALL_BYTES)).to.equal(true);
  });

  it('registers its transport as its own streaming producer on connection', () => {
    const transport = new StringTransport();
    new Echo().makeConnection(transport);
    expect(transport.producer).to.equal(transport);
    expect(transport.streaming).to.equal(true);
  });

  it('unregisters the producer and closes when the peer half-closes', () => {
    const transport = new StringTransport();
    const proto = new Echo();
    proto.makeConnection(transport);
    proto.dataReceived(Buffer.from('last words'));
    proto.readConnectionLost();
    expect(transport.producer).to.equal(null);
    expect(transport.disconnecting).to.equal(true);
    expect(transport.value().toString()).to.equal('last words');
  });

  it('works on a transport that cannot register producers', () => {
    const written: Buffer[] = [];
    const minimal = {
      write: (data: Uint8Array | string) => written.push(Buffer.from(data)),
      writeSequence: () => undefined,
      loseConnection: () => undefined,
      getHost: () => new StringTransport().getHost(),
      getPeer: () => new StringTransport().getPeer(),
      disconnecting: false,
    };
    const proto = new Echo();
    proto.makeConnection(minimal);
    proto.dataReceived(Buffer.from('ok'));
    proto.readConnectionLost();
    expect(Buffer.concat(written).toString()).to.equal('ok');
  });

  it('echoes through an in-memory connection, and the half-close ends it cleanly', () => {
    const { client, clientTransport, pump } = connectedServerAndClient({
      serverFactory: new EchoFactory(),
      clientProtocol: new Collector(),
      chunking: 1,
    });
    client.transport.write(ALL_BYTES);
    clientTransport.loseWriteConnection();
    pump.flush();
    expect(client.received.equals(ALL_BYTES)).to.equal(true);
    expect(client.lostReason?.check(ConnectionDone)).to.equal(ConnectionDone);
  });

  it('pauses the reading side while its output is above the high-water mark', () => {
    // Records the transport's read state right after each echo write.
    class ObservedEcho extends Echo {
      states: string[] = [];
      override dataReceived(data: Buffer): void {
        super.dataReceived(data);
        this.states.push((this.transport as unknown as FakeTransport).producerState);
      }
    }
    const { client, server, serverTransport, pump } = connectedServerAndClient({
      serverProtocol: new ObservedEcho(),
      clientProtocol: new Collector(),
      highWaterMark: 1024,
    });
    client.transport.write(Buffer.alloc(512, 0x61));
    pump.flush();
    client.transport.write(Buffer.alloc(4096, 0x62));
    pump.flush();
    expect(server.states).to.deep.equal(['producing', 'paused']);
    expect(serverTransport.producerState).to.equal('producing');
    expect(client.received.length).to.equal(512 + 4096);
  });

  it('EchoFactory builds Echo protocols', () => {
    const built = new EchoFactory().buildProtocol(new StringTransport().getPeer());
    expect(built).to.be.instanceOf(Echo);
  });
});
