// Tests for src/testing/simulated/simulated-network.ts, simulated-link.ts and
// seeded-random.ts: link conditions in virtual seconds, chunking, seeds,
// partitions, resets and refusals.
import { expect } from 'chai';
import fc from 'fast-check';

import { deferLater } from '../../../src/defer-later.js';
import { Deferred } from '../../../src/deferred.js';
import { ConnectionLost, ConnectionRefusedError, TimeoutError } from '../../../src/errors.js';
import { Factory } from '../../../src/factory.js';
import type { Failure } from '../../../src/failure.js';
import type { IConnector, IProtocol } from '../../../src/interfaces.js';
import { ReconnectingClientFactory } from '../../../src/reconnecting-client-factory.js';
import { EchoingProtocol } from '../../../src/testing/echoing-protocol.js';
import { RecordingClientFactory } from '../../../src/testing/recording-client-factory.js';
import { RecordingFactory } from '../../../src/testing/recording-factory.js';
import { RecordingProtocol } from '../../../src/testing/recording-protocol.js';
import { SeededRandom } from '../../../src/testing/seeded-random.js';
import { SimulatedReactor } from '../../../src/testing/simulated/simulated-reactor.js';
import type { SimulatedReactorOptions } from '../../../src/testing/simulated/simulated-reactor.js';

/** Sends `payload` from a client to a collecting server in manual time; returns both. */
function transfer(options: SimulatedReactorOptions, payload: Buffer) {
  const reactor = new SimulatedReactor({ autoAdvance: false, ...options });
  class Timed extends RecordingProtocol {
    lastDataAt = -1;
    override dataReceived(data: Buffer): void {
      this.lastDataAt = reactor.seconds();
      super.dataReceived(data);
    }
  }
  const server = new RecordingFactory(() => new Timed());
  reactor.listenTCP(9000, server);
  const client = new RecordingClientFactory(() => new RecordingProtocol());
  reactor.connectTCP('127.0.0.1', 9000, client);
  reactor.runUntilIdle();
  const sentAt = reactor.seconds();
  client.built[0]!.transport.write(payload);
  client.built[0]!.transport.loseConnection();
  reactor.runUntilIdle();
  return { reactor, sentAt, received: server.built[0]! };
}

