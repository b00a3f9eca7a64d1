/**
 * Listening ports: binding port 0, `whenListening`, `getHost`, a port in use,
 * `stopListening`, the factory's start/stop, what `buildProtocol` decides, and
 * the open connections a port lists (`connections()`, `connectionCount`).
 * @module
 */
import { describe } from 'mocha';
import { expect } from 'chai';
import { CannotListenError, ConnectionRefusedError, Factory } from '@torsion/core';
import type { IAddress, IProtocol } from '@torsion/core';
import { Harness, LOOPBACK, reactorTest } from '../internal/harness.js';
import type { TestSpec } from '../internal/harness.js';
import {
  EchoingProtocol,
  RecordingClientFactory,
  RecordingFactory,
  RecordingProtocol,
} from '@torsion/core/testing';
import type { SuiteSettings } from '../internal/settings.js';

/** Checks that `address` is TCP over IPv4 on the loopback address. */
export function expectLoopback(address: IAddress, port?: number): void {
  expect(address.family, 'family').to.equal('IPv4');
  if (address.family === 'UNIX') return;
  expect(address.type, 'type').to.equal('TCP');
  expect(address.host, 'host').to.equal(LOOPBACK);
  if (port === undefined) expect(address.port).to.be.within(1, 65535);
  else expect(address.port, 'port').to.equal(port);
}

