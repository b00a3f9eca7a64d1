// Tests of TLS on the SimulatedReactor: startTLS on simulated transports, and
// listenSSL/connectSSL, with real TLS (Node's engine) across the simulated
// network in virtual time.
import { expect } from 'chai';

import {
  ConnectionAborted,
  ConnectionDone,
  ConnectionLost,
  TimeoutError,
  TLSError,
} from '../../../src/errors.js';
import { TLS_HALF_CLOSE_SUPPORTED } from '../../../src/internal/tls-engine.js';
import type { Failure } from '../../../src/failure.js';
import type {
  IHalfCloseableProtocol,
  IProtocol,
  IPullProducer,
  IPushProducer,
  ITLSTransport,
} from '../../../src/interfaces.js';
import { Protocol } from '../../../src/protocol.js';
import { LogCapture } from '../../../src/testing/log-capture.js';
import { RecordingClientFactory } from '../../../src/testing/recording-client-factory.js';
import { RecordingFactory } from '../../../src/testing/recording-factory.js';
import { RecordingProtocol } from '../../../src/testing/recording-protocol.js';
import { SimulatedReactor } from '../../../src/testing/simulated/simulated-reactor.js';
import { makeTestCertificates } from '../../../src/testing/test-certificates.js';
import { optionsForClientTLS, serverTLSOptions } from '../../../src/tls-options.js';

const certs = makeTestCertificates();
const serverOptions = serverTLSOptions({ key: certs.server.key, cert: certs.server.cert });
const clientOptions = optionsForClientTLS('localhost', { trustRoot: certs.ca.cert });

/** Records the TLS hooks as events too. */
class TLSRecorder extends RecordingProtocol {
  handshakeCompleted(): void {
    this.events.push('handshakeCompleted');
  }

  tlsStarting(): void {
    this.events.push('tlsStarting');
  }
}

/** The TLSError code `reason` carries (undefined when it is not a TLSError). */
function tlsCode(reason: Failure): string | undefined {
  const error = reason.value;
  return error instanceof TLSError ? error.code : undefined;
}

/** A TLSRecorder that half-closes. */
class HalfCloseRecorder extends TLSRecorder implements IHalfCloseableProtocol {
  readConnectionLost(): void {
    this.events.push('readConnectionLost');
  }

  writeConnectionLost(): void {
    this.events.push('writeConnectionLost');
  }
}

function tls(protocol: RecordingProtocol): ITLSTransport {
  return protocol.transport as unknown as ITLSTransport;
}

async function until(reactor: SimulatedReactor, condition: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000 && !condition(); i++) {
    await new Promise((resolve) => setImmediate(resolve));
  }
  expect(condition(), 'condition never held').to.equal(true);
  void reactor;
}

