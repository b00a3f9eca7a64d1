// Tests for src/testing/simulated/simulated-udp-port.ts and
// simulated-udp-network.ts, and the UDP fields of simulated-link.ts: datagrams
// between virtual hosts in virtual time, seeded loss, duplication, reordering
// and MTU, partitions, ICMP port unreachable, multicast and broadcast.
import { expect } from 'chai';
import fc from 'fast-check';
import { CannotListenError } from '../../../src/errors.js';
import type { INETAddress } from '../../../src/address.js';
import { DatagramProtocol } from '../../../src/datagram-protocol.js';
import { LogCapture } from '../../../src/testing/log-capture.js';
import { RecordingDatagramProtocol } from '../../../src/testing/recording-datagram-protocol.js';
import type { LinkConditions } from '../../../src/testing/simulated/simulated-link.js';
import { SimulatedReactor } from '../../../src/testing/simulated/simulated-reactor.js';

/** Answers each datagram to its sender. */
class Echo extends DatagramProtocol {
  override datagramReceived(data: Buffer, address: INETAddress): void {
    this.transport.write(data, address);
  }
}

/** A server host and a client host on a manual-time reactor, both ports bound. */
function twoHosts(seed: number, link: LinkConditions = {}) {
  const reactor = new SimulatedReactor({ seed, autoAdvance: false, link });
  const server = new RecordingDatagramProtocol();
  const client = new RecordingDatagramProtocol();
  const serverPort = reactor.host('server').listenUDP(5000, server);
  reactor.host('client').listenUDP(0, client);
  reactor.runUntilIdle();
  return { reactor, server, client, serverPort };
}

/** Sends `count` numbered datagrams from the client to the server; returns what arrived, in order. */
function numbered(seed: number, link: LinkConditions, count = 200) {
  const { reactor, server, client } = twoHosts(seed, link);
  for (let i = 0; i < count; i++) {
    client.transport.write(String(i), {
      host: reactor.network.findHost('server')!.address,
      port: 5000,
    });
  }
  reactor.runUntilIdle();
  return { received: server.texts(), stats: reactor.network.datagramStats };
}

