/**
 * Fault isolation: an exception thrown by protocol code is logged with its
 * stack and costs that one connection, never the reactor or its neighbours.
 * @module
 */
import { describe } from 'mocha';
import { expect } from 'chai';
import { ConnectionClosed, ConnectionLost } from '@torsion/core';
import type { Failure, LogEvent } from '@torsion/core';
import { Harness, LOOPBACK, reactorTest } from '../internal/harness.js';
import type { TestSpec } from '../internal/harness.js';
import {
  EchoingProtocol,
  RecordingClientFactory,
  RecordingFactory,
  RecordingProtocol,
} from '@torsion/core/testing';
import type { SuiteSettings } from '../internal/settings.js';

/** The failure an event carries, if any. */
function failureOf(event: LogEvent): Failure | null {
  const failure = event.fields.failure;
  return typeof failure === 'object' && failure !== null && 'getTraceback' in failure
    ? (failure as Failure)
    : null;
}

/** Checks that exactly one error was logged, for `error`, with its stack. */
export function expectLoggedOnce(h: Harness, error: Error): void {
  const errors = h.errors();
  expect(
    errors.map((e) => e.message),
    'error events',
  ).to.have.length(1);
  const failure = errors[0] === undefined ? null : failureOf(errors[0]);
  expect(failure?.value, 'the logged failure').to.equal(error);
  expect(failure?.getTraceback()).to.match(new RegExp(`${error.message}[\\s\\S]*\\bat\\b`));
}

/** Throws from `connectionMade`. */
class BadStart extends RecordingProtocol {
  readonly #error: Error;
  constructor(error: Error) {
    super();
    this.#error = error;
  }

  override connectionMade(): void {
    super.connectionMade();
    throw this.#error;
  }
}

/** Registers a pull producer that throws when asked for data. */
class BadPull extends RecordingProtocol {
  readonly #error: Error;
  constructor(error: Error) {
    super();
    this.#error = error;
  }

  override connectionMade(): void {
    super.connectionMade();
    const error = this.#error;
    this.transport.registerProducer(
      {
        resumeProducing() {
          throw error;
        },
        stopProducing() {},
      },
      false,
    );
  }
}

/**
 * Connects to `port` and waits until that connection is over. A server that
 * aborts at once may reset the attempt before the client saw it succeed, so
 * either clientConnectionFailed or clientConnectionLost ends it.
 */
async function connectionEnds(h: Harness, port: number): Promise<void> {
  const factory = new RecordingClientFactory(() => new RecordingProtocol());
  h.reactor.connectTCP(LOOPBACK, port, factory);
  await Promise.race([factory.lost, factory.failed]);
}

/** Registers the fault-isolation tests. */
export function faultIsolationTests(settings: SuiteSettings): void {
  const test = (title: string, body: (h: Harness) => Promise<void> | void, spec: TestSpec = {}) => {
    reactorTest(settings, title, { logsErrors: true, ...spec }, body);
  };

  /** Connects another client to `port` and checks it gets an echo. */
  const bystanderEchoes = async (h: Harness, port: number): Promise<void> => {
    const factory = new RecordingClientFactory(() => new RecordingProtocol());
    h.reactor.connectTCP(LOOPBACK, port, factory);
    const bystander = await factory.firstBuilt;
    await bystander.made;
    bystander.transport.write('still here');
    await bystander.waitForBytes(10);
    expect(bystander.text()).to.equal('still here');
  };

  describe('fault isolation', () => {
    test('an exception in dataReceived loses that connection with ConnectionLost (cause: the error) while another connection keeps working', async (h) => {
      const thrown = new RangeError('kaboom');
      class Fragile extends EchoingProtocol {
        override dataReceived(data: Buffer): void {
          if (data.toString().includes('boom')) throw thrown;
          super.dataReceived(data);
        }
      }
      const { server, client, port, serverFactory } = await h.pair(
        () => new Fragile(),
        () => new RecordingProtocol(),
      );
      await bystanderEchoes(h, port);
      client.transport.write('boom');
      const reason = await server.lost;
      expect(reason.check(ConnectionLost)).to.equal(ConnectionLost);
      expect(reason.value.cause).to.equal(thrown);
      expect((await client.lost).check(ConnectionClosed)).to.equal(ConnectionClosed);
      const other = await serverFactory.nth(2);
      expect(other.lostCount).to.equal(0);
      await bystanderEchoes(h, port);
      expect(h.reactor.running).to.equal(true);
      expectLoggedOnce(h, thrown);
    });

    test('an exception in connectionMade closes that connection and still calls connectionLost', async (h) => {
      const thrown = new Error('cannot start');
      let first = true;
      const factory = new RecordingFactory((): RecordingProtocol => {
        const made = first ? new BadStart(thrown) : new EchoingProtocol();
        first = false;
        return made;
      });
      const port = (await h.listen(factory)).getHost().port;
      await connectionEnds(h, port);
      const server = await factory.nth(1);
      const reason = await server.lost;
      expect(reason.check(ConnectionLost)).to.equal(ConnectionLost);
      expect(server.events).to.deep.equal(['connectionMade', 'connectionLost']);
      await bystanderEchoes(h, port);
      expectLoggedOnce(h, thrown);
    });

    test('an exception in a client protocol costs only that connection, and the client factory hears clientConnectionLost', async (h) => {
      const thrown = new TypeError('client trouble');
      class FragileClient extends RecordingProtocol {
        override dataReceived(data: Buffer): void {
          super.dataReceived(data);
          throw thrown;
        }
      }
      const { server, client, clientFactory, port } = await h.pair(
        () => new EchoingProtocol(),
        () => new FragileClient(),
      );
      client.transport.write('ping');
      const reason = await client.lost;
      expect(reason.check(ConnectionLost)).to.equal(ConnectionLost);
      expect(reason.value.cause).to.equal(thrown);
      expect((await clientFactory.lost).check(ConnectionLost)).to.equal(ConnectionLost);
      await server.lost;
      await bystanderEchoes(h, port);
      expectLoggedOnce(h, thrown);
    });

    test('an exception in connectionLost is logged and nothing else happens', async (h) => {
      const thrown = new Error('cannot end');
      class BadEnd extends EchoingProtocol {
        override connectionLost(reason: Failure): void {
          super.connectionLost(reason);
          throw thrown;
        }
      }
      const { server, client, port } = await h.pair(
        () => new BadEnd(),
        () => new RecordingProtocol(),
      );
      client.transport.loseConnection();
      await server.lost;
      await client.lost;
      await h.until(() => h.errors().length > 0, 'the error logged');
      expect(server.lostCount).to.equal(1);
      await bystanderEchoes(h, port);
      expectLoggedOnce(h, thrown);
    });

    test('an exception in a producer is logged and costs only that connection', async (h) => {
      const thrown = new Error('producer trouble');
      let first = true;
      const factory = new RecordingFactory((): RecordingProtocol => {
        const made = first ? new BadPull(thrown) : new EchoingProtocol();
        first = false;
        return made;
      });
      const port = (await h.listen(factory)).getHost().port;
      await connectionEnds(h, port);
      const server = await factory.nth(1);
      expect((await server.lost).check(ConnectionLost)).to.equal(ConnectionLost);
      await bystanderEchoes(h, port);
      expectLoggedOnce(h, thrown);
    });
  });
}
