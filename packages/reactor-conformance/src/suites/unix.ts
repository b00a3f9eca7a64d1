/**
 * UNIX-domain stream sockets: `listenUNIX` / `connectUNIX` with the stream
 * contract of TCP (bytes both ways, half-close, producers and backpressure,
 * abort, fault isolation), the addresses each end reports, and the socket
 * file: removed by `stopListening()`, a stale one replaced, a live one never
 * taken over, `mode` applied, a missing one refused. Abstract-namespace names
 * where the reactor has them.
 *
 * Run only for a reactor that has `listenUNIX` (`IReactorUNIX`); for any
 * other the whole section is pending, with the reason. Files are reached
 * through {@link UNIXFileHooks} (the real file system by default).
 * @module
 */
import { describe, it } from 'mocha';
import { expect } from 'chai';
import {
  CannotListenError,
  ConnectionAborted,
  ConnectionDone,
  ConnectionLost,
  ConnectionRefusedError,
} from '@torsion/core';
import type {
  IConnector,
  IListeningPort,
  IReactor,
  IReactorUNIX,
  IUNIXTransport,
  ListenUNIXOptions,
  UNIXAddress,
} from '@torsion/core';
import {
  EchoingProtocol,
  HalfCloseRecordingProtocol,
  RecordingClientFactory,
  RecordingFactory,
  RecordingProtocol,
} from '@torsion/core/testing';
import { Harness, reactorTest } from '../internal/harness.js';
import type { TestSpec } from '../internal/harness.js';
import { PatternChecker } from '../internal/pattern.js';
import { NEVER_PAUSED, NotReading, Streamer, untilHeldBack } from '../internal/producers.js';
import type { SuiteSettings } from '../internal/settings.js';
import { REAL_UNIX_FILES } from '../internal/unix-files.js';
import type { UNIXFileHooks } from '../options.js';
import { expectLoggedOnce } from './fault-isolation.js';

type UNIXReactor = IReactor & IReactorUNIX;

function hasUNIX(reactor: IReactor): reactor is UNIXReactor {
  return typeof (reactor as Partial<IReactorUNIX>).listenUNIX === 'function';
}

/** Why the section is pending for this reactor, or null when it runs (asked of one reactor, never run). */
function whyNoUNIX(settings: SuiteSettings): string | null {
  let reactor: IReactor;
  try {
    reactor = settings.makeReactor();
  } catch {
    return null;
  }
  const has = hasUNIX(reactor);
  try {
    void Promise.resolve(settings.destroyReactor?.(reactor)).catch(() => undefined);
  } catch {
    // Cleanup of a reactor that was never run: nothing to report.
  }
  return has ? null : 'IReactorUNIX (it has no listenUNIX)';
}

/** The transport of a protocol on a UNIX connection. */
function unixTransport(p: RecordingProtocol): IUNIXTransport {
  return p.transport as unknown as IUNIXTransport;
}

/** One test's UNIX world: the reactor, the file hooks, and pairs of connected protocols. */
class UNIXWorld {
  readonly h: Harness;
  readonly reactor: UNIXReactor;
  readonly files: UNIXFileHooks;

  constructor(h: Harness, files: UNIXFileHooks) {
    this.h = h;
    this.reactor = h.reactor as UNIXReactor;
    this.files = files;
  }

  path(name: string): string {
    return this.files.socketPath(this.reactor, name);
  }

  async listen(
    path: string,
    factory: RecordingFactory,
    options: ListenUNIXOptions = {},
  ): Promise<IListeningPort<UNIXAddress>> {
    return this.reactor.listenUNIX(path, factory, options).whenListening();
  }

  /** Connects a client made by `make` to `path`; resolves once it is connected. */
  async connect<C extends RecordingProtocol>(
    path: string,
    make: () => C,
  ): Promise<{ client: C; connector: IConnector }> {
    const factory = new RecordingClientFactory(make);
    const connector = this.reactor.connectUNIX(path, factory);
    const client = await Promise.race([
      factory.firstBuilt,
      factory.failed.then((reason) => {
        throw new Error(`connecting to ${path} failed: ${reason.getErrorMessage()}`);
      }),
    ]);
    await client.made;
    return { client, connector };
  }

  /** A server and a client connected over a fresh path. */
  async pair<S extends RecordingProtocol, C extends RecordingProtocol>(
    makeServer: () => S,
    makeClient: () => C,
  ): Promise<{ server: S; client: C; port: IListeningPort<UNIXAddress>; path: string }> {
    const path = this.path('pair.sock');
    const factory = new RecordingFactory(makeServer);
    const port = await this.listen(path, factory);
    const { client } = await this.connect(path, makeClient);
    const server = await factory.nth(1);
    await server.made;
    return { server, client, port, path };
  }
}