describe('TLS on the SimulatedReactor', () => {
  let reactor: SimulatedReactor;
  beforeEach(() => {
    reactor = new SimulatedReactor({ seed: 7, link: { latency: 0.01 } });
  });
  afterEach(() => {
    reactor.autoAdvance = false;
  });

  describe('startTLS', () => {
    async function pair(): Promise<{ server: TLSRecorder; client: TLSRecorder }> {
      const serverFactory = new RecordingFactory(() => new TLSRecorder());
      reactor.listenTCP(9000, serverFactory);
      const clientFactory = new RecordingClientFactory(() => new TLSRecorder());
      reactor.connectTCP('127.0.0.1', 9000, clientFactory);
      const client = await clientFactory.firstBuilt;
      await client.made;
      const [server] = await serverFactory.waitForBuilt(1);
      return { server: server!, client };
    }

    it('switches both ends to TLS: plaintext before, ciphertext after, handshakeCompleted on both', async () => {
      const { server, client } = await pair();
      client.transport.write('plain ');
      await until(reactor, () => server.text() === 'plain ');
      tls(server).startTLS(serverOptions);
      tls(client).startTLS(clientOptions);
      client.transport.write('secret');
      await until(reactor, () => server.text() === 'plain secret');
      await until(reactor, () => client.events.includes('handshakeCompleted'));
      await until(reactor, () => server.events.includes('handshakeCompleted'));
      expect(tls(client).secure).to.equal(true);
      expect(tls(client).getTLSVersion()).to.equal('TLSv1.3');
      expect(tls(client).getPeerCertificate()?.subject.CN).to.equal('localhost');
      expect(tls(server).getCipher()?.name).to.be.a('string');
      expect(client.events).to.include('tlsStarting');
      server.transport.write('reply');
      await until(reactor, () => client.text() === 'reply');
      client.transport.loseConnection();
      const [clientReason, serverReason] = await Promise.all([client.lost, server.lost]);
      expect(clientReason.value).to.be.instanceOf(ConnectionDone);
      expect(serverReason.value).to.be.instanceOf(ConnectionDone);
      expect(reactor.seconds()).to.be.greaterThan(0);
    });

    it('loseConnection during the handshake waits for it, then sends what was written and closes', async () => {
      const { server, client } = await pair();
      tls(server).startTLS(serverOptions);
      tls(client).startTLS(clientOptions);
      client.transport.write('QUIT after the switch');
      client.transport.loseConnection();
      expect(client.transport.disconnecting).to.equal(true);
      expect((await server.lost).value).to.be.instanceOf(ConnectionDone);
      expect(server.text()).to.equal('QUIT after the switch');
      expect(server.events).to.include('handshakeCompleted');
      expect((await client.lost).value).to.be.instanceOf(ConnectionDone);
    });

    it('fails the handshake with TORSION_ERR_TLS_NOT_TLS when plaintext arrives after startTLS', async () => {
      const { server, client } = await pair();
      tls(server).startTLS(serverOptions);
      client.transport.write('injected command\r\n');
      const reason: Failure = await server.lost;
      expect(reason.value).to.be.instanceOf(TLSError);
      expect(tlsCode(reason)).to.equal('TORSION_ERR_TLS_NOT_TLS');
      expect(server.text()).to.equal('');
      await client.lost;
    });

    it('fails the handshake with a TLSError when the server is not trusted', async () => {
      const { server, client } = await pair();
      tls(client).startTLS(optionsForClientTLS('localhost', { trustRoot: certs.otherCa.cert }));
      tls(server).startTLS(serverOptions);
      const reason: Failure = await client.lost;
      expect(reason.value).to.be.instanceOf(TLSError);
      expect(tlsCode(reason)).to.equal('TORSION_ERR_TLS_CERTIFICATE_UNTRUSTED');
      await server.lost;
    });
  });

  describe('closing, half-closing and flow control over TLS', () => {
    /** A TLS connection made by listenSSL/connectSSL; both ends. */
    async function securePair(
      makeServer: () => TLSRecorder = () => new TLSRecorder(),
    ): Promise<{ server: TLSRecorder; client: TLSRecorder }> {
      const serverFactory = new RecordingFactory(makeServer);
      reactor.listenSSL(8443, serverFactory, serverOptions);
      const clientFactory = new RecordingClientFactory(() => new TLSRecorder());
      reactor.connectSSL('localhost', 8443, clientFactory, clientOptions);
      const client = await clientFactory.firstBuilt;
      await client.made;
      const [server] = await serverFactory.waitForBuilt(1);
      await server!.made;
      return { server: server!, client };
    }

    it('loseConnection sends what was written in the same turn, then close_notify: the peer reads a clean end', async () => {
      const { server, client } = await securePair(() => new HalfCloseRecorder());
      client.transport.write('last words');
      client.transport.loseConnection();
      client.transport.write(', and these');
      await until(reactor, () => server.events.includes('readConnectionLost'));
      expect(server.text()).to.equal('last words, and these');
      server.transport.loseConnection();
      expect((await client.lost).value).to.be.instanceOf(ConnectionDone);
      expect((await server.lost).value).to.be.instanceOf(ConnectionDone);
    });

    it('abortConnection sends no close_notify: the peer loses the connection', async () => {
      const { server, client } = await securePair(() => new HalfCloseRecorder());
      client.transport.abortConnection();
      expect((await client.lost).value).to.be.instanceOf(ConnectionAborted);
      const reason = await server.lost;
      expect(reason.value).to.be.instanceOf(ConnectionLost);
      expect(server.events).to.not.include('readConnectionLost');
    });

    it('half-closes: loseWriteConnection sends close_notify and FIN, and the answer still arrives', async function () {
      if (!TLS_HALF_CLOSE_SUPPORTED) this.skip();
      const { server, client } = await securePair(() => new HalfCloseRecorder());
      client.transport.write('request');
      client.transport.loseWriteConnection();
      await until(reactor, () => server.events.includes('readConnectionLost'));
      expect(server.text()).to.equal('request');
      server.transport.write('response');
      server.transport.loseConnection();
      await until(reactor, () => client.text() === 'response');
      expect((await client.lost).value).to.be.instanceOf(ConnectionDone);
      expect((await server.lost).value).to.be.instanceOf(ConnectionDone);
    });

    it('pauses a streaming producer over a slow link and delivers everything in order', async () => {
      reactor.network.setDefaultConditions({ bandwidth: 1_000_000, latency: 0.02, chunking: 700 });
      const { server, client } = await securePair();
      const total = 2 * 1024 * 1024;
      const chunk = Buffer.alloc(32 * 1024);
      for (let i = 0; i < chunk.length; i++) chunk[i] = i & 0xff;
      let written = 0;
      let paused = false;
      let pauses = 0;
      const produce = (): void => {
        while (!paused && written < total) {
          client.transport.writeSequence([chunk.subarray(0, 1000), chunk.subarray(1000)]);
          written += chunk.length;
        }
        if (written >= total) {
          client.transport.unregisterProducer();
          client.transport.loseConnection();
        }
      };
      const producer: IPushProducer = {
        pauseProducing() {
          paused = true;
          pauses++;
        },
        resumeProducing() {
          paused = false;
          produce();
        },
        stopProducing() {
          paused = true;
        },
      };
      client.transport.registerProducer(producer, true);
      produce();
      await server.lost;
      expect(server.byteCount).to.equal(total);
      const received = server.received();
      for (let offset = 0; offset < total; offset += chunk.length) {
        expect(received.subarray(offset, offset + chunk.length).equals(chunk)).to.equal(true);
      }
      expect(pauses).to.be.greaterThan(1);
      expect(reactor.seconds()).to.be.greaterThan(2);
    });

    it('asks a pull producer for more each time the output drained, over TLS', async () => {
      reactor.network.setDefaultConditions({ bandwidth: 500_000 });
      const { server, client } = await securePair();
      let asked = 0;
      const producer: IPullProducer = {
        resumeProducing() {
          asked++;
          if (asked <= 50) {
            client.transport.write(Buffer.alloc(10_000, asked));
          } else {
            client.transport.unregisterProducer();
            client.transport.loseConnection();
          }
        },
        stopProducing() {},
      };
      client.transport.registerProducer(producer, false);
      await server.lost;
      expect(server.byteCount).to.equal(500_000);
      expect(server.received()[499_999]).to.equal(50);
      expect(asked).to.equal(51);
    });

    it('an exception in handshakeCompleted costs only that connection', async () => {
      const logs = LogCapture.start();
      try {
        class Throws extends TLSRecorder {
          override handshakeCompleted(): void {
            throw new Error('boom in handshakeCompleted');
          }
        }
        const serverFactory = new RecordingFactory(() => new Throws());
        reactor.listenSSL(8443, serverFactory, serverOptions);
        const clientFactory = new RecordingClientFactory(() => new TLSRecorder());
        reactor.connectSSL('localhost', 8443, clientFactory, clientOptions);
        const [server] = await serverFactory.waitForBuilt(1);
        const reason = await server!.lost;
        expect(reason.value).to.be.instanceOf(ConnectionLost);
        expect(logs.failures().some((f) => String(f.value).includes('boom'))).to.equal(true);
        const again = new RecordingClientFactory(() => new TLSRecorder());
        reactor.connectSSL('localhost', 8443, again, clientOptions);
        await (
          await again.firstBuilt
        ).made;
      } finally {
        logs.stop();
      }
    });
  });

  describe('listenSSL and connectSSL', () => {
    it('connects the protocols only after the handshake, then calls handshakeCompleted', async () => {
      const serverFactory = new RecordingFactory(() => new TLSRecorder());
      const port = reactor.listenSSL(8443, serverFactory, serverOptions);
      await port.whenListening();
      const clientFactory = new RecordingClientFactory(() => new TLSRecorder());
      reactor.connectSSL('localhost', 8443, clientFactory, clientOptions);
      const client = await clientFactory.firstBuilt;
      await client.made;
      expect(client.events).to.deep.equal(['connectionMade', 'handshakeCompleted']);
      expect(tls(client).secure).to.equal(true);
      expect(tls(client).getPeerCertificate()?.subject.CN).to.equal('localhost');
      expect(tls(client).getHost().toString()).to.match(/^127\.0\.0\.1:\d+$/);
      client.transport.write('hello');
      const [server] = await serverFactory.waitForBuilt(1);
      await until(reactor, () => server!.text() === 'hello');
      expect(server!.events.slice(0, 2)).to.deep.equal(['connectionMade', 'handshakeCompleted']);
      server!.transport.write('back');
      await until(reactor, () => client.text() === 'back');
      server!.transport.loseConnection();
      expect((await client.lost).value).to.be.instanceOf(ConnectionDone);
      expect((await server!.lost).value).to.be.instanceOf(ConnectionDone);
      expect(reactor.network.connections).to.have.length(0);
    });

    it('negotiates ALPN', async () => {
      const options = serverTLSOptions({
        key: certs.server.key,
        cert: certs.server.cert,
        alpnProtocols: ['h2', 'torsion/1'],
      });
      reactor.listenSSL(8443, new RecordingFactory(() => new TLSRecorder()), options);
      const clientFactory = new RecordingClientFactory(() => new TLSRecorder());
      reactor.connectSSL(
        'localhost',
        8443,
        clientFactory,
        optionsForClientTLS('localhost', {
          trustRoot: certs.ca.cert,
          alpnProtocols: ['torsion/1'],
        }),
      );
      const client = await clientFactory.firstBuilt;
      await client.made;
      expect(tls(client).negotiatedProtocol).to.equal('torsion/1');
    });

    it('reports a failed client handshake to clientConnectionFailed, and logs it at the server', async () => {
      const logs = LogCapture.start();
      try {
        const serverFactory = new RecordingFactory(() => new TLSRecorder());
        reactor.listenSSL(8443, serverFactory, serverTLSOptions(certs.wrongHost));
        const clientFactory = new RecordingClientFactory(() => new TLSRecorder());
        reactor.connectSSL('localhost', 8443, clientFactory, clientOptions);
        const reason = await clientFactory.failed;
        expect(tlsCode(reason)).to.equal('TORSION_ERR_TLS_HOSTNAME_MISMATCH');
        expect(clientFactory.built).to.have.length(0);
        await until(reactor, () => reactor.network.connections.length === 0);
        await until(reactor, () =>
          logs.events.some((e) => e.namespace === 'torsion.tls' && e.level === 'info'),
        );
        expect(serverFactory.built).to.have.length(0);
      } finally {
        logs.stop();
      }
    });

    it('logs a server handshake failure, costs only that connection, and serves the next', async () => {
      const logs = LogCapture.start();
      try {
        const serverFactory = new RecordingFactory(() => new TLSRecorder());
        reactor.listenSSL(8443, serverFactory, serverOptions);
        // A plaintext client: the server's handshake fails on its bytes.
        const plainFactory = new RecordingClientFactory(() => new TLSRecorder());
        reactor.connectTCP('localhost', 8443, plainFactory);
        const plain = await plainFactory.firstBuilt;
        await plain.made;
        plain.transport.write('GET / HTTP/1.0\r\n\r\n');
        await plain.lost;
        const event = logs.events.find((e) => e.namespace === 'torsion.tls');
        expect(event?.level).to.equal('info');
        expect(event?.fields.code).to.equal('TORSION_ERR_TLS_NOT_TLS');
        expect(event?.fields.peer).to.equal(plain.transport.getHost().toString());
        const clientFactory = new RecordingClientFactory(() => new TLSRecorder());
        reactor.connectSSL('localhost', 8443, clientFactory, clientOptions);
        const client = await clientFactory.firstBuilt;
        await client.made;
        // TLS 1.3: the server's side of the handshake ends after the client's.
        const [server] = await serverFactory.waitForBuilt(1);
        expect(server!.events.slice(0, 2)).to.deep.equal(['connectionMade', 'handshakeCompleted']);
      } finally {
        logs.stop();
      }
    });

    it('times a silent peer out with TORSION_ERR_TLS_HANDSHAKE_TIMEOUT, in virtual time', async () => {
      // A plain TCP server that never answers the ClientHello.
      reactor.listenTCP(8443, new RecordingFactory(() => new RecordingProtocol()));
      const clientFactory = new RecordingClientFactory(() => new TLSRecorder());
      reactor.connectSSL(
        'localhost',
        8443,
        clientFactory,
        optionsForClientTLS('localhost', { trustRoot: certs.ca.cert, handshakeTimeout: 5 }),
        { timeout: 60 },
      );
      const reason = await clientFactory.failed;
      expect(tlsCode(reason)).to.equal('TORSION_ERR_TLS_HANDSHAKE_TIMEOUT');
      expect(reactor.seconds()).to.be.within(5, 6);
    });

    it("applies connectSSL's timeout to the connection and the handshake together", async () => {
      reactor.listenTCP(8443, new RecordingFactory(() => new RecordingProtocol()));
      const clientFactory = new RecordingClientFactory(() => new TLSRecorder());
      reactor.connectSSL('localhost', 8443, clientFactory, clientOptions, { timeout: 2 });
      const reason = await clientFactory.failed;
      expect(reason.value).to.be.instanceOf(TimeoutError);
      expect(reactor.seconds()).to.be.within(2, 3);
      await until(reactor, () => reactor.network.connections.length === 0);
    });

    it('times a silent client out at the server, logging it', async () => {
      const logs = LogCapture.start();
      try {
        const options = serverTLSOptions({ ...certs.server, handshakeTimeout: 3 });
        reactor.listenSSL(8443, new RecordingFactory(() => new TLSRecorder()), options);
        const plainFactory = new RecordingClientFactory(() => new TLSRecorder());
        reactor.connectTCP('localhost', 8443, plainFactory);
        const plain = await plainFactory.firstBuilt;
        await plain.lost;
        expect(reactor.seconds()).to.be.within(3, 4);
        const event = logs.events.find((e) => e.namespace === 'torsion.tls');
        expect(event?.fields.code).to.equal('TORSION_ERR_TLS_HANDSHAKE_TIMEOUT');
      } finally {
        logs.stop();
      }
    });

    it('stopListening drops a handshake in progress: no server protocol is built', async () => {
      const slow = new SimulatedReactor({ seed: 3, link: { latency: 0.5 } });
      try {
        const serverFactory = new RecordingFactory(() => new TLSRecorder());
        const port = slow.listenSSL(8443, serverFactory, serverOptions);
        const clientFactory = new RecordingClientFactory(() => new TLSRecorder());
        slow.connectSSL('localhost', 8443, clientFactory, clientOptions);
        // The TCP connection is up by 1 s; the handshake needs two more round trips.
        slow.callLater(1.2, () => {
          expect(slow.network.connections.length, 'a connection in its handshake').to.equal(1);
          void port.stopListening();
        });
        const outcome = await Promise.race([clientFactory.failed, clientFactory.lost]);
        expect(outcome.value).to.be.instanceOf(Error);
        expect(serverFactory.built).to.have.length(0);
        expect(slow.seconds()).to.be.greaterThan(1.2);
      } finally {
        slow.autoAdvance = false;
      }
    });

    it('gives new connections the certificate set with setTLSOptions; open ones keep theirs', async () => {
      const port = reactor.listenSSL(
        8443,
        new RecordingFactory(() => new TLSRecorder()),
        serverTLSOptions(certs.sni),
      );
      const first = new RecordingClientFactory(() => new TLSRecorder());
      reactor.connectSSL(
        'localhost',
        8443,
        first,
        optionsForClientTLS('localhost', { trustRoot: certs.ca.cert, insecureSkipVerify: true }),
      );
      const one = await first.firstBuilt;
      await one.made;
      port.setTLSOptions(serverOptions);
      expect(() => {
        port.setTLSOptions(clientOptions as never);
      }).to.throw(TypeError);
      const second = new RecordingClientFactory(() => new TLSRecorder());
      reactor.connectSSL('localhost', 8443, second, clientOptions);
      const two = await second.firstBuilt;
      await two.made;
      expect(tls(one).getPeerCertificate()?.subjectaltname).to.include('sni.example');
      expect(tls(two).getPeerCertificate()?.subjectaltname).to.include('localhost');
      expect(tls(one).secure).to.equal(true);
    });

    it('rejects options made for the other side', () => {
      const factory = new RecordingFactory(() => new TLSRecorder());
      expect(() => reactor.listenSSL(8443, factory, clientOptions as never)).to.throw(TypeError);
      expect(() =>
        reactor.connectSSL(
          'localhost',
          8443,
          new RecordingClientFactory(() => new Protocol() as IProtocol as never),
          serverOptions as never,
        ),
      ).to.throw(TypeError);
    });
  });
});
