// Tests for src/testing/simulated/simulated-reactor.ts, simulated-port.ts and
// simulated-connector.ts: virtual time, lifecycle, listening, connecting and
// the ways an attempt fails.
import { expect } from 'chai';

import { deferLater } from '../../../src/defer-later.js';
import { Deferred } from '../../../src/deferred.js';
import {
  CannotListenError,
  ConnectBindError,
  ConnectError,
  ConnectionDone,
  ConnectionRefusedError,
  DNSLookupError,
  NotConnectingError,
  ReactorNotRestartable,
  TimeoutError,
  UserError,
} from '../../../src/errors.js';
import { Factory } from '../../../src/factory.js';
import type { Failure } from '../../../src/failure.js';
import type { IConnector, IProtocol } from '../../../src/interfaces.js';
import { Protocol } from '../../../src/protocol.js';
import { ReconnectingClientFactory } from '../../../src/reconnecting-client-factory.js';
import { EchoingProtocol } from '../../../src/testing/echoing-protocol.js';
import { Eventual } from '../../../src/testing/eventual.js';
import { RecordingClientFactory } from '../../../src/testing/recording-client-factory.js';
import { RecordingFactory } from '../../../src/testing/recording-factory.js';
import { RecordingProtocol } from '../../../src/testing/recording-protocol.js';
import { SimulatedReactor } from '../../../src/testing/simulated/simulated-reactor.js';

