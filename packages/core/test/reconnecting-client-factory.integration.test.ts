// ReconnectingClientFactory on a real NodeReactor over loopback: retries run
// on the reactor the connector belongs to, and end when that reactor stops.
import { expect } from 'chai';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { NodeReactor } from '../src/node-reactor.js';
import { Protocol } from '../src/protocol.js';
import { ReconnectingClientFactory } from '../src/reconnecting-client-factory.js';
import { LogCapture } from '../src/testing/log-capture.js';

/** A loopback port nothing listens on: bound by the OS, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('ReconnectingClientFactory on NodeReactor (integration)', function () {
  this.timeout(5_000);

  // Issue #10: the tutorial's `new NodeReactor()` with a factory built as
  // docs/clients.md shows (no clock) retried on the default reactor, so after
  // stop() the process never exited and logged ReactorNotRestartable forever.
  it('retries on the reactor it was connected with, and stops with it', async () => {
    const port = await closedPort();
    const reactor = new NodeReactor({ installSignalHandlers: false });
    const factory = new ReconnectingClientFactory({ initialDelay: 0.01, factor: 1, jitter: 0 });
    factory.protocol = Protocol;
    let attempts = 0;
    let thirdAttempt: () => void = () => {};
    const threeAttempts = new Promise<void>((resolve) => (thirdAttempt = resolve));
    factory.startedConnecting = (): void => {
      attempts += 1;
      if (attempts === 3) thirdAttempt();
    };
    const logs = LogCapture.start();
    try {
      const stopped = reactor.run();
      const connector = reactor.connectTCP('127.0.0.1', port, factory);
      expect(connector.reactor).to.equal(reactor);
      await threeAttempts;
      reactor.stop();
      await stopped;
      const afterStop = { attempts, retries: factory.retries };
      // A stopped reactor runs nothing, so the factory leaves no retry on it.
      expect(reactor.getDelayedCalls()).to.deep.equal([]);
      expect(factory.pendingRetry).to.equal(null);
      await sleep(100); // ten retry delays
      expect({ attempts, retries: factory.retries }).to.deep.equal(afterStop);
    } finally {
      logs.stop();
    }
    expect(logs.failures()).to.deep.equal([]);
    expect(logs.messages('warn')).to.deep.equal([]);
  });
});
