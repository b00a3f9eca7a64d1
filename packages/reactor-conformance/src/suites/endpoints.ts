/**
 * Endpoints over the reactor: `serverFromString`/`clientFromString` listen
 * and connect through the reactor's own `listenTCP`/`connectTCP`, the
 * client Deferred fires with the connected protocol, a failed connect is
 * its failure, a cancelled one fails with ConnectingCancelledError, and
 * `HostnameEndpoint` resolves (through an injected host table) and connects,
 * or reports every address that failed.
 * @module
 */
import { describe } from 'mocha';
import { expect } from 'chai';
import {
  clientFromString,
  ConnectingCancelledError,
  ConnectionRefusedError,
  HostnameConnectError,
  HostnameEndpoint,
  serverFromString,
  StaticNameResolver,
  type IAddress,
  type IEndpointProtocolFactory,
  type IListeningPort,
} from '@torsion/core';
import { EchoingProtocol, RecordingFactory, RecordingProtocol } from '@torsion/core/testing';
import { LOOPBACK, reactorTest } from '../internal/harness.js';
import type { Harness, TestSpec } from '../internal/harness.js';
import type { SuiteSettings } from '../internal/settings.js';

function portOf(port: IListeningPort<IAddress>): number {
  const host = port.getHost();
  if (host.type === 'UNIX') throw new Error(`expected an IP port, got ${host.toString()}`);
  return host.port;
}

function recording(): IEndpointProtocolFactory<RecordingProtocol> {
  return { buildProtocol: () => new RecordingProtocol(), doStart() {}, doStop() {} };
}

/** Registers the endpoint tests. */
export function endpointTests(settings: SuiteSettings): void {
  const test = (title: string, body: (h: Harness) => Promise<void> | void, spec: TestSpec = {}) => {
    reactorTest(settings, title, spec, body);
  };

  const echoServer = async (h: Harness): Promise<number> => {
    const port = await serverFromString(h.reactor, `tcp:0:interface=${LOOPBACK}`).listen(
      new RecordingFactory(() => new EchoingProtocol()),
    );
    return portOf(port);
  };

  describe('endpoints', () => {
    test('serverFromString listens and clientFromString connects, firing with the connected protocol', async (h) => {
      const port = await echoServer(h);
      const client = await clientFromString(h.reactor, `tcp:${LOOPBACK}:${String(port)}`).connect(
        recording(),
      );
      // Fired after connectionMade: the transport is there and usable.
      client.transport.write('endpoint');
      await client.waitForBytes(8);
      expect(client.text()).to.equal('endpoint');
      client.transport.loseConnection();
      await client.lost;
    });

    test("a refused connect is the Deferred's failure", async (h) => {
      const port = await serverFromString(h.reactor, `tcp:0:interface=${LOOPBACK}`).listen(
        new RecordingFactory(() => new EchoingProtocol()),
      );
      const number = portOf(port);
      await port.stopListening();
      const failure = await clientFromString(h.reactor, `tcp:${LOOPBACK}:${String(number)}`)
        .connect(recording())
        .then(
          () => null,
          (err: unknown) => err,
        );
      expect(failure).to.be.instanceOf(ConnectionRefusedError);
    });

    test('cancelling a connect in progress fails it with ConnectingCancelledError', async (h) => {
      const port = await echoServer(h);
      const attempt = clientFromString(h.reactor, `tcp:${LOOPBACK}:${String(port)}`).connect(
        recording(),
      );
      attempt.cancel();
      const failure = await attempt.then(
        () => null,
        (err: unknown) => err,
      );
      expect(failure).to.be.instanceOf(ConnectingCancelledError);
    });

    test('HostnameEndpoint resolves a name and connects; every address failing is one error', async (h) => {
      const port = await echoServer(h);
      const resolver = new StaticNameResolver({ 'service.test': [LOOPBACK] });
      const client = await new HostnameEndpoint(h.reactor, 'service.test', port, {
        resolver,
      }).connect(recording());
      expect(client.transport.getPeer()).to.include({ host: LOOPBACK, port });
      client.transport.loseConnection();
      await client.lost;
      const closed = await serverFromString(h.reactor, `tcp:0:interface=${LOOPBACK}`).listen(
        new RecordingFactory(() => new EchoingProtocol()),
      );
      const number = portOf(closed);
      await closed.stopListening();
      const failure = await new HostnameEndpoint(h.reactor, 'service.test', number, { resolver })
        .connect(recording())
        .then(
          () => null,
          (err: unknown) => err,
        );
      expect(failure).to.be.instanceOf(HostnameConnectError);
      expect((failure as HostnameConnectError).attempts.map((a) => a.address)).to.deep.equal([
        LOOPBACK,
      ]);
    });
  });
}