/** Registers the listening-port tests. */
export function listeningTests(settings: SuiteSettings): void {
  const test = (title: string, body: (h: Harness) => Promise<void> | void, spec: TestSpec = {}) => {
    reactorTest(settings, title, spec, body);
  };

  /** Connects a recording client and waits until the echo server answers. */
  const echoThrough = async (h: Harness, port: number, text: string): Promise<void> => {
    const factory = new RecordingClientFactory(() => new RecordingProtocol());
    h.reactor.connectTCP(LOOPBACK, port, factory);
    const client = await factory.firstBuilt;
    await client.made;
    client.transport.write(text);
    await client.waitForBytes(text.length);
    expect(client.text()).to.equal(text);
    client.transport.loseConnection();
    await client.lost;
  };

  describe('listenTCP', () => {
    test('binds port 0 to a free port that whenListening and getHost report', async (h) => {
      const port = h.reactor.listenTCP(0, new RecordingFactory(() => new EchoingProtocol()), {
        interface: LOOPBACK,
      });
      const bound = await port.whenListening();
      expect(bound).to.equal(port);
      expectLoopback(port.getHost());
      // Asked again after binding, it fires at once with the same port.
      expect(await port.whenListening()).to.equal(port);
      const other = await h.listen(new RecordingFactory(() => new EchoingProtocol()));
      expect(other.getHost().port).to.not.equal(port.getHost().port);
    });

    test('accepts connections on the reported port', async (h) => {
      const listening = await h.listen(new RecordingFactory(() => new EchoingProtocol()));
      await echoThrough(h, listening.getHost().port, 'knock knock');
    });

    test(
      'fails whenListening with CannotListenError when the port is in use, and the first port keeps working',
      async (h) => {
        const first = await h.listen(new RecordingFactory(() => new EchoingProtocol()));
        const port = first.getHost().port;
        const second = h.reactor.listenTCP(
          port,
          new RecordingFactory(() => new EchoingProtocol()),
          {
            interface: LOOPBACK,
          },
        );
        let failure: unknown = null;
        await second.whenListening().then(undefined, (err: unknown) => {
          failure = err;
        });
        expect(failure).to.be.instanceOf(CannotListenError);
        expect((failure as CannotListenError).port).to.equal(port);
        expect((failure as CannotListenError).interface).to.equal(LOOPBACK);
        await echoThrough(h, port, 'still mine');
      },
      { needs: ['portInUse'] },
    );

    test('stopListening fires once the port is closed; new connections are refused, open ones stay', async (h) => {
      const { server, client, listening, port } = await h.pair(
        () => new EchoingProtocol(),
        () => new RecordingProtocol(),
      );
      await listening.stopListening();

      const refused = new RecordingClientFactory(() => new RecordingProtocol());
      h.reactor.connectTCP(LOOPBACK, port, refused);
      expect((await refused.failed).check(ConnectionRefusedError)).to.equal(ConnectionRefusedError);
      expect(refused.built).to.have.length(0);

      client.transport.write('still open');
      await client.waitForBytes(10);
      expect(client.text()).to.equal('still open');
      expect(server.lostCount).to.equal(0);
      // A second stopListening() is harmless and fires too.
      await listening.stopListening();
    });

    test('knows its open connections: connections() and connectionCount, before and after stopListening', async (h) => {
      const factory = new RecordingFactory(() => new RecordingProtocol());
      const listening = await h.listen(factory);
      expect(listening.connectionCount).to.equal(0);
      expect([...listening.connections()]).to.deep.equal([]);
      const clients = new RecordingClientFactory(() => new RecordingProtocol());
      const port = listening.getHost().port;
      h.reactor.connectTCP(LOOPBACK, port, clients);
      h.reactor.connectTCP(LOOPBACK, port, clients);
      const servers = await factory.waitForBuilt(2);
      await Promise.all(servers.map((server) => server.made));
      expect(listening.connectionCount).to.equal(2);
      expect([...listening.connections()]).to.have.members(servers.map((s) => s.transport));
      // Each reaches its protocol, as Twisted's transport.protocol (what a drain tells).
      for (const transport of listening.connections()) {
        expect((transport as { protocol?: unknown }).protocol).to.be.oneOf(servers);
      }

      // Stopping the port leaves them open, and listed.
      await listening.stopListening();
      expect(listening.connectionCount).to.equal(2);

      // One closes: it leaves the list once its protocol was told.
      const [first, second] = servers;
      if (first === undefined || second === undefined) throw new Error('two servers expected');
      first.transport.loseConnection();
      await first.lost;
      expect(listening.connectionCount).to.equal(1);
      expect([...listening.connections()]).to.deep.equal([second.transport]);

      // What a drain does: close what is left, from a copy of the list.
      for (const transport of [...listening.connections()]) transport.abortConnection();
      await second.lost;
      expect(listening.connectionCount).to.equal(0);
      expect([...listening.connections()]).to.deep.equal([]);
    });

    test('calls startFactory once when the first port binds and stopFactory once after the last stops', async (h) => {
      const factory = new RecordingFactory(() => new EchoingProtocol());
      const a = await h.listen(factory);
      const b = await h.listen(factory);
      expect([factory.starts, factory.stops]).to.deep.equal([1, 0]);
      await a.stopListening();
      expect([factory.starts, factory.stops]).to.deep.equal([1, 0]);
      await b.stopListening();
      expect([factory.starts, factory.stops]).to.deep.equal([1, 1]);
    });

    test("gives buildProtocol the peer's address on both ends", async (h) => {
      const { server, client, serverFactory, clientFactory, port } = await h.pair(
        () => new RecordingProtocol(),
        () => new RecordingProtocol(),
      );
      expect(serverFactory.addresses).to.have.length(1);
      expect(serverFactory.addresses[0]).to.deep.equal(client.transport.getHost());
      expect(serverFactory.addresses[0]).to.deep.equal(server.transport.getPeer());
      expect(clientFactory.addresses).to.have.length(1);
      const [destination] = clientFactory.addresses;
      if (destination === undefined) throw new Error('buildProtocol got no address');
      expectLoopback(destination, port);
    });

    test('closes the connection at once when buildProtocol returns null', async (h) => {
      class Refusing extends Factory {
        built = 0;
        override buildProtocol(): IProtocol | null {
          this.built++;
          return null;
        }
      }
      const refusing = new Refusing();
      const listening = await h.listen(refusing);
      const factory = new RecordingClientFactory(() => new RecordingProtocol());
      h.reactor.connectTCP(LOOPBACK, listening.getHost().port, factory);
      // Refused after the handshake (lost) or before it (failed): either way it ends.
      await Promise.race([factory.lost, factory.failed]);
      expect(refusing.built).to.equal(1);
      for (const client of factory.built) {
        expect(client.lostCount).to.equal(1);
        expect(client.byteCount).to.equal(0);
      }
    });

    test(
      'logs an exception thrown by buildProtocol, closes that connection, and keeps accepting',
      async (h) => {
        let calls = 0;
        class Flaky extends Factory {
          override buildProtocol(): IProtocol | null {
            if (++calls === 1) throw new Error('no protocol for you');
            return new EchoingProtocol();
          }
        }
        const listening = await h.listen(new Flaky());
        const port = listening.getHost().port;
        const first = new RecordingClientFactory(() => new RecordingProtocol());
        h.reactor.connectTCP(LOOPBACK, port, first);
        await Promise.race([first.lost, first.failed]);
        await echoThrough(h, port, 'second try');
        const failures = h.logs.failures();
        expect(failures.map((f) => f.getErrorMessage())).to.deep.equal(['no protocol for you']);
        expect(failures[0]?.getTraceback()).to.match(/no protocol for you[\s\S]*\bat\b/);
      },
      { logsErrors: true },
    );
  });
}