describe('SimulatedReactor UDP', () => {
  let logs: LogCapture;
  beforeEach(() => {
    logs = LogCapture.start();
  });
  afterEach(() => {
    logs.stop();
  });

  it('binds on the next turn, at the host address, port 0 from the ephemeral range', () => {
    const reactor = new SimulatedReactor({ autoAdvance: false });
    const protocol = new RecordingDatagramProtocol();
    const port = reactor.listenUDP(0, protocol);
    expect(protocol.started.called).to.equal(false);
    reactor.runUntilIdle();
    expect(protocol.started.called).to.equal(true);
    expect(port.getHost().toString()).to.equal('127.0.0.1:49152');
    expect(port.getHost().type).to.equal('UDP');
  });

  it('carries datagrams between hosts in one latency each way, with the sender address', () => {
    const reactor = new SimulatedReactor({ autoAdvance: false, link: { latency: 0.05 } });
    const server = reactor.host('server');
    server.listenUDP(7, new Echo());
    const client = new RecordingDatagramProtocol();
    const port = reactor.host('client').listenUDP(6000, client);
    reactor.runUntilIdle();
    const start = reactor.seconds();
    client.transport.write('ping', { host: server.address, port: 7 });
    reactor.runUntilIdle();
    expect(client.texts()).to.deep.equal(['ping']);
    expect(client.datagrams[0]?.address.toString()).to.equal(`${server.address}:7`);
    expect(reactor.seconds() - start).to.be.closeTo(0.1, 1e-9);
    expect(port.getHost().host).to.equal(reactor.network.findHost('client')?.address);
  });

  it('the same seed gives the same losses, duplicates and order; another seed differs', () => {
    const link = { loss: 0.2, duplication: 0.1, reorder: 0.2, latency: 0.001 };
    const a = numbered(7, link);
    const b = numbered(7, link);
    const c = numbered(8, link);
    expect(a.received).to.deep.equal(b.received);
    expect(a.stats).to.deep.equal(b.stats);
    expect(c.received).to.not.deep.equal(a.received);
  });

  it('for any seed and conditions: a run repeats exactly, and every datagram is accounted for', () => {
    const probability = fc.double({ min: 0, max: 1, noNaN: true });
    fc.assert(
      fc.property(
        fc.nat(),
        fc.record({
          loss: probability,
          duplication: probability,
          reorder: probability,
          jitter: fc.double({ min: 0, max: 0.01, noNaN: true }),
        }),
        (seed, link) => {
          const first = numbered(seed, link, 50);
          const second = numbered(seed, link, 50);
          expect(second).to.deep.equal(first);
          const { stats, received } = first;
          expect(stats.sent).to.equal(50);
          expect(stats.delivered).to.equal(received.length);
          expect(stats.delivered).to.equal(stats.sent - stats.lost + stats.duplicated);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('loss drops about that share of datagrams, and counts them', () => {
    const { received, stats } = numbered(1, { loss: 0.3 }, 1000);
    expect(stats.sent).to.equal(1000);
    expect(stats.lost).to.be.within(230, 370);
    expect(received).to.have.length(1000 - stats.lost);
    expect(stats.delivered).to.equal(received.length);
  });

  it('duplication delivers some datagrams twice', () => {
    const { received, stats } = numbered(2, { duplication: 0.25 }, 400);
    expect(stats.duplicated).to.be.within(60, 140);
    expect(received).to.have.length(400 + stats.duplicated);
  });

  it('reorder lets later datagrams overtake held-back ones; nothing is lost', () => {
    const { received, stats } = numbered(3, { reorder: 0.3 }, 300);
    expect(received).to.have.length(300);
    expect(stats.reordered).to.be.above(0);
    expect(received).to.not.deep.equal(received.slice().sort((x, y) => Number(x) - Number(y)));
    expect(new Set(received).size).to.equal(300);
  });

  it('jitter alone can reorder datagrams (unlike a TCP stream)', () => {
    const { received } = numbered(4, { jitter: 0.01 }, 100);
    expect(received).to.have.length(100);
    expect(received).to.not.deep.equal([...Array(100).keys()].map(String));
  });

  it('mtu drops a datagram whose packet (payload + 28 bytes) is larger, and counts it', () => {
    const { reactor, server, client } = twoHosts(1, { mtu: 1500 });
    const to = { host: reactor.network.findHost('server')!.address, port: 5000 };
    client.transport.write(Buffer.alloc(1472), to);
    client.transport.write(Buffer.alloc(1473), to);
    reactor.runUntilIdle();
    expect(server.datagrams.map((d) => d.data.length)).to.deep.equal([1472]);
    expect(reactor.network.datagramStats.tooBig).to.equal(1);
  });

  it('link conditions are checked: probabilities 0..1, an MTU of at least 68', () => {
    const reactor = new SimulatedReactor();
    expect(() => {
      reactor.network.setDefaultConditions({ loss: 1.5 });
    }).to.throw(RangeError, /loss must be a probability/);
    expect(() => {
      reactor.network.setDefaultConditions({ reorder: -0.1 });
    }).to.throw(RangeError, /reorder/);
    expect(() => {
      reactor.network.setDefaultConditions({ mtu: 40 });
    }).to.throw(RangeError, /mtu must be an integer >= 68/);
    reactor.network.setDefaultConditions({ mtu: Infinity, duplication: 1 });
  });

  it('a datagram sent across a partition is lost, not held', () => {
    const { reactor, server, client } = twoHosts(1);
    reactor.network.partition('client', 'server');
    const to = { host: reactor.network.findHost('server')!.address, port: 5000 };
    client.transport.write('lost', to);
    reactor.runUntilIdle();
    reactor.network.heal();
    client.transport.write('after', to);
    reactor.runUntilIdle();
    expect(server.texts()).to.deep.equal(['after']);
    expect(reactor.network.datagramStats.lost).to.equal(1);
  });

  it('a closed port draws an ICMP port unreachable: connectionRefused on a connected port only', () => {
    const reactor = new SimulatedReactor({ autoAdvance: false, link: { latency: 0.01 } });
    const connected = new RecordingDatagramProtocol();
    const unconnected = new RecordingDatagramProtocol();
    reactor.listenUDP(0, connected);
    reactor.listenUDP(0, unconnected);
    reactor.runUntilIdle();
    connected.transport.connect('127.0.0.1', 9);
    connected.transport.write('anyone?');
    unconnected.transport.write('anyone?', { host: '127.0.0.1', port: 9 });
    reactor.runUntilIdle();
    expect(connected.events).to.deep.equal(['startProtocol', 'connectionRefused']);
    expect(unconnected.events).to.deep.equal(['startProtocol']);
    expect(reactor.network.datagramStats.unreachable).to.equal(2);
  });

  it('network.refuse() makes a bound port unreachable too', () => {
    const { reactor, server, client } = twoHosts(1);
    reactor.network.refuse('server', 5000);
    client.transport.connect(reactor.network.findHost('server')!.address, 5000);
    client.transport.write('x');
    reactor.runUntilIdle();
    expect(server.datagrams).to.have.length(0);
    expect(client.refused.called).to.equal(true);
  });

  it('multicast reaches every member on the port, and the sender host only with loopback', async () => {
    const reactor = new SimulatedReactor({ autoAdvance: false });
    const group = '239.1.2.3';
    const members = ['a', 'b'].map((name) => {
      const member = new RecordingDatagramProtocol();
      reactor.host(name).listenUDP(4000, member);
      return member;
    });
    const outsider = new RecordingDatagramProtocol();
    reactor.host('c').listenUDP(4000, outsider);
    const local = new RecordingDatagramProtocol();
    reactor.listenUDP(4000, local);
    reactor.runUntilIdle();
    for (const m of [...members, local]) await m.transport.joinGroup(group);
    const sender = new RecordingDatagramProtocol();
    reactor.listenUDP(0, sender);
    reactor.runUntilIdle();
    sender.transport.write('hello group', { host: group, port: 4000 });
    reactor.runUntilIdle();
    expect(members.map((m) => m.texts())).to.deep.equal([['hello group'], ['hello group']]);
    expect(local.texts()).to.deep.equal(['hello group']);
    expect(outsider.datagrams).to.have.length(0);
    sender.transport.setLoopbackMode(false);
    await members[0]!.transport.leaveGroup(group);
    sender.transport.write('again', { host: group, port: 4000 });
    reactor.runUntilIdle();
    expect(members.map((m) => m.texts())).to.deep.equal([
      ['hello group'],
      ['hello group', 'again'],
    ]);
    expect(local.texts()).to.deep.equal(['hello group']);
    let failure: unknown;
    try {
      await members[0]!.transport.leaveGroup(group);
    } catch (err) {
      failure = err;
    }
    expect((failure as { code?: string }).code).to.equal('EADDRNOTAVAIL');
  });

  it('broadcast needs setBroadcastAllowed(true), then reaches that port on every host', () => {
    const reactor = new SimulatedReactor({ autoAdvance: false });
    const listeners = ['a', 'b'].map((name) => {
      const p = new RecordingDatagramProtocol();
      reactor.host(name).listenUDP(4001, p);
      return p;
    });
    const sender = new RecordingDatagramProtocol();
    reactor.listenUDP(0, sender);
    reactor.runUntilIdle();
    sender.transport.write('refused', { host: '255.255.255.255', port: 4001 });
    expect(logs.events.filter((e) => e.level === 'warn').map((e) => e.message)).to.deep.equal([
      'A datagram could not be sent',
    ]);
    sender.transport.setBroadcastAllowed(true);
    sender.transport.write('everyone', { host: '255.255.255.255', port: 4001 });
    reactor.runUntilIdle();
    expect(listeners.map((l) => l.texts())).to.deep.equal([['everyone'], ['everyone']]);
  });

  it('refuses a UDP port in use unless both ask listenMultiple; TCP and UDP numbers are apart', async () => {
    const reactor = new SimulatedReactor();
    reactor.listenTCP(5353, { buildProtocol: () => null, doStart() {}, doStop() {} });
    const first = reactor.listenUDP(5353, new RecordingDatagramProtocol());
    await first.whenListening();
    const second = reactor.listenUDP(5353, new RecordingDatagramProtocol());
    let failure: unknown;
    try {
      await second.whenListening();
    } catch (err) {
      failure = err;
    }
    expect(failure).to.be.instanceOf(CannotListenError);
    expect((failure as Error).message).to.include('EADDRINUSE');
    const shared = [0, 1].map(() =>
      reactor.listenUDP(5454, new RecordingDatagramProtocol(), { listenMultiple: true }),
    );
    for (const p of shared) await p.whenListening();
  });

  it('is IPv4 only: an IPv6 interface fails the bind with EAFNOSUPPORT', async () => {
    const reactor = new SimulatedReactor();
    const port = reactor.listenUDP(0, new RecordingDatagramProtocol(), { interface: '::1' });
    let failure: unknown;
    try {
      await port.whenListening();
    } catch (err) {
      failure = err;
    }
    expect((failure as Error).message).to.include('EAFNOSUPPORT');
  });

  it('stopping the reactor stops every UDP protocol', async () => {
    const reactor = new SimulatedReactor({ installSignalHandlers: false });
    const protocol = new RecordingDatagramProtocol();
    reactor.listenUDP(0, protocol);
    const done = reactor.run();
    await protocol.started;
    reactor.stop();
    await done;
    expect(protocol.events).to.deep.equal(['startProtocol', 'stopProtocol']);
  });

  it('traces UDP events when tracing is on', () => {
    const reactor = new SimulatedReactor({ autoAdvance: false, trace: true });
    const protocol = new RecordingDatagramProtocol();
    reactor.listenUDP(7, new Echo());
    reactor.listenUDP(0, protocol);
    reactor.runUntilIdle();
    protocol.transport.write('x', { host: '127.0.0.1', port: 7 });
    reactor.runUntilIdle();
    const kinds = reactor.network.events.map((e) => e.kind);
    expect(kinds).to.include.members(['udp-listen', 'udp-send', 'udp-deliver']);
  });
});
