/**
 * Connectors: the client factory's callbacks and their order, connector
 * state, refused connections, `stopConnecting`, `disconnect` and reconnecting.
 * @module
 */
import { describe } from 'mocha';
import { expect } from 'chai';
import {
  ConnectError,
  ConnectionDone,
  ConnectionRefusedError,
  NotConnectingError,
  TimeoutError,
  UserError,
} from '@torsion/core';
import type { Failure, IConnector } from '@torsion/core';
import { Harness, LOOPBACK, reactorTest } from '../internal/harness.js';
import type { TestSpec } from '../internal/harness.js';
import {
  EchoingProtocol,
  Eventual,
  RecordingClientFactory,
  RecordingFactory,
  RecordingProtocol,
} from '@torsion/core/testing';
import type { SuiteSettings } from '../internal/settings.js';
import { expectLoopback } from './listening.js';

/** Registers the connector tests. */
export function connectingTests(settings: SuiteSettings): void {
  const test = (title: string, body: (h: Harness) => Promise<void> | void, spec: TestSpec = {}) => {
    reactorTest(settings, title, spec, body);
  };

  /** A port that was bound on the reactor under test and released: nothing listens there. */
  const closedPort = async (h: Harness): Promise<number> => {
    const listening = await h.listen(new RecordingFactory(() => new EchoingProtocol()));
    const port = listening.getHost().port;
    await listening.stopListening();
    return port;
  };

  describe('connectTCP', () => {
    test('reports ConnectionRefusedError to clientConnectionFailed when nothing listens, starting and stopping the factory once', async (h) => {
      const port = await closedPort(h);
      const factory = new RecordingClientFactory(() => new RecordingProtocol());
      const connector = h.reactor.connectTCP(LOOPBACK, port, factory);
      expect(connector.state).to.equal('connecting');
      const reason = await factory.failed;
      expect(reason.check(ConnectionRefusedError)).to.equal(ConnectionRefusedError);
      expect(factory.events).to.deep.equal(['startedConnecting', 'clientConnectionFailed']);
      expect(connector.state).to.equal('disconnected');
      expect([factory.starts, factory.stops]).to.deep.equal([1, 1]);
      expect(factory.built).to.have.length(0);
    });

    test('reports its destination and moves from connecting to connected to disconnected', async (h) => {
      const listening = await h.listen(new RecordingFactory(() => new EchoingProtocol()));
      const port = listening.getHost().port;
      const factory = new RecordingClientFactory(() => new RecordingProtocol());
      const connector = h.reactor.connectTCP(LOOPBACK, port, factory);
      expectLoopback(connector.getDestination(), port);
      expect(connector.state).to.equal('connecting');
      const client = await factory.firstBuilt;
      await client.made;
      expect(connector.state).to.equal('connected');
      client.transport.loseConnection();
      const reason = await factory.lost;
      expect(reason.check(ConnectionDone)).to.equal(ConnectionDone);
      expect(connector.state).to.equal('disconnected');
      expect(factory.events).to.deep.equal([
        'startedConnecting',
        'buildProtocol',
        'clientConnectionLost',
      ]);
      expect([factory.starts, factory.stops]).to.deep.equal([1, 1]);
    });

    test('closes the connection and reports ConnectionDone to clientConnectionLost when the client buildProtocol returns null', async (h) => {
      const listening = await h.listen(new RecordingFactory(() => new EchoingProtocol()));
      class Refusing extends RecordingClientFactory {
        override buildProtocol(): null {
          this.events.push('buildProtocol');
          return null;
        }
      }
      const factory = new Refusing(() => new RecordingProtocol());
      h.reactor.connectTCP(LOOPBACK, listening.getHost().port, factory);
      const reason = await factory.lost;
      expect(reason.check(ConnectionDone)).to.equal(ConnectionDone);
      expect(factory.events).to.deep.equal([
        'startedConnecting',
        'buildProtocol',
        'clientConnectionLost',
      ]);
    });

    test('stopConnecting cancels an attempt with a UserError (a ConnectError) and throws NotConnectingError when nothing is in progress', async (h) => {
      const listening = await h.listen(new RecordingFactory(() => new EchoingProtocol()));
      const factory = new RecordingClientFactory(() => new RecordingProtocol());
      const connector = h.reactor.connectTCP(LOOPBACK, listening.getHost().port, factory);
      connector.stopConnecting();
      expect(connector.state).to.equal('disconnected');
      const reason = await factory.failed;
      expect(reason.check(UserError)).to.equal(UserError);
      expect(reason.check(ConnectError)).to.equal(ConnectError);
      expect(reason.check(TimeoutError)).to.equal(null);
      let thrown: unknown;
      try {
        connector.stopConnecting();
      } catch (error) {
        thrown = error;
      }
      expect(thrown).to.be.instanceOf(NotConnectingError);
      expect(thrown).to.have.property('code', 'TORSION_ERR_NOT_CONNECTING');
      await h.wait(0.02);
      expect(factory.built).to.have.length(0);
      expect(factory.events).to.deep.equal(['startedConnecting', 'clientConnectionFailed']);
    });

    test('an attempt cut short by its timeout fails with TimeoutError, a UserError and a ConnectError', async (h) => {
      const listening = await h.listen(new RecordingFactory(() => new EchoingProtocol()));
      const factory = new RecordingClientFactory(() => new RecordingProtocol());
      h.reactor.connectTCP(LOOPBACK, listening.getHost().port, factory, { timeout: 1e-6 });
      await h.until(() => factory.events.length > 1, 'the attempt to end');
      // Over a real loopback the handshake may still beat a microsecond (Bun's
      // always does): then there is no reason to check, and each reactor's own
      // tests time out an attempt on a hand-driven clock instead.
      if (factory.failed.called) {
        const reason = factory.failed.value;
        expect(reason.check(TimeoutError)).to.equal(TimeoutError);
        expect(reason.check(UserError)).to.equal(UserError);
        expect(reason.check(ConnectError)).to.equal(ConnectError);
      } else {
        expect(factory.events).to.deep.equal(['startedConnecting', 'buildProtocol']);
      }
    });

    test('disconnect() closes an established connection cleanly on both ends', async (h) => {
      const { server, client, clientFactory, connector } = await h.pair(
        () => new RecordingProtocol(),
        () => new RecordingProtocol(),
      );
      connector.disconnect();
      expect((await clientFactory.lost).check(ConnectionDone)).to.equal(ConnectionDone);
      expect((await client.lost).check(ConnectionDone)).to.equal(ConnectionDone);
      expect((await server.lost).check(ConnectionDone)).to.equal(ConnectionDone);
      expect(connector.state).to.equal('disconnected');
    });

    test('connect() from clientConnectionLost reconnects, keeping the factory started', async (h) => {
      const listening = await h.listen(new RecordingFactory(() => new EchoingProtocol()));
      const second = new Eventual<RecordingProtocol>();
      class Reconnecting extends RecordingClientFactory {
        rounds = 0;
        override clientConnectionLost(connector: IConnector, reason: Failure): void {
          super.clientConnectionLost(connector, reason);
          if (++this.rounds === 1) connector.connect();
        }

        override buildProtocol(addr: Parameters<RecordingClientFactory['buildProtocol']>[0]) {
          const p = super.buildProtocol(addr);
          if (this.built.length === 2 && p !== null) second.callback(p);
          return p;
        }
      }
      const factory = new Reconnecting(() => new RecordingProtocol());
      const connector = h.reactor.connectTCP(LOOPBACK, listening.getHost().port, factory);
      const first = await factory.firstBuilt;
      await first.made;
      first.transport.loseConnection();
      const again = await second;
      await again.made;
      expect(connector.state).to.equal('connected');
      expect([factory.starts, factory.stops]).to.deep.equal([1, 0]);
      again.transport.write('round two');
      await again.waitForBytes(9);
      expect(again.text()).to.equal('round two');
      again.transport.loseConnection();
      await again.lost;
      await h.until(() => factory.stops === 1, 'stopFactory after the last connection');
      expect(factory.events).to.deep.equal([
        'startedConnecting',
        'buildProtocol',
        'clientConnectionLost',
        'startedConnecting',
        'buildProtocol',
        'clientConnectionLost',
      ]);
    });
  });
}