/** What `whenListening()` failed with (a test failure if it succeeded). */
async function listenFailure(port: IListeningPort<UNIXAddress>): Promise<unknown> {
  try {
    await port.whenListening();
  } catch (err) {
    return err;
  }
  throw new Error(`listening on ${port.getHost().toString()} succeeded`);
}

/** Registers the UNIX tests. */
export function unixTests(settings: SuiteSettings): void {
  const noUNIX = whyNoUNIX(settings);
  const files = settings.unixFiles ?? REAL_UNIX_FILES;
  const test = (
    title: string,
    body: (u: UNIXWorld) => Promise<void> | void,
    spec: TestSpec = {},
  ) => {
    if (noUNIX !== null) {
      if (settings.knownFailures.has(title)) settings.matchedKnownFailures.add(title);
      it.skip(`${title} [reactor lacks: ${noUNIX}]`);
      return;
    }
    reactorTest(settings, title, { needs: ['unix', ...(spec.needs ?? [])], ...spec }, async (h) => {
      try {
        await body(new UNIXWorld(h, files));
      } finally {
        files.cleanup?.(h.reactor);
      }
    });
  };

  describe('UNIX sockets', () => {
    test('listenUNIX binds the path whenListening and getHost report; bytes go both ways; each end reports UNIX addresses', async (u) => {
      const path = u.path('echo.sock');
      const factory = new RecordingFactory(() => new EchoingProtocol());
      const port = u.reactor.listenUNIX(path, factory);
      expect(await port.whenListening()).to.equal(port);
      expect(port.getHost().family).to.equal('UNIX');
      expect(port.getHost().name).to.equal(path);
      expect(u.files.statFile(u.reactor, path)?.socket, 'a socket file at the path').to.equal(true);
      const { client } = await u.connect(path, () => new RecordingProtocol());
      client.transport.write('hello over UNIX');
      client.transport.writeSequence([' and ', Buffer.from('more')]);
      await client.waitForBytes(24);
      expect(client.text()).to.equal('hello over UNIX and more');
      const server = await factory.nth(1);
      expect(unixTransport(client).getPeer().name).to.equal(path);
      expect(unixTransport(client).getHost().family).to.equal('UNIX');
      expect(unixTransport(server).getHost().name).to.equal(path);
      expect(unixTransport(server).getPeer().family).to.equal('UNIX');
      expect(factory.addresses[0]?.family, 'buildProtocol gets a UNIX address').to.equal('UNIX');
    });

    test('stopListening removes the socket file and refuses new connections; open connections stay, listed by the port', async (u) => {
      const { server, client, port, path } = await u.pair(
        () => new EchoingProtocol(),
        () => new RecordingProtocol(),
      );
      await port.stopListening();
      expect([...port.connections()], 'the port still lists its connection').to.deep.equal([
        server.transport,
      ]);
      expect(u.files.statFile(u.reactor, path), 'the socket file after stopListening').to.equal(
        null,
      );
      const refused = new RecordingClientFactory(() => new RecordingProtocol());
      u.reactor.connectUNIX(path, refused);
      expect((await refused.failed).check(ConnectionRefusedError)).to.equal(ConnectionRefusedError);
      client.transport.write('still open');
      await client.waitForBytes(10);
      expect(client.text()).to.equal('still open');
      client.transport.loseConnection();
      await server.lost;
      expect(port.connectionCount, 'closed connections leave the list').to.equal(0);
    });

    test('connectUNIX to a path with no socket fails with ConnectionRefusedError', async (u) => {
      const refused = new RecordingClientFactory(() => new RecordingProtocol());
      u.reactor.connectUNIX(u.path('nobody.sock'), refused);
      expect((await refused.failed).check(ConnectionRefusedError)).to.equal(ConnectionRefusedError);
      expect(refused.events).to.deep.equal(['startedConnecting', 'clientConnectionFailed']);
      expect(refused.built).to.have.length(0);
    });

    test('a stale socket file (nothing listening) is replaced', async (u) => {
      const path = u.path('stale.sock');
      await u.files.makeStaleSocket(u.reactor, path);
      expect(u.files.statFile(u.reactor, path)?.socket, 'the stale file').to.equal(true);
      const factory = new RecordingFactory(() => new EchoingProtocol());
      await u.listen(path, factory);
      const { client } = await u.connect(path, () => new RecordingProtocol());
      client.transport.write('fresh');
      await client.waitForBytes(5);
      expect(client.text()).to.equal('fresh');
    });

    test('a live socket is never taken over: the second listenUNIX fails with CannotListenError and the first keeps serving', async (u) => {
      const path = u.path('live.sock');
      const first = new RecordingFactory(() => new EchoingProtocol());
      await u.listen(path, first);
      const second = u.reactor.listenUNIX(
        path,
        new RecordingFactory(() => new RecordingProtocol()),
      );
      const failure = await listenFailure(second);
      expect(failure).to.be.instanceOf(CannotListenError);
      const { client } = await u.connect(path, () => new RecordingProtocol());
      client.transport.write('first');
      await client.waitForBytes(5);
      expect(client.text()).to.equal('first');
    });

    test('mode is applied to the socket file', async (u) => {
      const path = u.path('mode.sock');
      await u.listen(path, new RecordingFactory(() => new RecordingProtocol()), { mode: 0o600 });
      expect(u.files.statFile(u.reactor, path)?.mode).to.equal(0o600);
    });

    test(
      "half-close: the peer's loseWriteConnection() reaches readConnectionLost and the server can still answer",
      async (u) => {
        const { server, client } = await u.pair(
          () => new HalfCloseRecordingProtocol(),
          () => new HalfCloseRecordingProtocol(),
        );
        client.transport.write('request');
        client.transport.loseWriteConnection();
        await client.writeLost;
        await server.readLost;
        server.transport.write('answer');
        server.transport.loseConnection();
        expect((await client.lost).check(ConnectionDone)).to.equal(ConnectionDone);
        expect(client.text()).to.equal('answer');
        expect(server.text()).to.equal('request');
      },
      { needs: ['halfClose'] },
    );

    test('pauses a streaming producer while the peer does not read and resumes it when it reads; every byte arrives in order', async (u) => {
      const { server, client } = await u.pair(
        () => new Streamer(u.reactor, NEVER_PAUSED, 'close'),
        () => new NotReading(),
      );
      const checker = new PatternChecker();
      client.sink = checker;
      server.startStreaming();
      await untilHeldBack(
        u.h,
        server,
        () => server.written,
        () => server.paused,
      );
      expect(server.pauses).to.be.at.least(1);
      const resumes = server.resumes;
      client.transport.resumeProducing();
      while (server.resumes === resumes) await server.nextChange();
      server.finishSoon();
      expect((await client.lost).check(ConnectionDone)).to.equal(ConnectionDone);
      expect(checker.mismatchAt).to.equal(null);
      expect(client.byteCount).to.equal(server.written);
    });

    test('abortConnection drops the connection at once: ConnectionAborted here; the peer sees its end (a UNIX socket has no reset)', async (u) => {
      const { server, client } = await u.pair(
        () => new RecordingProtocol(),
        () => new RecordingProtocol(),
      );
      client.transport.write('unsent, maybe');
      client.transport.abortConnection();
      expect((await client.lost).check(ConnectionAborted)).to.equal(ConnectionAborted);
      expect((await server.lost).check(ConnectionDone, ConnectionLost)).to.not.equal(null);
    });

    test(
      'an exception in dataReceived is logged once and costs only its connection; the port keeps serving',
      async (u) => {
        const error = new Error('bad UNIX data');
        class Throws extends RecordingProtocol {
          override dataReceived(data: Buffer): void {
            super.dataReceived(data);
            throw error;
          }
        }
        const path = u.path('fault.sock');
        let made = 0;
        const factory = new RecordingFactory<RecordingProtocol>(() =>
          made++ === 0 ? new Throws() : new EchoingProtocol(),
        );
        await u.listen(path, factory);
        const { client: bad } = await u.connect(path, () => new RecordingProtocol());
        bad.transport.write('boom');
        // The server end was aborted: no reset on a UNIX socket, so an end of stream or a reset.
        expect((await bad.lost).check(ConnectionDone, ConnectionLost)).to.not.equal(null);
        const failed = factory.built[0];
        expect((await failed?.lost)?.value).to.be.instanceOf(ConnectionLost);
        const { client: good } = await u.connect(path, () => new RecordingProtocol());
        good.transport.write('fine');
        await good.waitForBytes(4);
        expect(good.text()).to.equal('fine');
        expectLoggedOnce(u.h, error);
      },
      { logsErrors: true },
    );

    test(
      'an abstract-namespace name has no file and shows as @name',
      async (u) => {
        const name = `\0torsion-conformance-${String(Math.floor(u.reactor.seconds() * 1e6))}-${String(Math.random()).slice(2, 10)}`;
        const factory = new RecordingFactory(() => new EchoingProtocol());
        const port = await u.listen(name, factory);
        expect(port.getHost().toString()).to.equal(`@${name.slice(1)}`);
        const { client } = await u.connect(name, () => new RecordingProtocol());
        client.transport.write('abstract');
        await client.waitForBytes(8);
        await port.stopListening();
      },
      { needs: ['unixAbstract'] },
    );
  });
}