describe('SimulatedReactor', () => {
  describe('virtual time', () => {
    it('starts at 0 and an hour of waiting takes milliseconds when auto-advancing', async () => {
      const reactor = new SimulatedReactor({ seed: 1 });
      expect(reactor.seconds()).to.equal(0);
      const started = performance.now();
      for (let i = 0; i < 60; i++) await deferLater(reactor, 60);
      expect(reactor.seconds()).to.equal(3600);
      expect(performance.now() - started).to.be.lessThan(2000);
    });

    it('runs calls in time order, same-time calls in scheduling order', async () => {
      const reactor = new SimulatedReactor({ seed: 1 });
      const order: string[] = [];
      reactor.callLater(2, () => order.push('b'));
      reactor.callLater(1, () => order.push('a'));
      reactor.callLater(2, () => order.push('c'));
      await deferLater(reactor, 3);
      expect(order).to.deep.equal(['a', 'b', 'c']);
    });

    it('does not run anything synchronously', () => {
      const reactor = new SimulatedReactor({ seed: 1 });
      let ran = false;
      reactor.callLater(0, () => (ran = true));
      expect(ran).to.equal(false);
    });

    it('in manual mode moves only by advance(), pump(), flush() and runUntilIdle()', async () => {
      const reactor = new SimulatedReactor({ autoAdvance: false, seed: 1 });
      const fired: number[] = [];
      reactor.callLater(1, () => fired.push(reactor.seconds()));
      reactor.callLater(5, () => fired.push(reactor.seconds()));
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      expect(fired).to.deep.equal([]);
      reactor.flush();
      expect(fired).to.deep.equal([]);
      reactor.advance(0.5);
      reactor.pump([0.25, 0.25]);
      expect(fired).to.deep.equal([1]);
      reactor.runUntilIdle();
      expect(fired).to.deep.equal([1, 5]);
      expect(reactor.seconds()).to.equal(5);
      expect(() => reactor.advance(-1)).to.throw(RangeError);
    });

    it('runUntilIdle refuses to run forever', () => {
      const reactor = new SimulatedReactor({ autoAdvance: false, seed: 1 });
      const again = (): void => {
        reactor.callLater(1, again);
      };
      again();
      expect(() => reactor.runUntilIdle({ maxRounds: 1000 })).to.throw(/still busy/);
      expect(() => reactor.runUntilIdle({ maxSeconds: 10 })).to.not.throw();
    });

    it('detects a callLater(0) loop in manual mode', () => {
      const reactor = new SimulatedReactor({ autoAdvance: false, seed: 1 });
      const again = (): void => {
        reactor.callLater(0, again);
      };
      again();
      expect(() => reactor.flush()).to.throw(/delay 0/);
    });

    it('fires a protocol timeout in virtual time', async () => {
      class Idle extends RecordingProtocol {
        override connectionMade(): void {
          reactor.callLater(30, () => this.transport.loseConnection());
        }
      }
      const reactor = new SimulatedReactor({ seed: 1 });
      reactor.listenTCP(79, new RecordingFactory(() => new Idle()));
      const client = new RecordingClientFactory(() => new RecordingProtocol());
      reactor.connectTCP('127.0.0.1', 79, client);
      const reason = await client.lost;
      expect(reason.check(ConnectionDone)).to.equal(ConnectionDone);
      expect(reactor.seconds()).to.equal(30);
    });
  });

  describe('lifecycle', () => {
    it('runs and stops, closing what is open, in virtual time', async () => {
      const reactor = new SimulatedReactor({ seed: 1 });
      const order: string[] = [];
      reactor.addSystemEventTrigger('before', 'shutdown', () => order.push('before shutdown'));
      reactor.callWhenRunning(() => order.push('running'));
      const server = new RecordingFactory(() => new RecordingProtocol());
      reactor.listenTCP(8000, server);
      const client = new RecordingClientFactory(() => new RecordingProtocol());
      reactor.connectTCP('127.0.0.1', 8000, client);
      reactor.callLater(10, () => reactor.stop());
      await reactor.run();
      expect(order).to.deep.equal(['running', 'before shutdown']);
      expect(reactor.running).to.equal(false);
      expect(server.built[0]?.lost.value.check(ConnectionDone)).to.equal(ConnectionDone);
      expect(server.numPorts).to.equal(0);
      expect(() => reactor.listenTCP(8001, server)).to.throw(ReactorNotRestartable);
    });

    it('installs no signal handlers by default', async () => {
      const before = process.listenerCount('SIGINT');
      const reactor = new SimulatedReactor({ seed: 1 });
      const running = reactor.run();
      expect(process.listenerCount('SIGINT')).to.equal(before);
      reactor.stop();
      await running;
    });
  });

  describe('listenTCP', () => {
    it('binds 127.0.0.1 by default, allocates port 0 and starts the factory', async () => {
      const reactor = new SimulatedReactor({ seed: 1 });
      const factory = Factory.forProtocol(EchoingProtocol);
      const port = reactor.listenTCP(0, factory);
      expect(port.getHost().port).to.equal(0);
      await port.whenListening();
      expect(port.getHost().host).to.equal('127.0.0.1');
      expect(port.getHost().port).to.be.at.least(49152);
      expect(factory.numPorts).to.equal(1);
      await port.stopListening();
      expect(factory.numPorts).to.equal(0);
    });

    it('fails whenListening with CannotListenError (EADDRINUSE) for a port taken twice', async () => {
      const reactor = new SimulatedReactor({ seed: 1 });
      await reactor.listenTCP(8000, Factory.forProtocol(EchoingProtocol)).whenListening();
      const second = reactor.listenTCP(8000, Factory.forProtocol(EchoingProtocol));
      const failure = await second.whenListening().then(
        () => null,
        (err: unknown) => err,
      );
      expect(failure).to.be.instanceOf(CannotListenError);
      expect((failure as Error).cause).to.have.property('code', 'EADDRINUSE');
    });

    it('refuses an interface that is not the host’s (EADDRNOTAVAIL)', async () => {
      const reactor = new SimulatedReactor({ seed: 1 });
      const port = reactor.listenTCP(8000, Factory.forProtocol(EchoingProtocol), {
        interface: '10.9.9.9',
      });
      const failure = await port.whenListening().then(
        () => null,
        (err: unknown) => err,
      );
      expect((failure as Error).cause).to.have.property('code', 'EADDRNOTAVAIL');
    });

    it('lets the same port be used on two hosts, and again once stopped', async () => {
      const reactor = new SimulatedReactor({ seed: 1 });
      await reactor.listenTCP(8000, Factory.forProtocol(EchoingProtocol)).whenListening();
      const other = reactor.host('other').listenTCP(8000, Factory.forProtocol(EchoingProtocol));
      expect((await other.whenListening()).getHost().toString()).to.equal(
        `${reactor.host('other').address}:8000`,
      );
      await other.stopListening();
      await reactor
        .host('other')
        .listenTCP(8000, Factory.forProtocol(EchoingProtocol))
        .whenListening();
    });

    it('closes a connection at once when buildProtocol returns null', async () => {
      const reactor = new SimulatedReactor({ seed: 1 });
      const refusing = new Factory();
      refusing.buildProtocol = (): IProtocol | null => null;
      reactor.listenTCP(8000, refusing);
      const client = new RecordingClientFactory(() => new RecordingProtocol());
      reactor.connectTCP('127.0.0.1', 8000, client);
      const reason = await client.lost;
      expect(reason.check(ConnectionDone)).to.equal(ConnectionDone);
      expect(client.built[0]?.made.called).to.equal(true);
    });
  });

  describe('connectTCP', () => {
    it('calls startedConnecting, builds with the peer address, and stops the factory when done', async () => {
      const reactor = new SimulatedReactor({ seed: 1 });
      reactor.listenTCP(8000, Factory.forProtocol(EchoingProtocol));
      const client = new RecordingClientFactory(() => new RecordingProtocol());
      const connector = reactor.connectTCP('localhost', 8000, client);
      expect(client.events.filter((e) => e === 'startedConnecting')).to.have.length(1);
      expect(client.numPorts).to.equal(1);
      expect(connector.state).to.equal('connecting');
      await deferLater(reactor, 0.001);
      expect(connector.state).to.equal('connected');
      expect(String(client.addresses[0])).to.equal('127.0.0.1:8000');
      connector.disconnect();
      await client.lost;
      expect(client.numPorts).to.equal(0);
      expect(connector.state).to.equal('disconnected');
    });

    it('reports ConnectionRefusedError one round trip later when nothing listens', async () => {
      const reactor = new SimulatedReactor({ seed: 1, link: { latency: 0.25 } });
      const client = new RecordingClientFactory(() => new RecordingProtocol());
      reactor.connectTCP('127.0.0.1', 8000, client);
      const reason = await client.failed;
      expect(reason.check(ConnectionRefusedError)).to.equal(ConnectionRefusedError);
      expect(reactor.seconds()).to.equal(0.5);
      expect(client.numPorts).to.equal(0);
    });

    it('reports DNSLookupError for a name no host has, and resolves added names', async () => {
      const reactor = new SimulatedReactor({ seed: 1 });
      const unknown = new RecordingClientFactory(() => new RecordingProtocol());
      reactor.connectTCP('nowhere.example', 80, unknown);
      expect((await unknown.failed).check(DNSLookupError)).to.equal(DNSLookupError);
      const server = reactor.network.addHost('www.example', '10.1.2.3');
      server.listenTCP(80, Factory.forProtocol(EchoingProtocol));
      const known = new RecordingClientFactory(() => new RecordingProtocol());
      reactor.connectTCP('WWW.example', 80, known);
      await deferLater(reactor, 0.001);
      expect(known.built[0]?.transport.getPeer().toString()).to.equal('10.1.2.3:80');
    });

    it('times out (TimeoutError, a UserError and a ConnectError) connecting to an address no host has', async () => {
      const reactor = new SimulatedReactor({ seed: 1 });
      const client = new RecordingClientFactory(() => new RecordingProtocol());
      reactor.connectTCP('10.200.0.1', 80, client, { timeout: 7 });
      const reason = await client.failed;
      expect(reason.check(TimeoutError)).to.equal(TimeoutError);
      expect(reason.check(UserError)).to.equal(UserError);
      expect(reason.check(ConnectError)).to.equal(ConnectError);
      expect(reactor.seconds()).to.equal(7);
    });

    it('reports ConnectBindError for a bindAddress the host cannot bind', async () => {
      const reactor = new SimulatedReactor({ seed: 1 });
      reactor.listenTCP(8000, Factory.forProtocol(EchoingProtocol));
      const foreign = new RecordingClientFactory(() => new RecordingProtocol());
      reactor.connectTCP('127.0.0.1', 8000, foreign, { bindAddress: { host: '10.9.9.9' } });
      const notOurs = await foreign.failed;
      expect(notOurs.check(ConnectBindError)).to.equal(ConnectBindError);
      expect(notOurs.check(ConnectError)).to.equal(ConnectError);
      expect(notOurs.value.cause).to.have.property('code', 'EADDRNOTAVAIL');
      const taken = new RecordingClientFactory(() => new RecordingProtocol());
      reactor.connectTCP('127.0.0.1', 8000, taken, {
        bindAddress: { host: '127.0.0.1', port: 8000 },
      });
      const inUse = await taken.failed;
      expect(inUse.check(ConnectBindError)).to.equal(ConnectBindError);
      expect(inUse.value.cause).to.have.property('code', 'EADDRINUSE');
    });

    it('stopConnecting reports a UserError (a ConnectError), and connect() retries', async () => {
      const reactor = new SimulatedReactor({ seed: 1, link: { latency: 1 } });
      reactor.listenTCP(8000, Factory.forProtocol(EchoingProtocol));
      const client = new RecordingClientFactory(() => new RecordingProtocol());
      const connector = reactor.connectTCP('127.0.0.1', 8000, client);
      connector.stopConnecting();
      const reason = await client.failed;
      expect(reason.check(UserError)).to.equal(UserError);
      expect(reason.check(ConnectError)).to.equal(ConnectError);
      expect(reason.check(TimeoutError)).to.equal(null);
      expect(() => connector.stopConnecting()).to.throw(NotConnectingError);
      connector.connect();
      await deferLater(reactor, 2);
      expect(connector.state).to.equal('connected');
    });

    it('a ReconnectingClientFactory gets through once the server comes up', async () => {
      const reactor = new SimulatedReactor({ seed: 1 });
      const connected = new Deferred<number>();
      class Factory2 extends ReconnectingClientFactory {
        override buildProtocol(): IProtocol {
          connected.callback(reactor.seconds());
          return new RecordingProtocol();
        }
        override clientConnectionFailed(connector: IConnector, reason: never): void {
          super.clientConnectionFailed(connector, reason);
        }
      }
      const factory = new Factory2({ clock: reactor, random: reactor.random });
      reactor.connectTCP('127.0.0.1', 8000, factory);
      reactor.callLater(100, () => reactor.listenTCP(8000, Factory.forProtocol(EchoingProtocol)));
      const when = await connected;
      expect(when).to.be.greaterThan(100);
      factory.stopTrying();
    });
  });

  it('connects, echoes and closes 5,000 connections', async function () {
    this.timeout(20_000);
    const reactor = new SimulatedReactor({ seed: 1, link: { latency: 0.001 } });
    reactor.listenTCP(7, Factory.forProtocol(EchoingProtocol));
    let echoed = 0;
    class Once extends Protocol {
      override connectionMade(): void {
        this.transport.write('x');
      }
      override dataReceived(): void {
        echoed++;
        this.transport.loseConnection();
      }
    }
    const batches = 10;
    for (let batch = 0; batch < batches; batch++) {
      const done: Eventual<Failure>[] = [];
      for (let i = 0; i < 500; i++) {
        const client = new RecordingClientFactory(() => new Once());
        reactor.connectTCP('127.0.0.1', 7, client);
        done.push(client.lost);
      }
      for (const d of done) await d;
    }
    await deferLater(reactor, 1);
    expect(echoed).to.equal(5000);
    expect(reactor.network.connections).to.have.length(0);
  });
});
