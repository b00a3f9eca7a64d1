// Real-socket tests of NodeReactor's TLS (listenSSL / connectSSL on
// node:tls): round trips, what the protocol sees at connectionMade, ALPN,
// SNI, minimum version, certificate reload, the reactor's bookkeeping and its
// argument checks. Loopback only, port 0, bounded. Failures are in
// tls-failures.integration.test.ts, mutual TLS in tls-mutual, closing in
// tls-close, real OpenSSL peers in tls-openssl.
import { expect } from 'chai';
import { createServer, type Socket } from 'node:net';
import { createServer as createTLSServer, type Server as TLSServer } from 'node:tls';
import { errorCode } from '../src/error-code.js';
import { ConnectionDone, ReactorNotRestartable } from '../src/errors.js';
import { Factory } from '../src/factory.js';
import type { ISSLListeningPort, ITLSTransport } from '../src/interfaces.js';
import { NodeReactor } from '../src/node-reactor.js';
import { LogCapture } from '../src/testing/log-capture.js';
import { RecordingClientFactory, RecordingFactory } from '../src/testing/index.js';
import { optionsForClientTLS, serverTLSOptions } from '../src/tls-options.js';
import {
  certs,
  RawTLSClient,
  serverOptions,
  TLSEchoProtocol,
  TLSRecordingProtocol,
  tlsCode,
} from './support/tls-helpers.js';
import { rawConnect, until } from './support/tcp-helpers.js';

