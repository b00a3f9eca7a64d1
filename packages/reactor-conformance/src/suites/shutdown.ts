/**
 * What `stop()` closes: listening ports, connection attempts and
 * connections, cleanly, and after the grace period by force.
 * @module
 */
import { describe } from 'mocha';
import { expect } from 'chai';
import {
  ConnectError,
  ConnectionAborted,
  ConnectionDone,
  ReactorNotRestartable,
  UserError,
} from '@torsion/core';
import { Harness, LOOPBACK, reactorTest } from '../internal/harness.js';
import type { TestSpec } from '../internal/harness.js';
import {
  EchoingProtocol,
  RecordingClientFactory,
  RecordingFactory,
  RecordingProtocol,
} from '@torsion/core/testing';
import type { SuiteSettings } from '../internal/settings.js';

/** Registers the shutdown tests. */
export function shutdownTests(settings: SuiteSettings): void {
  const test = (title: string, body: (h: Harness) => Promise<void> | void, spec: TestSpec = {}) => {
    reactorTest(settings, title, spec, body);
  };

  describe('shutdown', () => {
    test('stop() closes listening ports and open connections cleanly, stopping their factories', async (h) => {
      const { server, client, serverFactory, clientFactory, port } = await h.pair(
        () => new EchoingProtocol(),
        () => new RecordingProtocol(),
      );
      client.transport.write('flushed before the close');
      await client.waitForBytes(24);
      h.reactor.stop();
      await h.done;
      expect((await server.lost).check(ConnectionDone)).to.equal(ConnectionDone);
      expect((await client.lost).check(ConnectionDone)).to.equal(ConnectionDone);
      expect(serverFactory.stops).to.equal(1);
      expect(clientFactory.stops).to.equal(1);
      expect(h.reactor.running).to.equal(false);
      expect(() =>
        h.reactor.connectTCP(
          LOOPBACK,
          port,
          new RecordingClientFactory(() => new RecordingProtocol()),
        ),
      ).to.throw(ReactorNotRestartable);
    });

    test('stop() ends a connection attempt still in progress', async (h) => {
      const listening = await h.listen(new RecordingFactory(() => new EchoingProtocol()));
      const factory = new RecordingClientFactory(() => new RecordingProtocol());
      h.reactor.connectTCP(LOOPBACK, listening.getHost().port, factory);
      h.reactor.stop();
      await h.done;
      // Cancelled while connecting, or connected just in time and then closed.
      if (factory.failed.called) {
        expect(factory.failed.value.check(UserError)).to.equal(UserError);
        expect(factory.failed.value.check(ConnectError)).to.equal(ConnectError);
      } else {
        expect((await factory.lost).check(ConnectionDone)).to.equal(ConnectionDone);
      }
      expect(factory.stops).to.equal(1);
    });

    test(
      'stop() aborts a connection still open after the shutdown grace period',
      async (h) => {
        const { server } = await h.pair(
          () => new RecordingProtocol(),
          () => new RecordingProtocol(),
        );
        // A producer that never unregisters holds loseConnection() open for good.
        server.transport.registerProducer(
          { pauseProducing() {}, resumeProducing() {}, stopProducing() {} },
          true,
        );
        h.reactor.stop();
        await h.done;
        expect((await server.lost).check(ConnectionAborted)).to.equal(ConnectionAborted);
      },
      { needs: ['shutdownGracePeriod'] },
    );
  });
}
