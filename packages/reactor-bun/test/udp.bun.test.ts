// listenUDP on Bun: binding, datagrams both ways with addresses, IPv6,
// connected UDP (done by the port) with connectionRefused, oversize datagrams,
// an exception in datagramReceived, stopListening, and the capability Bun lacks.
import { expect } from 'chai';
import { addLogObserver, DatagramProtocol, IPv6Address, MessageLengthError } from '@torsion/core';
import type { INETAddress, LogEvent } from '@torsion/core';
import { RecordingDatagramProtocol } from '@torsion/core/testing';
import { DatagramEcho } from '@torsion/echo';
import { BunReactor } from '../src/index.js';

describe('BunReactor.listenUDP (loopback)', () => {
  let reactor: BunReactor;
  let done: Promise<void>;
  let events: LogEvent[];
  let removeObserver: () => void;

  beforeEach(() => {
    reactor = new BunReactor({ installSignalHandlers: false, shutdownGracePeriod: 1 });
    done = reactor.run();
    events = [];
    removeObserver = addLogObserver((e) => events.push(e));
  });

  afterEach(async () => {
    removeObserver();
    if (reactor.running) reactor.stop();
    await done;
  });

  it('binds port 0, starts the protocol, and exchanges datagrams with an echo', async () => {
    const echo = reactor.listenUDP(0, new DatagramEcho(), { interface: '127.0.0.1' });
    await echo.whenListening();
    expect(echo.getHost().port).to.be.above(0);
    expect(echo.getHost().type).to.equal('UDP');
    const client = new RecordingDatagramProtocol();
    const port = reactor.listenUDP(0, client, { interface: '127.0.0.1' });
    await client.started;
    client.transport.write('one', echo.getHost());
    client.transport.write(new Uint8Array([2]), { host: '127.0.0.1', port: echo.getHost().port });
    const got = await client.waitForDatagrams(2);
    expect(got.map((d) => d.data.length)).to.have.members([3, 1]);
    expect(got[0]?.address.port).to.equal(echo.getHost().port);
    await port.stopListening();
    expect(client.events.at(-1)).to.equal('stopProtocol');
  });

  it('IPv6 on ::1', async () => {
    const echo = reactor.listenUDP(0, new DatagramEcho(), { interface: '::1' });
    await echo.whenListening();
    const client = new RecordingDatagramProtocol();
    reactor.listenUDP(0, client, { interface: '::1' });
    await client.started;
    client.transport.write('v6', { host: '::1', port: echo.getHost().port });
    const [got] = await client.waitForDatagrams(1);
    expect(got?.address).to.be.instanceOf(IPv6Address);
  });

  it('connected: only the peer is heard, and a closed peer port reaches connectionRefused', async () => {
    const echo = reactor.listenUDP(0, new DatagramEcho(), { interface: '127.0.0.1' });
    await echo.whenListening();
    const stranger = new RecordingDatagramProtocol();
    reactor.listenUDP(0, stranger, { interface: '127.0.0.1' });
    const client = new RecordingDatagramProtocol();
    const port = reactor.listenUDP(0, client, { interface: '127.0.0.1' });
    await client.started;
    await stranger.started;
    client.transport.connect('127.0.0.1', echo.getHost().port);
    stranger.transport.write('not the peer', port.getHost());
    client.transport.write('to the peer');
    await client.waitForDatagrams(1);
    expect(client.texts()).to.deep.equal(['to the peer']);
    await echo.stopListening();
    const timer = setInterval(() => {
      client.transport.write('anyone?');
    }, 20);
    try {
      await client.refused;
    } finally {
      clearInterval(timer);
    }
  });

  it('an oversize datagram is a MessageLengthError; an exception in datagramReceived costs one datagram', async () => {
    const seen: string[] = [];
    class Fragile extends DatagramProtocol {
      override datagramReceived(data: Buffer, address: INETAddress): void {
        seen.push(data.toString());
        if (data.toString() === 'boom') throw new Error('boom');
        this.transport.write(data, address);
      }
    }
    const fragile = reactor.listenUDP(0, new Fragile(), { interface: '127.0.0.1' });
    await fragile.whenListening();
    const client = new RecordingDatagramProtocol();
    reactor.listenUDP(0, client, { interface: '127.0.0.1' });
    await client.started;
    expect(() => {
      client.transport.write(Buffer.alloc(70_000), fragile.getHost());
    }).to.throw(MessageLengthError);
    client.transport.write('boom', fragile.getHost());
    client.transport.write('fine', fragile.getHost());
    await client.waitForDatagrams(1);
    expect(client.texts()).to.deep.equal(['fine']);
    expect(seen).to.deep.equal(['boom', 'fine']);
    expect(
      events.filter((e) => e.message === 'Unhandled error in datagramReceived'),
    ).to.have.length(1);
  });

  it('refuses listenMultiple, naming the capability', () => {
    expect(() =>
      reactor.listenUDP(0, new RecordingDatagramProtocol(), { listenMultiple: true }),
    ).to.throw(Error, /udpListenMultiple/);
  });

  it('a port in use fails whenListening', async () => {
    const first = reactor.listenUDP(0, new RecordingDatagramProtocol(), { interface: '127.0.0.1' });
    await first.whenListening();
    const second = reactor.listenUDP(first.getHost().port, new RecordingDatagramProtocol(), {
      interface: '127.0.0.1',
    });
    let failure: unknown;
    try {
      await second.whenListening();
    } catch (err) {
      failure = err;
    }
    expect((failure as { code?: string }).code).to.equal('TORSION_ERR_CANNOT_LISTEN');
  });
});