describe('SimulatedNetwork', () => {
  describe('link conditions', () => {
    it('takes one latency each way: connect in one round trip, data in one more latency', async () => {
      const reactor = new SimulatedReactor({ seed: 1, link: { latency: 0.1 } });
      const server = new RecordingFactory(() => new RecordingProtocol());
      reactor.listenTCP(9000, server);
      const arrived = new Deferred<number>();
      const client = new RecordingClientFactory(() => new RecordingProtocol());
      reactor.connectTCP('127.0.0.1', 9000, client);
      await deferLater(reactor, 0.2);
      expect(client.built).to.have.length(1);
      client.built[0]!.transport.write('x');
      server.built[0]!.dataReceived = () => arrived.callback(reactor.seconds());
      expect(await arrived).to.be.closeTo(0.3, 1e-9);
    });

    it('takes size / bandwidth seconds to send, plus the latency', () => {
      const { reactor, sentAt, received } = transfer(
        { seed: 1, link: { latency: 0.05, bandwidth: 10_000 } },
        Buffer.alloc(5000, 1),
      );
      expect(received.text().length).to.equal(5000);
      expect(received.lastDataAt - sentAt).to.be.closeTo(5000 / 10_000 + 0.05, 1e-9);
      expect(reactor.network.events).to.have.length(0); // tracing is off
    });

    it('applies host-pair and per-connection conditions over the defaults', async () => {
      const reactor = new SimulatedReactor({ seed: 1, link: { latency: 1 } });
      const far = reactor.host('far');
      reactor.network.setLinkConditions('localhost', far, { latency: 5 });
      far.listenTCP(80, Factory.forProtocol(EchoingProtocol));
      const client = new RecordingClientFactory(() => new RecordingProtocol());
      reactor.connectTCP('far', 80, client);
      await deferLater(reactor, 10);
      expect(client.built).to.have.length(1);
      const connection = reactor.network.connections[0]!;
      expect(connection.conditions.latency).to.equal(5);
      connection.setConditions({ latency: 0 });
      const start = reactor.seconds();
      client.built[0]!.transport.write('hi');
      while (client.built[0]!.text() !== 'hi') await deferLater(reactor, 0.001);
      expect(reactor.seconds() - start).to.be.lessThan(0.01);
      expect(reactor.network.conditionsBetween('localhost', 'far').latency).to.equal(5);
      expect(() => reactor.network.setDefaultConditions({ latency: -1 })).to.throw(RangeError);
      expect(() => reactor.network.setDefaultConditions({ bandwidth: 0 })).to.throw(RangeError);
      expect(() => reactor.network.setDefaultConditions({ chunking: 1.5 })).to.throw(RangeError);
    });
  });

  describe('chunking', () => {
    it('cuts deliveries at random places, at most the chunk size', () => {
      const { received } = transfer(
        { seed: 7, link: { chunking: 8 } },
        Buffer.from('abcdefghijklmnopqrstuvwxyz'.repeat(10)),
      );
      expect(received.text()).to.equal('abcdefghijklmnopqrstuvwxyz'.repeat(10));
      expect(received.chunks.length).to.be.greaterThan(260 / 8 - 1);
      expect(Math.max(...received.chunks.map((c) => c.length))).to.be.at.most(8);
      expect(new Set(received.chunks.map((c) => c.length)).size).to.be.greaterThan(1);
    });

    it('never loses, duplicates or reorders bytes, whatever the data, seed and conditions', () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: 0, maxLength: 3000 }),
          fc.integer({ min: 0, max: 0xffffffff }),
          fc.integer({ min: 1, max: 64 }),
          fc.constantFrom(0, 0.01, 0.2),
          fc.constantFrom(Infinity, 5000, 100_000),
          (data, seed, chunk, jitter, bandwidth) => {
            const { received } = transfer(
              { seed, link: { chunking: chunk, jitter, bandwidth, latency: 0.01 } },
              Buffer.from(data),
            );
            expect(Buffer.concat(received.chunks).equals(Buffer.from(data))).to.equal(true);
          },
        ),
        { numRuns: 60 },
      );
    });
  });

  describe('seeds', () => {
    function trace(seed: number): string[] {
      const { reactor } = transfer(
        { seed, trace: true, link: { chunking: true, jitter: 0.01, latency: 0.01 } },
        Buffer.alloc(2000, 0x61),
      );
      return reactor.network.formatEvents();
    }

    it('replays the identical event trace for the same seed, and another for another seed', () => {
      const first = trace(1234);
      expect(first.length).to.be.greaterThan(20);
      expect(trace(1234)).to.deep.equal(first);
      expect(trace(4321)).to.not.deep.equal(first);
    });

    it('exposes the seed, and the generator repeats', () => {
      const reactor = new SimulatedReactor({ seed: 99 });
      expect(reactor.seed).to.equal(99);
      const again = new SimulatedReactor({ seed: 99 });
      expect([reactor.random(), reactor.random()]).to.deep.equal([again.random(), again.random()]);
      expect(new SimulatedReactor().seed).to.be.a('number');
      const random = new SeededRandom(5);
      const value = random.integer(1, 6);
      expect(value).to.be.within(1, 6);
      expect(new SeededRandom(5).integer(1, 6)).to.equal(value);
      expect(() => new SeededRandom(Number.NaN)).to.throw(RangeError);
    });
  });

  describe('faults', () => {
    it('refuse() makes attempts fail with ConnectionRefusedError until allow()', async () => {
      const reactor = new SimulatedReactor({ seed: 1 });
      reactor.listenTCP(80, Factory.forProtocol(EchoingProtocol));
      reactor.network.refuse('localhost', 80);
      const refused = new RecordingClientFactory(() => new RecordingProtocol());
      reactor.connectTCP('127.0.0.1', 80, refused);
      expect((await refused.failed).check(ConnectionRefusedError)).to.equal(ConnectionRefusedError);
      reactor.network.allow('localhost', 80);
      const allowed = new RecordingClientFactory(() => new RecordingProtocol());
      reactor.connectTCP('127.0.0.1', 80, allowed);
      await deferLater(reactor, 0.01);
      expect(allowed.built).to.have.length(1);
    });

    it('reset() gives both ends a ConnectionLost', async () => {
      const reactor = new SimulatedReactor({ seed: 1 });
      const server = new RecordingFactory(() => new RecordingProtocol());
      reactor.listenTCP(80, server);
      const client = new RecordingClientFactory(() => new RecordingProtocol());
      reactor.connectTCP('127.0.0.1', 80, client);
      await deferLater(reactor, 0.01);
      expect(reactor.network.connections).to.have.length(1);
      reactor.network.connections[0]!.reset();
      const reason = await server.built[0]!.lost;
      expect(reason.check(ConnectionLost)).to.equal(ConnectionLost);
      expect(client.built[0]!.lost.value.check(ConnectionLost)).to.equal(ConnectionLost);
      expect(reactor.network.connections).to.have.length(0);
    });

    it('a partition holds bytes until heal(), then they arrive in order', async () => {
      const reactor = new SimulatedReactor({ seed: 1, link: { latency: 0.1 } });
      const server = new RecordingFactory(() => new RecordingProtocol());
      reactor.host('server').listenTCP(80, server);
      const client = new RecordingClientFactory(() => new RecordingProtocol());
      reactor.host('client').connectTCP('server', 80, client);
      await deferLater(reactor, 1);
      reactor.network.partition('client', 'server');
      expect(reactor.network.isPartitioned('server', 'client')).to.equal(true);
      for (const piece of ['one ', 'two ', 'three']) client.built[0]!.transport.write(piece);
      await deferLater(reactor, 60);
      expect(server.built[0]!.text()).to.equal('');
      const healedAt = reactor.seconds();
      reactor.network.heal();
      while (server.built[0]!.text().length < 13) await deferLater(reactor, 0.01);
      expect(server.built[0]!.text()).to.equal('one two three');
      expect(reactor.seconds() - healedAt).to.be.closeTo(0.1, 0.011);
      expect(server.built[0]!.connected).to.equal(true);
    });

    it('a partition makes connection attempts time out', async () => {
      const reactor = new SimulatedReactor({ seed: 1 });
      reactor.host('server').listenTCP(80, Factory.forProtocol(EchoingProtocol));
      reactor.host('client');
      reactor.network.partition(['client', reactor.host('other')], 'server');
      const client = new RecordingClientFactory(() => new RecordingProtocol());
      reactor.host('client').connectTCP('server', 80, client, { timeout: 5 });
      expect((await client.failed).check(TimeoutError)).to.equal(TimeoutError);
      expect(reactor.seconds()).to.equal(5);
    });

    it('a ReconnectingClientFactory reconnects through a partition once it heals', async () => {
      const reactor = new SimulatedReactor({ seed: 3, link: { latency: 0.02 } });
      const server = new RecordingFactory(() => new RecordingProtocol());
      reactor.host('server').listenTCP(80, server);
      const failures: Failure[] = [];
      const reconnected = new Deferred<number>();
      let connections = 0;
      class Retrying extends ReconnectingClientFactory {
        override buildProtocol(): IProtocol {
          this.resetDelay();
          connections++;
          if (connections === 2) reconnected.callback(reactor.seconds());
          return new RecordingProtocol();
        }
        override clientConnectionFailed(connector: IConnector, reason: Failure): void {
          failures.push(reason);
          super.clientConnectionFailed(connector, reason);
        }
      }
      const factory = new Retrying({ clock: reactor, random: reactor.random, maxDelay: 30 });
      reactor.host('client').connectTCP('server', 80, factory, { timeout: 5 });
      await deferLater(reactor, 1);
      expect(connections).to.equal(1);
      // The path goes away and takes the connection with it.
      reactor.network.partition('client', 'server');
      reactor.network.resetConnections('client', 'server');
      reactor.callLater(300, () => reactor.network.heal('client', 'server'));
      const when = await reconnected;
      factory.stopTrying();
      expect(when).to.be.greaterThan(300);
      expect(failures.length).to.be.greaterThan(2);
      expect(failures.every((f) => f.check(TimeoutError) === TimeoutError)).to.equal(true);
      expect(server.built).to.have.length(2);
    });

    it('names hosts and rejects mistakes', () => {
      const reactor = new SimulatedReactor({ seed: 1 });
      const a = reactor.network.addHost('a');
      expect(a.address).to.match(/^10\.0\.\d+\.\d+$/);
      expect(reactor.network.addHost('alias', a.address)).to.equal(a);
      expect(reactor.network.findHost('ALIAS')).to.equal(a);
      expect(a.names).to.deep.equal(['a', 'alias']);
      expect(reactor.host('a')).to.equal(a);
      expect(() => reactor.network.addHost('a', '10.9.9.9')).to.throw(/already/);
      expect(() => reactor.network.addHost('1.2.3.4')).to.throw(TypeError);
      expect(() => reactor.network.partition('nobody', 'a')).to.throw(/No simulated host/);
    });
  });
});
