// Real-socket tests of NodeReactor's TCP: ports, connectors, transports,
// close reasons and fault isolation. Loopback only, port 0, bounded.
import { expect } from 'chai';
import { createServer, type Server } from 'node:net';
import { IPv4Address, IPv6Address } from '../src/address.js';
import {
  CannotListenError,
  ConnectBindError,
  ConnectError,
  ConnectionAborted,
  ConnectionDone,
  ConnectionLost,
  ConnectionRefusedError,
  NotConnectingError,
  ReactorNotRestartable,
  UserError,
} from '../src/errors.js';
import { Factory } from '../src/factory.js';
import type { Failure } from '../src/failure.js';
import type { IListeningPort } from '../src/interfaces.js';
import { NodeReactor } from '../src/node-reactor.js';
import { Protocol } from '../src/protocol.js';
import { LogCapture } from '../src/testing/log-capture.js';
import {
  EchoingProtocol,
  Eventual,
  RecordingClientFactory,
  RecordingFactory,
  RecordingProtocol,
} from '../src/testing/index.js';
import { rawConnect, type RawClient, rawSocket, until } from './support/tcp-helpers.js';

/** A port that nothing listens on (bound once by a plain server, then released). */
async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('NodeReactor TCP (integration)', () => {
  let reactor: NodeReactor;
  let done: Promise<void>;
  let raws: RawClient[];
  let logs: LogCapture;

  beforeEach(() => {
    reactor = new NodeReactor({ installSignalHandlers: false, shutdownGracePeriod: 1 });
    done = reactor.run();
    raws = [];
    logs = LogCapture.start();
  });

  afterEach(async () => {
    logs.stop();
    for (const raw of raws) raw.socket.destroy();
    if (reactor.running) {
      reactor.stop();
      await done;
    }
  });

  async function listen(factory: Factory, iface = '127.0.0.1', backlog = 50): Promise<number> {
    const port = await reactor.listenTCP(0, factory, { interface: iface, backlog }).whenListening();
    return port.getHost().port;
  }

  async function raw(port: number, host = '127.0.0.1'): Promise<RawClient> {
    const client = await rawConnect(port, host);
    raws.push(client);
    return client;
  }

  /** A raw client that is not awaited: the server may close it before 'connect' is seen. */
  function rawNoWait(port: number): RawClient {
    const client = rawSocket(port);
    raws.push(client);
    return client;
  }

  async function connectClient(
    port: number,
    host = '127.0.0.1',
  ): Promise<{ client: RecordingProtocol; factory: RecordingClientFactory }> {
    const factory = new RecordingClientFactory(() => new RecordingProtocol());
    reactor.connectTCP(host, port, factory);
    await until(() => factory.built.length > 0);
    const client = factory.built[0]!;
    await client.made;
    return { client, factory };
  }

  function errorsLogged(): string[] {
    return logs.events.filter((e) => e.level === 'error').map((e) => e.message);
  }

  describe('round trip', () => {
    it('echoes bytes between a connectTCP client and a listenTCP server, both closing with ConnectionDone', async () => {
      const serverFactory = new RecordingFactory(() => new EchoingProtocol());
      const port = await listen(serverFactory);
      const { client, factory } = await connectClient(port);

      client.transport.write('hello, ');
      client.transport.write(new Uint8Array([0x77, 0x6f, 0x72, 0x6c, 0x64]));
      expect((await client.waitForBytes(12)).toString()).to.equal('hello, world');

      client.transport.loseConnection();
      const clientReason = await client.lost;
      const serverReason = await serverFactory.built[0]!.lost;
      expect(clientReason.check(ConnectionDone)).to.equal(ConnectionDone);
      expect(serverReason.check(ConnectionDone)).to.equal(ConnectionDone);
      expect(await factory.lost).to.equal(clientReason);
      expect(factory.events).to.deep.equal([
        'startedConnecting',
        'buildProtocol',
        'clientConnectionLost',
      ]);
      expect(client.connected).to.equal(false);
      expect(errorsLogged()).to.deep.equal([]);
    });

    it('reports matching IPv4 addresses from getHost and getPeer on both ends, also after the close', async () => {
      const serverFactory = new RecordingFactory(() => new EchoingProtocol());
      const port = await listen(serverFactory);
      const { client } = await connectClient(port);
      const server = (await serverFactory.waitForBuilt(1))[0]!;
      await server.made;

      const clientHost = client.transport.getHost();
      expect(clientHost).to.be.instanceOf(IPv4Address);
      expect(client.transport.getPeer()).to.deep.equal(new IPv4Address('TCP', '127.0.0.1', port));
      expect(server.transport.getHost()).to.deep.equal(new IPv4Address('TCP', '127.0.0.1', port));
      expect(server.transport.getPeer()).to.deep.equal(clientHost);

      client.transport.abortConnection();
      await client.lost;
      expect(client.transport.getHost()).to.deep.equal(clientHost);
      expect(client.transport.getPeer().port).to.equal(port);
    });

    it('throws TypeError naming the type when write() is given something other than bytes or a string', async () => {
      const port = await listen(new RecordingFactory(() => new EchoingProtocol()));
      const { client } = await connectClient(port);
      expect(() => {
        client.transport.write(42 as unknown as string);
      }).to.throw(TypeError, /number/);
      expect(() => {
        client.transport.writeSequence(['ok', null as unknown as string]);
      }).to.throw(TypeError, /null/);
    });

    it('delivers writeSequence items in order', async () => {
      const port = await listen(new RecordingFactory(() => new EchoingProtocol()));
      const { client } = await connectClient(port);
      client.transport.writeSequence(['a', Buffer.from('b'), new Uint8Array([0x63])]);
      expect((await client.waitForBytes(3)).toString()).to.equal('abc');
    });

    it('round-trips over IPv6 ::1 with IPv6Address addresses', async function () {
      const probe = await new Promise<boolean>((resolve) => {
        const server: Server = createServer();
        server.once('error', () => {
          resolve(false);
        });
        server.listen(0, '::1', () => {
          server.close();
          resolve(true);
        });
      });
      if (!probe) {
        console.warn('    (skipped: this machine has no ::1)');
        this.skip();
      }
      const serverFactory = new RecordingFactory(() => new EchoingProtocol());
      const port = await listen(serverFactory, '::1');
      const { client } = await connectClient(port, '::1');
      client.transport.write('six');
      expect((await client.waitForBytes(3)).toString()).to.equal('six');
      expect(client.transport.getPeer()).to.deep.equal(new IPv6Address('TCP', '::1', port));
      expect(serverFactory.built[0]!.transport.getHost()).to.be.instanceOf(IPv6Address);
    });

    it('keeps 1,000 simultaneous connections echoing', async function () {
      this.timeout(30_000);
      const serverFactory = new RecordingFactory(() => new EchoingProtocol());
      const port = await listen(serverFactory, '127.0.0.1', 1024);
      const clients = await Promise.all(Array.from({ length: 1000 }, () => raw(port)));
      await serverFactory.waitForBuilt(1000);
      clients.forEach((c, i) => c.socket.write(`ping ${i}`));
      const replies = await Promise.all(clients.map((c, i) => c.waitForBytes(`ping ${i}`.length)));
      replies.forEach((reply, i) => expect(reply.toString()).to.equal(`ping ${i}`));
    });
  });

  describe('closing', () => {
    it('loseConnection flushes 1 MB before sending FIN', async () => {
      const payload = Buffer.alloc(1024 * 1024, 0x61);
      class Sender extends RecordingProtocol {
        override connectionMade(): void {
          super.connectionMade();
          this.transport.write(payload);
          this.transport.loseConnection();
        }
      }
      const serverFactory = new RecordingFactory(() => new Sender());
      const port = await listen(serverFactory);
      const client = await raw(port);
      await client.gotEnd;
      expect(client.received().equals(payload)).to.equal(true);
      const reason = await serverFactory.built[0]!.lost;
      expect(reason.check(ConnectionDone)).to.equal(ConnectionDone);
    });

    it('delivers writes made after loseConnection in the same turn, and ignores writes after the close', async () => {
      class LateWriter extends RecordingProtocol {
        override connectionMade(): void {
          super.connectionMade();
          this.transport.write('A');
          this.transport.loseConnection();
          this.transport.write('B');
        }

        override connectionLost(reason: Failure): void {
          this.transport.write('C');
          this.transport.loseConnection();
          super.connectionLost(reason);
        }
      }
      const serverFactory = new RecordingFactory(() => new LateWriter());
      const port = await listen(serverFactory);
      const client = await raw(port);
      await client.closed;
      const server = serverFactory.built[0]!;
      await server.lost;
      server.transport.write('D');
      expect(client.received().toString()).to.equal('AB');
      expect(server.transport.disconnecting).to.equal(true);
      expect(errorsLogged()).to.deep.equal([]);
    });

    it('abortConnection gives ConnectionAborted locally and ConnectionLost on the peer', async () => {
      const serverFactory = new RecordingFactory(() => new RecordingProtocol());
      const port = await listen(serverFactory);
      const { client } = await connectClient(port);
      const server = (await serverFactory.waitForBuilt(1))[0]!;
      await server.made;
      // (No write just before: under gVisor, SO_LINGER 0 flushes queued data with a FIN.)
      client.transport.abortConnection();
      expect(client.transport.disconnecting).to.equal(true);
      const local = await client.lost;
      const remote = await server.lost;
      expect(local.check(ConnectionAborted)).to.equal(ConnectionAborted);
      expect(remote.check(ConnectionLost)).to.equal(ConnectionLost);
      expect(remote.check(ConnectionAborted)).to.equal(null);
    });

    it('reports a peer reset as ConnectionLost with the socket error as cause, without crashing', async () => {
      const serverFactory = new RecordingFactory(() => new RecordingProtocol());
      const port = await listen(serverFactory);
      const client = await raw(port);
      const server = (await serverFactory.waitForBuilt(1))[0]!;
      await server.made;
      client.socket.resetAndDestroy();
      const reason = await server.lost;
      expect(reason.check(ConnectionLost)).to.equal(ConnectionLost);
      expect((reason.value.cause as NodeJS.ErrnoException).code).to.equal('ECONNRESET');
    });

    it('closes cleanly when the peer sends FIN to a protocol that is not half-closeable', async () => {
      const serverFactory = new RecordingFactory(() => new EchoingProtocol());
      const port = await listen(serverFactory);
      const client = await raw(port);
      client.socket.end('last words');
      await client.gotEnd;
      expect(client.received().toString()).to.equal('last words');
      const reason = await serverFactory.built[0]!.lost;
      expect(reason.check(ConnectionDone)).to.equal(ConnectionDone);
    });

    it('calls connectionLost exactly once, and the protocol sees connected=false by then', async () => {
      let calls = 0;
      let connectedSeen: boolean | null = null;
      const lost = new Eventual<void>();
      class Once extends Protocol {
        override connectionLost(): void {
          calls++;
          connectedSeen = this.connected;
          // Every way of closing again, from inside connectionLost.
          this.transport.loseConnection();
          (this.transport as unknown as { abortConnection(): void }).abortConnection();
          lost.callback();
        }
      }
      const port = await listen(Factory.forProtocol(Once));
      const client = await raw(port);
      client.socket.resetAndDestroy();
      await lost;
      await client.closed;
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(calls).to.equal(1);
      expect(connectedSeen).to.equal(false);
    });
  });

  describe('fault isolation', () => {
    it('an exception in dataReceived drops that connection only, logged with its stack', async () => {
      class Fragile extends EchoingProtocol {
        override dataReceived(data: Buffer): void {
          if (data.toString().includes('boom')) throw new RangeError('kaboom');
          super.dataReceived(data);
        }
      }
      const serverFactory = new RecordingFactory(() => new Fragile());
      const port = await listen(serverFactory);
      const victim = await raw(port);
      const bystander = await raw(port);
      await serverFactory.waitForBuilt(2);

      victim.socket.write('boom');
      await victim.closed;
      const reason = await serverFactory.built[0]!.lost;
      expect(reason.check(ConnectionLost)).to.equal(ConnectionLost);
      expect(reason.value.cause).to.be.instanceOf(RangeError);

      bystander.socket.write('still here');
      expect((await bystander.waitForBytes(10)).toString()).to.equal('still here');

      const failures = logs.events.filter((e) => e.level === 'error');
      expect(failures).to.have.length(1);
      expect(failures[0]!.namespace).to.equal('torsion.tcp');
      expect(failures[0]!.message).to.match(/dataReceived/);
      expect(failures[0]!.fields.peer).to.be.a('string');
      expect((failures[0]!.fields.failure as Failure).getTraceback()).to.match(/kaboom[\s\S]*at /);
    });

    it('an exception in connectionMade closes that connection and still calls connectionLost', async () => {
      class BadStart extends RecordingProtocol {
        override connectionMade(): void {
          super.connectionMade();
          throw new Error('cannot start');
        }
      }
      const serverFactory = new RecordingFactory(() => new BadStart());
      const port = await listen(serverFactory);
      const client = rawNoWait(port);
      await client.closed;
      const server = serverFactory.built[0]!;
      const reason = await server.lost;
      expect(server.events).to.deep.equal(['connectionMade', 'connectionLost']);
      expect(reason.check(ConnectionLost)).to.equal(ConnectionLost);
      expect(errorsLogged()[0]).to.match(/connectionMade/);
    });

    it('an exception in connectionLost is logged only', async () => {
      class BadEnd extends RecordingProtocol {
        override connectionLost(reason: Failure): void {
          super.connectionLost(reason);
          throw new Error('cannot end');
        }
      }
      const serverFactory = new RecordingFactory(() => new BadEnd());
      const port = await listen(serverFactory);
      const client = await raw(port);
      client.socket.end();
      await serverFactory.built[0]?.lost;
      await until(() => errorsLogged().length > 0);
      expect(errorsLogged()[0]).to.match(/connectionLost/);
      expect(reactor.running).to.equal(true);
    });

    it('closes the connection at once when buildProtocol returns null', async () => {
      class Refusing extends Factory {
        override buildProtocol(): null {
          return null;
        }
      }
      const port = await listen(new Refusing());
      const client = rawNoWait(port);
      await client.closed;
      expect(client.received().length).to.equal(0);
    });

    it('logs and closes the connection when buildProtocol throws', async () => {
      class Throwing extends Factory {
        override buildProtocol(): null {
          throw new Error('no protocol for you');
        }
      }
      const port = await listen(new Throwing());
      const client = rawNoWait(port);
      await client.closed;
      expect(errorsLogged()[0]).to.match(/buildProtocol/);
    });
  });

  describe('ports', () => {
    it('fails whenListening with CannotListenError when the port is in use', async () => {
      const port = await listen(new RecordingFactory(() => new EchoingProtocol()));
      const second = reactor.listenTCP(port, new RecordingFactory(() => new EchoingProtocol()), {
        interface: '127.0.0.1',
      });
      let failure: unknown = null;
      try {
        await second.whenListening();
      } catch (err) {
        failure = err;
      }
      expect(failure).to.be.instanceOf(CannotListenError);
      expect(((failure as CannotListenError).cause as NodeJS.ErrnoException).code).to.equal(
        'EADDRINUSE',
      );
      expect((failure as CannotListenError).port).to.equal(port);
    });

    it('logs a bind failure that nobody asked about', async () => {
      const port = await listen(new RecordingFactory(() => new EchoingProtocol()));
      reactor.listenTCP(port, new RecordingFactory(() => new EchoingProtocol()), {
        interface: '127.0.0.1',
      });
      await until(() => errorsLogged().length > 0);
      const event = logs.events.find((e) => e.level === 'error')!;
      expect((event.fields.failure as Failure).check(CannotListenError)).to.equal(
        CannotListenError,
      );
    });

    it('fails with CannotListenError for an address this machine does not have', async () => {
      // 192.0.2.1 is TEST-NET-1: binding fails locally (EADDRNOTAVAIL); nothing is sent.
      const port = reactor.listenTCP(0, new RecordingFactory(() => new EchoingProtocol()), {
        interface: '192.0.2.1',
      });
      let failure: unknown = null;
      await port.whenListening().then(undefined, (err: unknown) => {
        failure = err;
      });
      expect(failure).to.be.instanceOf(CannotListenError);
    });

    it('calls startFactory once and stopFactory once around two ports sharing a factory', async () => {
      const factory = new RecordingFactory(() => new EchoingProtocol());
      const a = await reactor.listenTCP(0, factory, { interface: '127.0.0.1' }).whenListening();
      const b = await reactor.listenTCP(0, factory, { interface: '127.0.0.1' }).whenListening();
      expect(factory.starts).to.equal(1);
      await a.stopListening();
      expect(factory.stops).to.equal(0);
      await b.stopListening();
      expect(factory.stops).to.equal(1);
      expect(factory.starts).to.equal(1);
    });

    it('stopListening fires once the port is closed and leaves open connections alone', async () => {
      const factory = new RecordingFactory(() => new EchoingProtocol());
      const listening: IListeningPort = await reactor
        .listenTCP(0, factory, { interface: '127.0.0.1' })
        .whenListening();
      const port = listening.getHost().port;
      const client = await raw(port);
      await factory.waitForBuilt(1);
      await listening.stopListening();

      let refused: unknown = null;
      await rawConnect(port).then(
        (c) => {
          c.socket.destroy();
        },
        (err: unknown) => {
          refused = err;
        },
      );
      expect((refused as NodeJS.ErrnoException | null)?.code).to.equal('ECONNREFUSED');
      client.socket.write('still open');
      expect((await client.waitForBytes(10)).toString()).to.equal('still open');
      // A second stopListening() is harmless and fires at once.
      await listening.stopListening();
    });

    it('reports the bound port from getHost once listening, port 0 before', async () => {
      const port = reactor.listenTCP(0, new RecordingFactory(() => new EchoingProtocol()), {
        interface: '127.0.0.1',
      });
      expect(port.getHost().port).to.equal(0);
      await port.whenListening();
      expect(port.getHost().port).to.be.greaterThan(0);
      expect(port.getHost()).to.be.instanceOf(IPv4Address);
    });

    it('rejects invalid ports and factories synchronously', () => {
      const factory = new RecordingFactory(() => new EchoingProtocol());
      expect(() => reactor.listenTCP(-1, factory)).to.throw(RangeError);
      expect(() => reactor.listenTCP(65536, factory)).to.throw(RangeError);
      expect(() => reactor.listenTCP(1.5, factory)).to.throw(RangeError);
      expect(() => reactor.listenTCP(0, {} as unknown as Factory)).to.throw(TypeError);
      expect(() =>
        reactor.connectTCP(
          '127.0.0.1',
          0,
          new RecordingClientFactory(() => new RecordingProtocol()),
        ),
      ).to.throw(RangeError);
      expect(() =>
        reactor.connectTCP('', 80, new RecordingClientFactory(() => new RecordingProtocol())),
      ).to.throw(TypeError);
    });
  });

  describe('connectors', () => {
    it('reports ConnectionRefusedError when nothing listens, with doStart/doStop once', async () => {
      const freePort = await unusedPort();
      const factory = new RecordingClientFactory(() => new RecordingProtocol());
      const connector = reactor.connectTCP('127.0.0.1', freePort, factory);
      expect(connector.state).to.equal('connecting');
      const reason = await factory.failed;
      expect(reason.check(ConnectionRefusedError)).to.equal(ConnectionRefusedError);
      expect(factory.events).to.deep.equal(['startedConnecting', 'clientConnectionFailed']);
      expect(connector.state).to.equal('disconnected');
      expect([factory.starts, factory.stops]).to.deep.equal([1, 1]);
      expect(connector.getDestination()).to.deep.equal(
        new IPv4Address('TCP', '127.0.0.1', freePort),
      );
    });

    it('reconnects when connect() is called from clientConnectionLost, keeping the factory started', async () => {
      const serverFactory = new RecordingFactory(() => new EchoingProtocol());
      const port = await listen(serverFactory);
      let rounds = 0;
      const secondMade = new Eventual<RecordingProtocol>();
      class Reconnecting extends RecordingClientFactory {
        override clientConnectionLost(
          connector: Parameters<RecordingClientFactory['clientConnectionLost']>[0],
          reason: Failure,
        ): void {
          super.clientConnectionLost(connector, reason);
          if (++rounds === 1) connector.connect();
        }
      }
      const factory = new Reconnecting(() => {
        const p = new RecordingProtocol();
        if (factory.built.length === 1) {
          void p.made.then((made) => {
            secondMade.callback(made);
          });
        }
        return p;
      });
      const connector = reactor.connectTCP('127.0.0.1', port, factory);
      await until(() => factory.built.length === 1);
      await factory.built[0]!.made;
      expect(connector.state).to.equal('connected');
      connector.disconnect();
      const second = await secondMade;
      expect(factory.starts).to.equal(1);
      expect(factory.stops).to.equal(0);
      second.transport.loseConnection();
      await second.lost;
      await until(() => factory.stops === 1);
      expect(factory.events.filter((e) => e === 'clientConnectionLost')).to.have.length(2);
    });

    it('closes at once and reports clientConnectionLost when the client buildProtocol returns null', async () => {
      const port = await listen(new RecordingFactory(() => new EchoingProtocol()));
      class Refusing extends RecordingClientFactory {
        override buildProtocol(): RecordingProtocol {
          return null as unknown as RecordingProtocol;
        }
      }
      const factory = new Refusing(() => new RecordingProtocol());
      reactor.connectTCP('127.0.0.1', port, factory);
      const reason = await factory.lost;
      expect(reason.check(ConnectionDone)).to.equal(ConnectionDone);
    });

    it('stopConnecting cancels an attempt with a UserError, a ConnectError', async () => {
      const port = await listen(new RecordingFactory(() => new EchoingProtocol()));
      const factory = new RecordingClientFactory(() => new RecordingProtocol());
      const connector = reactor.connectTCP('127.0.0.1', port, factory);
      connector.stopConnecting();
      expect(connector.state).to.equal('disconnected');
      const reason = await factory.failed;
      expect(reason.check(UserError)).to.equal(UserError);
      expect(reason.check(ConnectError)).to.equal(ConnectError);
      expect(reason.getErrorMessage()).to.match(/cancelled/);
      expect(() => {
        connector.stopConnecting();
      }).to.throw(NotConnectingError, /needs a connection attempt in progress; it is disconnected/);
      expect(factory.built).to.have.length(0);
    });

    it('reports a bindAddress this machine does not have as ConnectBindError', async () => {
      const port = await listen(new RecordingFactory(() => new EchoingProtocol()));
      const factory = new RecordingClientFactory(() => new RecordingProtocol());
      // 192.0.2.1 is TEST-NET-1: the local bind fails (EADDRNOTAVAIL) before anything is sent.
      reactor.connectTCP('127.0.0.1', port, factory, { bindAddress: { host: '192.0.2.1' } });
      const reason = await factory.failed;
      expect(reason.check(ConnectBindError)).to.equal(ConnectBindError);
      expect(reason.check(ConnectError)).to.equal(ConnectError);
      expect((reason.value.cause as NodeJS.ErrnoException).code).to.equal('EADDRNOTAVAIL');
    });
  });

  describe('reactor shutdown', () => {
    it('reactor.stop() closes ports and connections, then refuses new ones', async () => {
      const serverFactory = new RecordingFactory(() => new EchoingProtocol());
      const listening = await reactor
        .listenTCP(0, serverFactory, { interface: '127.0.0.1' })
        .whenListening();
      const port = listening.getHost().port;
      const { client } = await connectClient(port);
      const rawClient = await raw(port);
      await serverFactory.waitForBuilt(2);

      reactor.stop();
      await done;
      expect(reactor.running).to.equal(false);
      expect((await client.lost).check(ConnectionDone)).to.equal(ConnectionDone);
      for (const server of serverFactory.built) {
        expect((await server.lost).check(ConnectionDone)).to.equal(ConnectionDone);
      }
      await rawClient.gotEnd;
      expect(serverFactory.stops).to.equal(1);
      expect(() => reactor.listenTCP(0, serverFactory)).to.throw(ReactorNotRestartable);
    });

    it('aborts connections that do not close within the grace period', async () => {
      class Stubborn extends RecordingProtocol {
        override connectionMade(): void {
          super.connectionMade();
          // A producer that never unregisters holds loseConnection() open.
          this.transport.registerProducer(
            { pauseProducing() {}, resumeProducing() {}, stopProducing() {} },
            true,
          );
        }
      }
      const serverFactory = new RecordingFactory(() => new Stubborn());
      const port = await listen(serverFactory);
      const client = await raw(port);
      await serverFactory.waitForBuilt(1);
      await serverFactory.built[0]!.made;
      reactor.stop();
      await done;
      const reason = await serverFactory.built[0]!.lost;
      expect(reason.check(ConnectionAborted)).to.equal(ConnectionAborted);
      await client.closed;
      expect(logs.events.some((e) => e.level === 'warn' && e.message.includes('grace'))).to.equal(
        true,
      );
    });
  });
});