describe('NodeReactor TLS (integration)', () => {
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

  const clientOptions = (init = {}) =>
    optionsForClientTLS('localhost', { trustRoot: certs.ca.cert, ...init });

  async function listen(
    factory: Factory,
    options = serverOptions(),
  ): Promise<{ port: number; listening: ISSLListeningPort }> {
    const listening = reactor.listenSSL(0, factory, options, { interface: '127.0.0.1' });
    await listening.whenListening();
    return { port: listening.getHost().port, listening };
  }

  async function connect(
    port: number,
    options = clientOptions(),
  ): Promise<{
    client: TLSRecordingProtocol;
    factory: RecordingClientFactory<TLSRecordingProtocol>;
  }> {
    const factory = new RecordingClientFactory(() => new TLSRecordingProtocol());
    reactor.connectSSL('127.0.0.1', port, factory, options);
    const client = await factory.firstBuilt;
    await client.made;
    return { client, factory };
  }

  function handshakeFailures() {
    return logs.events.filter((e) => e.namespace === 'torsion.tls' && e.fields.code !== undefined);
  }

  function errorsLogged(): string[] {
    return logs.events.filter((e) => e.level === 'error').map((e) => e.message);
  }

  describe('round trip', () => {
    it('echoes bytes between connectSSL and listenSSL, both closing with ConnectionDone', async () => {
      const serverFactory = new RecordingFactory(() => new TLSEchoProtocol());
      const { port } = await listen(serverFactory);
      const { client, factory } = await connect(port);

      client.transport.write('hello, ');
      client.transport.writeSequence([Buffer.from('wor'), 'ld']);
      expect((await client.waitForBytes(12)).toString()).to.equal('hello, world');

      client.transport.loseConnection();
      expect((await client.lost).check(ConnectionDone)).to.equal(ConnectionDone);
      expect((await serverFactory.built[0]!.lost).check(ConnectionDone)).to.equal(ConnectionDone);
      expect(factory.events).to.deep.equal([
        'startedConnecting',
        'buildProtocol',
        'clientConnectionLost',
      ]);
      expect(errorsLogged()).to.deep.equal([]);
    });

    it('echoes 4 MiB in both directions', async function () {
      this.timeout(20_000);
      const { port } = await listen(new RecordingFactory(() => new TLSEchoProtocol()));
      const { client } = await connect(port);
      const payload = Buffer.alloc(4 * 1024 * 1024);
      for (let i = 0; i < payload.length; i++) payload[i] = i % 251;
      client.transport.write(payload);
      expect((await client.waitForBytes(payload.length)).equals(payload)).to.equal(true);
    });

    it('connects the protocol only after the handshake: connectionMade sees the certificate, cipher, version; handshakeCompleted follows', async () => {
      const serverFactory = new RecordingFactory(() => new TLSRecordingProtocol());
      const { port } = await listen(serverFactory);
      const { client } = await connect(port);
      await client.handshake;
      const server = await serverFactory.nth(1);
      await server.handshake;

      for (const side of [client, server]) {
        expect(side.events.slice(0, 2)).to.deep.equal(['connectionMade', 'handshakeCompleted']);
        expect(side.snapshot!.secure).to.equal(true);
        expect(side.snapshot!.version).to.equal('TLSv1.3');
        expect(side.snapshot!.cipher!.name).to.match(/^TLS_/);
        expect(side.snapshot!.negotiatedProtocol).to.equal(null);
      }
      const serverCert = client.snapshot!.peerCertificate!;
      expect(serverCert.subject.CN).to.equal('localhost');
      expect(serverCert.subjectaltname).to.contain('DNS:localhost');
      // The server asked for no client certificate.
      expect(server.snapshot!.peerCertificate).to.equal(null);
    });

    it('reports the same TCP addresses as plaintext TCP', async () => {
      const serverFactory = new RecordingFactory(() => new TLSRecordingProtocol());
      const { port } = await listen(serverFactory);
      const { client } = await connect(port);
      const server = await serverFactory.nth(1);
      await server.made;
      expect(client.transport.getPeer().toString()).to.equal(`127.0.0.1:${port}`);
      expect(server.transport.getHost().toString()).to.equal(`127.0.0.1:${port}`);
      expect(server.transport.getPeer()).to.deep.equal(client.transport.getHost());
      expect(serverFactory.addresses[0]).to.deep.equal(client.transport.getHost());
    });

    it('serves a plain node:tls client, and a connectSSL client talks to a plain tls.createServer', async () => {
      const { port } = await listen(new RecordingFactory(() => new TLSEchoProtocol()));
      const raw = new RawTLSClient(port);
      cleanups.push(() => raw.socket.destroy());
      await raw.secured;
      raw.socket.write('plain node client');
      expect((await raw.waitForBytes(17)).toString()).to.equal('plain node client');

      const plain: TLSServer = createTLSServer(
        { key: certs.server.key, cert: certs.server.cert },
        (socket) => socket.pipe(socket),
      );
      await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
      cleanups.push(() => plain.close());
      const { client } = await connect((plain.address() as { port: number }).port);
      client.transport.write('torsion client');
      expect((await client.waitForBytes(14)).toString()).to.equal('torsion client');
      client.transport.abortConnection();
      await client.lost;
    });

    it('throws from startTLS(): the connection already speaks TLS', async () => {
      const { port } = await listen(new RecordingFactory(() => new TLSEchoProtocol()));
      const { client } = await connect(port);
      expect(() => client.tls.startTLS(clientOptions())).to.throw(Error, /already speaks TLS/);
    });

    it('starts with Nagle off (getTcpNoDelay() true) and applies setTcpNoDelay and setTcpKeepAlive to the TCP socket under TLS', async () => {
      const serverFactory = new RecordingFactory(() => new TLSEchoProtocol());
      const { port } = await listen(serverFactory);
      const { client } = await connect(port);
      const transport = client.tls;
      expect(transport.getTcpNoDelay()).to.equal(true);
      expect((await serverFactory.nth(1)).transport.getTcpNoDelay()).to.equal(true);
      transport.setTcpNoDelay(false);
      expect(transport.getTcpNoDelay()).to.equal(false);
      transport.setTcpNoDelay(true);
      transport.setTcpKeepAlive(true, 30);
      expect(transport.getTcpNoDelay()).to.equal(true);
      expect(transport.getTcpKeepAlive()).to.equal(true);
      transport.write('still works');
      expect((await client.waitForBytes(11)).toString()).to.equal('still works');
    });

    it('reports null TLS details once the connection is closed, without throwing', async () => {
      const { port } = await listen(new RecordingFactory(() => new TLSEchoProtocol()));
      const { client } = await connect(port);
      client.transport.abortConnection();
      await client.lost;
      const transport: ITLSTransport = client.tls;
      expect(transport.getPeerCertificate()).to.equal(null);
      expect(transport.getCipher()).to.equal(null);
      expect(transport.getTLSVersion()).to.equal(null);
      expect(transport.secure).to.equal(true);
    });
  });

  describe('ALPN, SNI and versions', () => {
    it('negotiates the ALPN protocol both sides prefer', async () => {
      const serverFactory = new RecordingFactory(() => new TLSRecordingProtocol());
      const { port } = await listen(
        serverFactory,
        serverOptions({ alpnProtocols: ['h2', 'http/1.1'] }),
      );
      const { client } = await connect(port, clientOptions({ alpnProtocols: ['http/1.1', 'h2'] }));
      const server = await serverFactory.nth(1);
      await server.made;
      expect(client.snapshot!.negotiatedProtocol).to.equal('h2');
      expect(server.snapshot!.negotiatedProtocol).to.equal('h2');
      expect(client.tls.negotiatedProtocol).to.equal('h2');
    });

    it('fails the handshake with TORSION_ERR_TLS_NO_APPLICATION_PROTOCOL when no ALPN protocol is shared', async () => {
      const serverFactory = new RecordingFactory(() => new TLSRecordingProtocol());
      const { port } = await listen(serverFactory, serverOptions({ alpnProtocols: ['h2'] }));
      const factory = new RecordingClientFactory(() => new TLSRecordingProtocol());
      reactor.connectSSL('127.0.0.1', port, factory, clientOptions({ alpnProtocols: ['x-other'] }));
      const reason = await factory.failed;
      expect(tlsCode(reason)).to.equal('TORSION_ERR_TLS_NO_APPLICATION_PROTOCOL');
      expect(serverFactory.built).to.have.length(0);
    });

    it('picks the certificate by the name the client asks for (SNI), and the main one otherwise', async () => {
      const options = serverOptions({ sni: { 'sni.example': certs.sni } });
      const { port } = await listen(new RecordingFactory(() => new TLSEchoProtocol()), options);
      const sni = await connect(
        port,
        optionsForClientTLS('sni.example', { trustRoot: certs.ca.cert }),
      );
      expect(sni.client.snapshot!.peerCertificate!.subjectaltname).to.contain('DNS:sni.example');
      const main = await connect(port);
      expect(main.client.snapshot!.peerCertificate!.subject.CN).to.equal('localhost');
    });

    it('refuses a TLS 1.2 client when the minimum is TLS 1.3, with TORSION_ERR_TLS_PROTOCOL_VERSION on both sides', async () => {
      const serverFactory = new RecordingFactory(() => new TLSRecordingProtocol());
      const { port } = await listen(serverFactory, serverOptions({ minVersion: 'TLSv1.3' }));
      const raw = new RawTLSClient(port, { maxVersion: 'TLSv1.2' });
      cleanups.push(() => raw.socket.destroy());
      await raw.closed;
      expect(errorCode(raw.error)).to.match(/PROTOCOL_VERSION/);
      await until(() => handshakeFailures().length > 0);
      const event = handshakeFailures()[0]!;
      expect(event.level).to.equal('info');
      expect(event.fields.code).to.equal('TORSION_ERR_TLS_PROTOCOL_VERSION');
      expect(serverFactory.built).to.have.length(0);

      const tls12 = await connect(port, clientOptions()).catch(() => null);
      expect(tls12?.client.snapshot!.version).to.equal('TLSv1.3');
    });

    it('speaks TLS 1.2 with a client that offers only TLS 1.2 by default', async () => {
      const serverFactory = new RecordingFactory(() => new TLSRecordingProtocol());
      const { port } = await listen(serverFactory);
      const raw = new RawTLSClient(port, { maxVersion: 'TLSv1.2' });
      cleanups.push(() => raw.socket.destroy());
      await raw.secured;
      const server = await serverFactory.nth(1);
      await server.made;
      expect(server.snapshot!.version).to.equal('TLSv1.2');
    });
  });

  describe('certificate reload', () => {
    it('setTLSOptions: new connections get the new certificate, open ones continue', async () => {
      const serverFactory = new RecordingFactory(() => new TLSEchoProtocol());
      const { port, listening } = await listen(serverFactory);
      const before = await connect(port);
      const oldFingerprint = before.client.snapshot!.peerCertificate!.fingerprint256;

      listening.setTLSOptions(serverTLSOptions({ key: certs.sni.key, cert: certs.sni.cert }));
      const after = await connect(
        port,
        optionsForClientTLS('sni.example', { trustRoot: certs.ca.cert }),
      );
      const newFingerprint = after.client.snapshot!.peerCertificate!.fingerprint256;
      expect(newFingerprint).to.not.equal(oldFingerprint);
      expect(after.client.snapshot!.peerCertificate!.subjectaltname).to.contain('sni.example');

      // The connection made before the reload still works, on the old certificate.
      before.client.transport.write('still here');
      expect((await before.client.waitForBytes(10)).toString()).to.equal('still here');
      expect(before.client.tls.getPeerCertificate()!.fingerprint256).to.equal(oldFingerprint);

      // A client expecting the old name now fails verification.
      const factory = new RecordingClientFactory(() => new TLSRecordingProtocol());
      reactor.connectSSL('127.0.0.1', port, factory, clientOptions());
      expect(tlsCode(await factory.failed)).to.equal('TORSION_ERR_TLS_HOSTNAME_MISMATCH');
    });

    it('setTLSOptions refuses options not made by serverTLSOptions()', async () => {
      const { listening } = await listen(new RecordingFactory(() => new TLSEchoProtocol()));
      expect(() => listening.setTLSOptions(clientOptions() as never)).to.throw(
        TypeError,
        /serverTLSOptions/,
      );
      expect(() => listening.setTLSOptions({} as never)).to.throw(TypeError);
    });
  });

  describe('the reactor', () => {
    it('checks listenSSL and connectSSL arguments as for TCP, plus the TLS options', () => {
      const factory = new RecordingFactory(() => new TLSEchoProtocol());
      const client = new RecordingClientFactory(() => new TLSRecordingProtocol());
      expect(() => reactor.listenSSL(70000, factory, serverOptions())).to.throw(RangeError);
      expect(() => reactor.listenSSL(0, {} as never, serverOptions())).to.throw(TypeError);
      expect(() => reactor.listenSSL(0, factory, clientOptions() as never)).to.throw(
        TypeError,
        /serverTLSOptions/,
      );
      expect(() => reactor.listenSSL(0, factory, undefined as never)).to.throw(TypeError);
      expect(() => reactor.connectSSL('', 443, client, clientOptions())).to.throw(TypeError);
      expect(() => reactor.connectSSL('localhost', 0, client, clientOptions())).to.throw(
        RangeError,
      );
      expect(() =>
        reactor.connectSSL('localhost', 443, client, clientOptions(), { timeout: -1 }),
      ).to.throw(RangeError);
      expect(() => reactor.connectSSL('localhost', 443, client, serverOptions() as never)).to.throw(
        TypeError,
        /optionsForClientTLS/,
      );
    });

    it('stop() closes TLS ports, connections and handshakes in progress; then listenSSL/connectSSL throw', async () => {
      const serverFactory = new RecordingFactory(() => new TLSEchoProtocol());
      const { port } = await listen(serverFactory);
      const { client } = await connect(port);
      const server = await serverFactory.nth(1);
      // A client that connects and never says anything: its handshake is in progress.
      const silent = await rawConnect(port);
      cleanups.push(() => silent.socket.destroy());
      await until(() => silent.socket.remotePort !== undefined);

      reactor.stop();
      await done;
      expect((await client.lost).check(ConnectionDone)).to.equal(ConnectionDone);
      expect((await server.lost).check(ConnectionDone)).to.equal(ConnectionDone);
      await silent.closed;
      expect(() => reactor.listenSSL(0, serverFactory, serverOptions())).to.throw(
        ReactorNotRestartable,
      );
      expect(() =>
        reactor.connectSSL(
          '127.0.0.1',
          port,
          new RecordingClientFactory(() => new TLSRecordingProtocol()),
          clientOptions(),
        ),
      ).to.throw(ReactorNotRestartable);
    });

    it('stop() gives up a connectSSL whose handshake is in progress: clientConnectionFailed, and stop() completes', async () => {
      const sockets: Socket[] = [];
      const silent = createServer((socket) => sockets.push(socket));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      cleanups.push(() => {
        for (const socket of sockets) socket.destroy();
        silent.close();
      });
      const factory = new RecordingClientFactory(() => new TLSRecordingProtocol());
      reactor.connectSSL(
        '127.0.0.1',
        (silent.address() as { port: number }).port,
        factory,
        clientOptions(),
      );
      await until(() => sockets.length === 1);
      reactor.stop();
      await done;
      await factory.failed;
      expect(factory.built).to.have.length(0);
      expect(factory.events).to.deep.equal(['startedConnecting', 'clientConnectionFailed']);
    });

    it('stopListening() drops handshakes in progress without telling the factory', async () => {
      const serverFactory = new RecordingFactory(() => new TLSEchoProtocol());
      const { listening, port } = await listen(serverFactory);
      const silent = await rawConnect(port);
      cleanups.push(() => silent.socket.destroy());
      await until(
        () => (listening as unknown as { handshakesInProgress: number }).handshakesInProgress === 1,
      );
      await listening.stopListening();
      await silent.closed;
      expect(serverFactory.built).to.have.length(0);
    });

    it('keeps serving when a connection refuses its protocol (buildProtocol returns null)', async () => {
      class Refusing extends Factory {
        count = 0;
        override buildProtocol() {
          return this.count++ === 0 ? null : new TLSEchoProtocol();
        }
      }
      const { port } = await listen(new Refusing());
      const refused = new RawTLSClient(port);
      cleanups.push(() => refused.socket.destroy());
      await refused.closed;
      const { client } = await connect(port);
      client.transport.write('ok');
      expect((await client.waitForBytes(2)).toString()).to.equal('ok');
    });
  });
});
