// Real-socket tests of how NodeReactor's TLS handshakes fail: each class of
// failure reaches a connectSSL client's factory as a TLSError with its
// stable code, and a listenSSL server logs it at 'info' on torsion.tls (with
// the peer and the code) and goes on serving everybody else. Loopback only,
// port 0, bounded; the timeouts are made short, and nothing asserts timing.
import { expect } from 'chai';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTLSServer, type Server as TLSServer } from 'node:tls';
import { TimeoutError } from '../src/errors.js';
import type { LogEvent } from '../src/log.js';
import { NodeReactor } from '../src/node-reactor.js';
import { LogCapture } from '../src/testing/log-capture.js';
import { RecordingClientFactory, RecordingFactory } from '../src/testing/index.js';
import { optionsForClientTLS, type ClientTLSOptionsInit } from '../src/tls-options.js';
import { Protocol } from '../src/protocol.js';
import {
  certs,
  RawTLSClient,
  serverOptions,
  TLSEchoProtocol,
  TLSRecordingProtocol,
  tlsCode,
} from './support/tls-helpers.js';
import { rawConnect, until } from './support/tcp-helpers.js';

describe('NodeReactor TLS handshake failures (integration)', () => {
  let reactor: NodeReactor;
  let done: Promise<void>;
  let logs: LogCapture;
  const cleanups: (() => void)[] = [];

  beforeEach(() => {
    reactor = new NodeReactor({ installSignalHandlers: false, shutdownGracePeriod: 1 });
    done = reactor.run();
    logs = LogCapture.start();
  });

  afterEach(async () => {
    logs.stop();
    for (const cleanup of cleanups.splice(0)) cleanup();
    if (reactor.running) {
      reactor.stop();
      await done;
    }
  });

  const clientOptions = (init: ClientTLSOptionsInit = {}, hostname = 'localhost') =>
    optionsForClientTLS(hostname, { trustRoot: certs.ca.cert, ...init });

  /** The handshake failures logged by a TLS port. */
  function handshakeFailures(): LogEvent[] {
    return logs.events.filter((e) => e.namespace === 'torsion.tls' && e.fields.code !== undefined);
  }

  async function listen(
    factory = new RecordingFactory(() => new TLSEchoProtocol()),
    options = serverOptions(),
  ) {
    const listening = reactor.listenSSL(0, factory, options, { interface: '127.0.0.1' });
    await listening.whenListening();
    return { port: listening.getHost().port, factory };
  }

  /** A plain node:tls server with the given certificate, echoing. */
  async function plainTLSServer(key: string, cert: string, extra = {}): Promise<number> {
    const server: TLSServer = createTLSServer({ key, cert, ...extra }, (socket) => {
      socket.on('error', () => {});
      socket.pipe(socket);
    });
    server.on('tlsClientError', () => {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => server.close());
    return (server.address() as { port: number }).port;
  }

  /** A plain TCP server whose connections run `onConnection`. */
  async function tcpServer(onConnection: (socket: Socket) => void): Promise<number> {
    const sockets: Socket[] = [];
    const server: Server = createServer((socket) => {
      sockets.push(socket);
      socket.on('error', () => {});
      onConnection(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => {
      for (const socket of sockets) socket.destroy();
      server.close();
    });
    return (server.address() as { port: number }).port;
  }

  async function clientFailure(port: number, options = clientOptions(), timeout?: number) {
    const factory = new RecordingClientFactory(() => new TLSRecordingProtocol());
    reactor.connectSSL(
      '127.0.0.1',
      port,
      factory,
      options,
      timeout === undefined ? {} : { timeout },
    );
    const reason = await factory.failed;
    expect(factory.built, 'no protocol is built for a failed handshake').to.have.length(0);
    expect(factory.events).to.deep.equal(['startedConnecting', 'clientConnectionFailed']);
    return reason;
  }

  describe('a connectSSL client', () => {
    it('refuses a server certificate from an untrusted CA: TORSION_ERR_TLS_CERTIFICATE_UNTRUSTED', async () => {
      const port = await plainTLSServer(certs.untrusted.key, certs.untrusted.cert);
      const reason = await clientFailure(port);
      expect(tlsCode(reason)).to.equal('TORSION_ERR_TLS_CERTIFICATE_UNTRUSTED');
      expect(reason.value.message).to.contain(`127.0.0.1:${port}`);
      expect(reason.value.cause).to.be.instanceOf(Error);
    });

    it('refuses a certificate for another host: TORSION_ERR_TLS_HOSTNAME_MISMATCH', async () => {
      const port = await plainTLSServer(certs.wrongHost.key, certs.wrongHost.cert);
      expect(tlsCode(await clientFailure(port))).to.equal('TORSION_ERR_TLS_HOSTNAME_MISMATCH');
    });

    it('refuses the right certificate when it asked for another name', async () => {
      const { port } = await listen();
      const reason = await clientFailure(port, clientOptions({}, 'example.com'));
      expect(tlsCode(reason)).to.equal('TORSION_ERR_TLS_HOSTNAME_MISMATCH');
    });

    it('refuses an expired certificate: TORSION_ERR_TLS_CERTIFICATE_EXPIRED', async () => {
      const port = await plainTLSServer(certs.expired.key, certs.expired.cert);
      expect(tlsCode(await clientFailure(port))).to.equal('TORSION_ERR_TLS_CERTIFICATE_EXPIRED');
    });

    it('accepts any certificate with insecureSkipVerify (and logs a warning when the options are made)', async () => {
      const port = await plainTLSServer(certs.untrusted.key, certs.untrusted.cert);
      const options = optionsForClientTLS('localhost', { insecureSkipVerify: true });
      expect(logs.messages('warn').some((m) => m.includes('verification is OFF'))).to.equal(true);
      const factory = new RecordingClientFactory(() => new TLSRecordingProtocol());
      reactor.connectSSL('127.0.0.1', port, factory, options);
      const client = await factory.firstBuilt;
      await client.made;
      client.transport.write('insecure');
      expect((await client.waitForBytes(8)).toString()).to.equal('insecure');
    });

    it('fails with TORSION_ERR_TLS_PROTOCOL_VERSION when the server only speaks an older version', async () => {
      const port = await plainTLSServer(certs.server.key, certs.server.cert, {
        maxVersion: 'TLSv1.2',
      });
      const reason = await clientFailure(port, clientOptions({ minVersion: 'TLSv1.3' }));
      expect(tlsCode(reason)).to.equal('TORSION_ERR_TLS_PROTOCOL_VERSION');
    });

    it('fails with TORSION_ERR_TLS_NOT_TLS when the server answers in plaintext', async () => {
      const port = await tcpServer((socket) => {
        socket.once('data', () => socket.write('HTTP/1.1 400 Bad Request\r\n\r\n'));
      });
      expect(tlsCode(await clientFailure(port))).to.equal('TORSION_ERR_TLS_NOT_TLS');
    });

    it('fails with TORSION_ERR_TLS_CONNECTION_CLOSED when the server closes during the handshake', async () => {
      const port = await tcpServer((socket) => {
        socket.once('data', () => socket.end());
      });
      expect(tlsCode(await clientFailure(port))).to.equal('TORSION_ERR_TLS_CONNECTION_CLOSED');
    });

    it('fails with TORSION_ERR_TLS_HANDSHAKE_TIMEOUT when the server never answers', async () => {
      const port = await tcpServer(() => {});
      const reason = await clientFailure(port, clientOptions({ handshakeTimeout: 0.2 }));
      expect(tlsCode(reason)).to.equal('TORSION_ERR_TLS_HANDSHAKE_TIMEOUT');
    });

    it("fails with TimeoutError when connectSSL's timeout, which covers the handshake, ends first", async () => {
      const port = await tcpServer(() => {});
      const reason = await clientFailure(port, clientOptions(), 0.2);
      expect(reason.check(TimeoutError)).to.equal(TimeoutError);
    });

    it('can retry after a failed handshake (connector.connect() again)', async () => {
      const { port } = await listen();
      const factory = new RecordingClientFactory(() => new TLSRecordingProtocol());
      const connector = reactor.connectSSL(
        '127.0.0.1',
        port,
        factory,
        clientOptions({}, 'example.com'),
      );
      await factory.failed;
      expect(connector.state).to.equal('disconnected');
      // Same connector, same options: fails the same way, and cleanly.
      connector.connect();
      await until(() => factory.events.filter((e) => e === 'clientConnectionFailed').length === 2);
      expect(connector.state).to.equal('disconnected');
    });
  });

  describe('a listenSSL server', () => {
    it('logs garbage instead of a ClientHello as TORSION_ERR_TLS_NOT_TLS at info, closes only that socket, and keeps serving', async () => {
      const { port, factory } = await listen();
      const raw = await rawConnect(port);
      cleanups.push(() => raw.socket.destroy());
      const clientPort = raw.socket.localPort;
      raw.socket.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
      await raw.closed;
      await until(() => handshakeFailures().length === 1);
      const [event] = handshakeFailures();
      expect(event!.level).to.equal('info');
      expect(event!.fields.code).to.equal('TORSION_ERR_TLS_NOT_TLS');
      expect(event!.fields.peer).to.equal(`127.0.0.1:${clientPort}`);
      expect(event!.message).to.contain('127.0.0.1');
      expect(factory.built).to.have.length(0);

      const good = new RawTLSClient(port);
      cleanups.push(() => good.socket.destroy());
      await good.secured;
      good.socket.write('after');
      expect((await good.waitForBytes(5)).toString()).to.equal('after');
      expect(logs.events.filter((e) => e.level === 'error')).to.deep.equal([]);
    });

    it('logs random bytes as a failed handshake, too', async () => {
      const { port } = await listen();
      const raw = await rawConnect(port);
      cleanups.push(() => raw.socket.destroy());
      raw.socket.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5]));
      await raw.closed;
      await until(() => handshakeFailures().length === 1);
      expect(handshakeFailures()[0]!.fields.code).to.match(/^TORSION_ERR_TLS_/);
    });

    it('closes a client that never sends a ClientHello after handshakeTimeout, logging TORSION_ERR_TLS_HANDSHAKE_TIMEOUT', async () => {
      const { port, factory } = await listen(undefined, serverOptions({ handshakeTimeout: 0.2 }));
      const raw = await rawConnect(port);
      cleanups.push(() => raw.socket.destroy());
      await raw.closed;
      await until(() => handshakeFailures().length === 1);
      expect(handshakeFailures()[0]!.fields.code).to.equal('TORSION_ERR_TLS_HANDSHAKE_TIMEOUT');
      expect(factory.built).to.have.length(0);
    });

    it('times out each of several silent clients, one after another, while serving a good one', async () => {
      const { port, factory } = await listen(undefined, serverOptions({ handshakeTimeout: 0.3 }));
      const first = await rawConnect(port);
      cleanups.push(() => first.socket.destroy());
      await new Promise((resolve) => setTimeout(resolve, 100));
      const second = await rawConnect(port);
      cleanups.push(() => second.socket.destroy());
      const good = new RawTLSClient(port);
      cleanups.push(() => good.socket.destroy());
      await good.secured;
      await first.closed;
      await second.closed;
      await until(() => handshakeFailures().length === 2);
      expect(handshakeFailures().map((e) => e.fields.code)).to.deep.equal([
        'TORSION_ERR_TLS_HANDSHAKE_TIMEOUT',
        'TORSION_ERR_TLS_HANDSHAKE_TIMEOUT',
      ]);
      expect(factory.built).to.have.length(1);
      good.socket.write('served');
      expect((await good.waitForBytes(6)).toString()).to.equal('served');
    });

    it('times the handshake out even while the client trickles bytes (a deadline, not an idle timeout)', async () => {
      const { port } = await listen(undefined, serverOptions({ handshakeTimeout: 0.3 }));
      const raw = await rawConnect(port);
      cleanups.push(() => raw.socket.destroy());
      // The first bytes of a ClientHello record header, one at a time.
      const header = [0x16, 0x03, 0x01, 0x02, 0x00];
      const trickle = setInterval(() => {
        const byte = header.shift();
        if (byte !== undefined && !raw.socket.destroyed) raw.socket.write(Buffer.from([byte]));
      }, 50);
      cleanups.push(() => clearInterval(trickle));
      await raw.closed;
      await until(() => handshakeFailures().length === 1);
      expect(handshakeFailures()[0]!.fields.code).to.equal('TORSION_ERR_TLS_HANDSHAKE_TIMEOUT');
    });

    it('logs a client that goes away during the handshake as TORSION_ERR_TLS_CONNECTION_CLOSED', async () => {
      const { port } = await listen();
      const raw = await rawConnect(port);
      raw.socket.end();
      await until(() => handshakeFailures().length === 1);
      expect(handshakeFailures()[0]!.fields.code).to.equal('TORSION_ERR_TLS_CONNECTION_CLOSED');

      const reset = await rawConnect(port);
      reset.socket.resetAndDestroy();
      await until(() => handshakeFailures().length === 2);
      expect(handshakeFailures()[1]!.fields.code).to.equal('TORSION_ERR_TLS_CONNECTION_CLOSED');
    });

    it('contains an exception thrown by connectionMade to its own connection', async () => {
      class Exploding extends Protocol {
        override connectionMade(): void {
          throw new Error('boom');
        }
      }
      let count = 0;
      const factory = new RecordingFactory<Protocol>(() =>
        count++ === 0 ? new Exploding() : new TLSEchoProtocol(),
      );
      const { port } = await listen(factory as never);
      const first = new RawTLSClient(port);
      cleanups.push(() => first.socket.destroy());
      await first.closed;
      expect(logs.failures().some((f) => f.value.message === 'boom')).to.equal(true);
      const second = new RawTLSClient(port);
      cleanups.push(() => second.socket.destroy());
      await second.secured;
      second.socket.write('fine');
      expect((await second.waitForBytes(4)).toString()).to.equal('fine');
    });
  });
});
