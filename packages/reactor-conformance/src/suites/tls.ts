/**
 * TLS: `listenSSL` / `connectSSL` with the protocol connected only after the
 * handshake, what the transport reports (certificate, version, cipher,
 * ALPN), verification on by default, mutual TLS, SNI, the handshake timeout,
 * close_notify on `loseConnection`, half-close, backpressure, `startTLS` on a
 * live plaintext connection, and an exception in `handshakeCompleted`.
 *
 * Run only for a reactor that has `listenSSL` (`IReactorSSL`); for any other
 * the whole section is pending, with the reason. Certificates are
 * `makeTestCertificates()`'s, made in memory.
 * @module
 */
import { describe, it } from 'mocha';
import { expect } from 'chai';
import {
  ConnectionAborted,
  ConnectionClosed,
  ConnectionDone,
  ConnectionLost,
  ConnectionRefusedError,
  TLSError,
  optionsForClientTLS,
  serverTLSOptions,
} from '@torsion/core';
import type { ClientTLSOptions, Failure, IReactor, TLSErrorCode } from '@torsion/core';
import {
  Eventual,
  RecordingClientFactory,
  RecordingFactory,
  RecordingProtocol,
} from '@torsion/core/testing';
import { Harness, LOOPBACK, reactorTest } from '../internal/harness.js';
import type { TestSpec } from '../internal/harness.js';
import { PatternChecker, PatternSource } from '../internal/pattern.js';
import { NEVER_PAUSED, NotReading, Streamer, untilHeldBack } from '../internal/producers.js';
import type { SuiteSettings } from '../internal/settings.js';
import {
  SERVER_NAME,
  TLSEcho,
  TLSHalfCloseRecordingProtocol,
  TLSRecordingProtocol,
  certificates,
  clientOptions,
  connectSSL,
  eventMentions,
  listenSSL,
  serverOptions,
  speaksTLS,
  tlsPair,
  tlsReactor,
} from '../internal/tls-connections.js';
import { expectLoggedOnce } from './fault-isolation.js';
import { expectLoopback } from './listening.js';

/** Reactor seconds a handshake may take in the timeout tests: short, so they end quickly. */
const SHORT_HANDSHAKE = 0.2;

/**
 * Why the section is pending for this reactor, or null when it runs. Asked of
 * one reactor made for the purpose (never run) when the suite is registered,
 * because mocha must know then which tests are pending.
 */
function whyNoTLS(settings: SuiteSettings): string | null {
  let reactor: IReactor;
  try {
    reactor = settings.makeReactor();
  } catch {
    // Let the tests run and report makeReactor's failure themselves.
    return null;
  }
  const speaks = speaksTLS(reactor);
  try {
    void Promise.resolve(settings.destroyReactor?.(reactor)).catch(() => undefined);
  } catch {
    // Cleanup of a reactor that was never run: nothing to report.
  }
  return speaks ? null : 'IReactorSSL (it has no listenSSL)';
}

/** Waits for a TLS event on the `torsion.tls` log namespace naming `code`, and returns it. */
async function tlsLogNaming(h: Harness, code: TLSErrorCode): Promise<void> {
  const named = () =>
    h.logs.events.find(
      (e) =>
        (e.namespace === 'torsion.tls' || e.namespace.startsWith('torsion.tls.')) &&
        eventMentions(e, code),
    );
  await h.until(() => named() !== undefined, `a torsion.tls log event naming ${code}`);
  expect(named()?.level, `the level ${code} is logged at`).to.equal('info');
}

/** Checks that `reason` is a TLSError with `code`. */
function expectTLSError(reason: Failure, code?: TLSErrorCode): void {
  expect(reason.check(TLSError), `a TLSError, not: ${reason.getErrorMessage()}`).to.equal(TLSError);
  const error = reason.value;
  if (code !== undefined && error instanceof TLSError) expect(error.code).to.equal(code);
}

/** Registers the TLS tests. */
export function tlsTests(settings: SuiteSettings): void {
  const noTLS = whyNoTLS(settings);
  const test = (title: string, body: (h: Harness) => Promise<void> | void, spec: TestSpec = {}) => {
    if (noTLS !== null) {
      // A known failure of a section that cannot run is not a typo: count it as matched.
      if (settings.knownFailures.has(title)) settings.matchedKnownFailures.add(title);
      it.skip(`${title} [reactor lacks: ${noTLS}]`);
      return;
    }
    reactorTest(settings, title, { needs: ['tls'], ...spec }, body);
  };

  describe('TLS', () => {
    describe('listenSSL and connectSSL', () => {
      test('listenSSL binds port 0 to a port whenListening and getHost report; connectSSL exchanges bytes both ways', async (h) => {
        const factory = new RecordingFactory(() => new TLSEcho());
        const port = tlsReactor(h).listenSSL(0, factory, serverOptions(), {
          interface: LOOPBACK,
        });
        expect(await port.whenListening()).to.equal(port);
        expectLoopback(port.getHost());
        const bound = port.getHost().port;
        const { client } = await connectSSL(h, bound, () => new TLSRecordingProtocol());
        client.transport.write('hello over TLS');
        client.transport.writeSequence([' and ', Buffer.from('more')]);
        await client.waitForBytes(23);
        expect(client.text()).to.equal('hello over TLS and more');
        const server = await factory.nth(1);
        expect(server.text()).to.equal('hello over TLS and more');
        // The same TCP addresses as a plaintext connection.
        expectLoopback(client.transport.getPeer(), bound);
        expectLoopback(server.transport.getHost(), bound);
        expectLoopback(server.transport.getPeer(), client.transport.getHost().port);
      });

      test('stopListening on a TLS port refuses new connections and keeps open ones, listed by the port', async (h) => {
        const { server, client, listening, port } = await tlsPair(
          h,
          () => new TLSEcho(),
          () => new TLSRecordingProtocol(),
        );
        await listening.stopListening();
        const refused = new RecordingClientFactory(() => new TLSRecordingProtocol());
        tlsReactor(h).connectSSL(LOOPBACK, port, refused, clientOptions());
        expect((await refused.failed).check(ConnectionRefusedError)).to.equal(
          ConnectionRefusedError,
        );
        expect(refused.built).to.have.length(0);
        client.transport.write('still open');
        await client.waitForBytes(10);
        expect(client.text()).to.equal('still open');
        expect(server.lostCount).to.equal(0);
        expect([...listening.connections()], 'the port lists its connection').to.deep.equal([
          server.transport,
        ]);
        client.transport.loseConnection();
        await server.lost;
        expect(listening.connectionCount, 'closed connections leave the list').to.equal(0);
      });

      test('connects the protocol only after the handshake: secure and the peer certificate in connectionMade, then handshakeCompleted once', async (h) => {
        const { server, client } = await tlsPair(
          h,
          () => new TLSRecordingProtocol(),
          () => new TLSRecordingProtocol(),
        );
        await client.handshakeDone;
        await server.handshakeDone;
        for (const [side, p] of [
          ['client', client],
          ['server', server],
        ] as const) {
          expect(p.seenAtConnectionMade?.secure, `${side}: secure in connectionMade`).to.equal(
            true,
          );
          expect(p.seenAtConnectionMade?.tlsVersion, `${side}: version`).to.be.oneOf([
            'TLSv1.2',
            'TLSv1.3',
          ]);
        }
        const certificate = client.seenAtConnectionMade?.peerCertificate;
        expect(certificate?.subject.CN, "the server certificate's CN").to.equal(SERVER_NAME);
        expect(certificate?.subjectaltname).to.include(`DNS:${SERVER_NAME}`);
        expect(server.tls.getPeerCertificate(), 'the client sent no certificate').to.equal(null);
        expect(client.tls.negotiatedProtocol, 'no ALPN was offered').to.equal(null);
        await h.wait(0.02);
        client.transport.loseConnection();
        await client.lost;
        await server.lost;
        for (const p of [client, server]) {
          expect(p.events).to.deep.equal([
            'connectionMade',
            'handshakeCompleted',
            'connectionLost',
          ]);
        }
      });

      test('reports the same TLS version, cipher and ALPN protocol on both ends', async (h) => {
        const { server, client } = await tlsPair(
          h,
          () => new TLSRecordingProtocol(),
          () => new TLSRecordingProtocol(),
          {
            server: serverOptions({ alpnProtocols: ['h2', 'torsion/1'] }),
            client: clientOptions(SERVER_NAME, { alpnProtocols: ['torsion/1', 'http/1.1'] }),
          },
        );
        for (const p of [client, server]) {
          expect(p.tls.secure).to.equal(true);
          expect(p.tls.getTLSVersion()).to.be.oneOf(['TLSv1.2', 'TLSv1.3']);
          const cipher = p.tls.getCipher();
          expect(cipher?.name).to.be.a('string').and.not.equal('');
          expect(cipher?.version).to.be.a('string');
          expect(p.tls.negotiatedProtocol).to.equal('torsion/1');
        }
        expect(client.tls.getTLSVersion()).to.equal(server.tls.getTLSVersion());
        expect(client.tls.getCipher()?.name).to.equal(server.tls.getCipher()?.name);
      });

      test(
        'SNI chooses the certificate: a client asking for sni.example gets that one, a client asking for localhost the main one',
        async (h) => {
          const { sni } = certificates();
          const factory = new RecordingFactory(() => new TLSEcho());
          const options = serverOptions({
            sni: { 'sni.example': { key: sni.key, cert: sni.cert } },
          });
          const port = (await listenSSL(h, factory, options)).getHost().port;
          const { client: bySni } = await connectSSL(
            h,
            port,
            () => new TLSRecordingProtocol(),
            clientOptions('sni.example'),
          );
          expect(bySni.tls.getPeerCertificate()?.subject.CN).to.equal('sni.example');
          const { client: byMain } = await connectSSL(h, port, () => new TLSRecordingProtocol());
          expect(byMain.tls.getPeerCertificate()?.subject.CN).to.equal(SERVER_NAME);
          byMain.transport.write('main');
          await byMain.waitForBytes(4);
        },
        { needs: ['tls', 'tlsSNI'] },
      );
    });

    describe('verification', () => {
      /**
       * Registers one rejection test: a server with the `certificate`
       * test certificate, a client verifying `localhost` against the test CA.
       */
      const rejects = (
        what: string,
        certificate: 'untrusted' | 'wrongHost' | 'expired',
        code: TLSErrorCode,
        accepting: () => ClientTLSOptions,
      ) => {
        test(`a client refuses ${what} with ${code} in clientConnectionFailed; the server keeps serving a client that accepts it`, async (h) => {
          const pair = certificates()[certificate];
          const serverFactory = new RecordingFactory(() => new TLSEcho());
          const options = serverTLSOptions({ key: pair.key, cert: pair.cert });
          const port = (await listenSSL(h, serverFactory, options)).getHost().port;
          const refusing = new RecordingClientFactory(() => new TLSRecordingProtocol());
          tlsReactor(h).connectSSL(LOOPBACK, port, refusing, clientOptions());
          expectTLSError(await refusing.failed, code);
          expect(refusing.built, 'a protocol was built for a failed handshake').to.have.length(0);
          expect(refusing.events).to.deep.equal(['startedConnecting', 'clientConnectionFailed']);

          const { client } = await connectSSL(
            h,
            port,
            () => new TLSRecordingProtocol(),
            accepting(),
          );
          client.transport.write('served');
          await client.waitForBytes(6);
          expect(client.text()).to.equal('served');
          expect(serverFactory.built, 'server protocols built').to.have.length(1);
        });
      };

      rejects(
        'a certificate from an untrusted CA',
        'untrusted',
        'TORSION_ERR_TLS_CERTIFICATE_UNTRUSTED',
        () => clientOptions(SERVER_NAME, { trustRoot: certificates().otherCa.cert }),
      );
      rejects(
        'a certificate for another host name',
        'wrongHost',
        'TORSION_ERR_TLS_HOSTNAME_MISMATCH',
        () => clientOptions('wrong.example'),
      );
      rejects(
        'an expired certificate',
        'expired',
        'TORSION_ERR_TLS_CERTIFICATE_EXPIRED',
        // Nothing valid accepts an expired certificate: only turning verification off does.
        () => optionsForClientTLS(SERVER_NAME, { insecureSkipVerify: true }),
      );

      test('a server that requires client certificates never connects a client without one, which ends with a TLSError; a client with one is served', async (h) => {
        const certs = certificates();
        const serverFactory = new RecordingFactory(() => new TLSEcho());
        const options = serverOptions({ clientCertificates: 'require', trustRoot: certs.ca.cert });
        const port = (await listenSSL(h, serverFactory, options)).getHost().port;
        const anonymous = new RecordingClientFactory(() => new TLSRecordingProtocol());
        tlsReactor(h).connectSSL(LOOPBACK, port, anonymous, clientOptions());
        // Under TLS 1.2 the handshake fails. Under TLS 1.3 the client finishes
        // its side before the server checks, so it may be connected and then
        // lose the connection: both are refusals.
        expectTLSError(await Promise.race([anonymous.failed, anonymous.lost]));

        const { client } = await connectSSL(
          h,
          port,
          () => new TLSRecordingProtocol(),
          clientOptions(SERVER_NAME, { clientCertificate: certs.client }),
        );
        client.transport.write('with a certificate');
        await client.waitForBytes(18);
        expect(serverFactory.built, 'server protocols built').to.have.length(1);
        const server = await serverFactory.nth(1);
        expect(server.tls.getPeerCertificate()?.subject.CN).to.equal('torsion-test-client');
      });
      test('a server that only requests client certificates serves a client without one, and refuses one whose certificate does not verify', async (h) => {
        const certs = certificates();
        const serverFactory = new RecordingFactory(() => new TLSEcho());
        const options = serverOptions({ clientCertificates: 'request', trustRoot: certs.ca.cert });
        const port = (await listenSSL(h, serverFactory, options)).getHost().port;
        const { client } = await connectSSL(h, port, () => new TLSRecordingProtocol());
        client.transport.write('anonymous');
        await client.waitForBytes(9);
        const anonymous = await serverFactory.nth(1);
        expect(anonymous.tls.getPeerCertificate(), 'no certificate was sent').to.equal(null);

        const untrusted = new RecordingClientFactory(() => new TLSRecordingProtocol());
        tlsReactor(h).connectSSL(
          LOOPBACK,
          port,
          untrusted,
          clientOptions(SERVER_NAME, { clientCertificate: certs.untrusted }),
        );
        await Promise.race([untrusted.failed, untrusted.lost]);
        await tlsLogNaming(h, 'TORSION_ERR_TLS_CERTIFICATE_UNTRUSTED');
        expect(serverFactory.built, 'server protocols built').to.have.length(1);
      });
    });

    describe('handshake timeout', () => {
      test('closes a TCP client that never sends a ClientHello after handshakeTimeout, logging TORSION_ERR_TLS_HANDSHAKE_TIMEOUT; no server protocol is built', async (h) => {
        const serverFactory = new RecordingFactory(() => new TLSEcho());
        const options = serverOptions({ handshakeTimeout: SHORT_HANDSHAKE });
        const port = (await listenSSL(h, serverFactory, options)).getHost().port;
        const silent = new RecordingClientFactory(() => new RecordingProtocol());
        h.reactor.connectTCP(LOOPBACK, port, silent);
        const raw = await silent.firstBuilt;
        await raw.made;
        expect((await raw.lost).check(ConnectionClosed)).to.equal(ConnectionClosed);
        expect(serverFactory.built, 'server protocols built').to.have.length(0);
        await tlsLogNaming(h, 'TORSION_ERR_TLS_HANDSHAKE_TIMEOUT');
        const { client } = await connectSSL(h, port, () => new TLSRecordingProtocol());
        client.transport.write('next');
        await client.waitForBytes(4);
      });

      test('connectSSL to a server that never answers fails with TORSION_ERR_TLS_HANDSHAKE_TIMEOUT after handshakeTimeout', async (h) => {
        const mute = new RecordingFactory(() => new RecordingProtocol());
        const port = (await h.listen(mute)).getHost().port;
        const factory = new RecordingClientFactory(() => new TLSRecordingProtocol());
        tlsReactor(h).connectSSL(
          LOOPBACK,
          port,
          factory,
          clientOptions(SERVER_NAME, { handshakeTimeout: SHORT_HANDSHAKE }),
        );
        expectTLSError(await factory.failed, 'TORSION_ERR_TLS_HANDSHAKE_TIMEOUT');
        expect(factory.built).to.have.length(0);
        const server = await mute.nth(1);
        expect((await server.lost).check(ConnectionClosed)).to.equal(ConnectionClosed);
        expect(server.byteCount, 'the ClientHello reached the server').to.be.above(0);
      });
    });

    describe('closing', () => {
      test('loseConnection flushes 1 MiB, then sends close_notify: both ends and clientConnectionLost see ConnectionDone', async (h) => {
        const total = 1024 * 1024;
        const { server, client, clientFactory } = await tlsPair(
          h,
          () => new TLSRecordingProtocol(),
          () => new TLSRecordingProtocol(),
        );
        const checker = new PatternChecker();
        client.sink = checker;
        server.transport.write(new PatternSource().next(total));
        server.transport.loseConnection();
        expect((await client.lost).check(ConnectionDone)).to.equal(ConnectionDone);
        expect(client.byteCount).to.equal(total);
        expect(checker.mismatchAt).to.equal(null);
        expect((await server.lost).check(ConnectionDone)).to.equal(ConnectionDone);
        expect((await clientFactory.lost).check(ConnectionDone)).to.equal(ConnectionDone);
      });

      test('loseConnection on the client end gives the server ConnectionDone', async (h) => {
        const { server, client } = await tlsPair(
          h,
          () => new TLSRecordingProtocol(),
          () => new TLSRecordingProtocol(),
        );
        client.transport.write('last words');
        client.transport.loseConnection();
        expect((await server.lost).check(ConnectionDone)).to.equal(ConnectionDone);
        expect(server.text()).to.equal('last words');
        expect((await client.lost).check(ConnectionDone)).to.equal(ConnectionDone);
      });

      test('abortConnection sends no close_notify: ConnectionAborted on the aborting end, one connectionLost that is not clean on the peer', async (h) => {
        const { server, client } = await tlsPair(
          h,
          () => new TLSRecordingProtocol(),
          () => new TLSRecordingProtocol(),
        );
        client.transport.abortConnection();
        expect((await client.lost).check(ConnectionAborted)).to.equal(ConnectionAborted);
        const remote = await server.lost;
        // As over TCP (see the closing tests), a kernel that turns the reset
        // into a FIN makes the peer see a close; it is never an abort.
        expect(remote.check(ConnectionLost, ConnectionDone)).to.not.equal(null);
        expect(remote.check(ConnectionAborted), 'the peer did not abort').to.equal(null);
        await h.wait(0.02);
        expect([client.lostCount, server.lostCount]).to.deep.equal([1, 1]);
      });

      test(
        "loseWriteConnection over TLS 1.3: the peer's readConnectionLost runs, it still writes back, and both close cleanly",
        async (h) => {
          class Answerer extends TLSHalfCloseRecordingProtocol {
            override readConnectionLost(): void {
              super.readConnectionLost();
              this.transport.write(`got ${String(this.byteCount)} bytes`);
              this.transport.loseConnection();
            }
          }
          const { server, client } = await tlsPair(
            h,
            () => new Answerer(),
            () => new TLSHalfCloseRecordingProtocol(),
            {
              server: serverOptions({ minVersion: 'TLSv1.3' }),
              client: clientOptions(SERVER_NAME, { minVersion: 'TLSv1.3' }),
            },
          );
          client.transport.write('request body');
          client.transport.loseWriteConnection();
          await client.writeLost;
          expect((await client.lost).check(ConnectionDone)).to.equal(ConnectionDone);
          expect(client.text()).to.equal('got 12 bytes');
          expect((await server.lost).check(ConnectionDone)).to.equal(ConnectionDone);
          expect(server.events).to.deep.equal([
            'connectionMade',
            'handshakeCompleted',
            'readConnectionLost',
            'connectionLost',
          ]);
          expect(client.events).to.include.members(['writeConnectionLost', 'readConnectionLost']);
        },
        { needs: ['tls', 'halfClose', 'tlsHalfClose'] },
      );
    });

    describe('backpressure', () => {
      test('pauses a streaming producer while the TLS peer does not read and resumes it when the peer reads; every byte arrives in order', async (h) => {
        const { server, client } = await tlsPair(
          h,
          () => new Streamer(h.reactor, NEVER_PAUSED, 'close'),
          () => new NotReading(),
        );
        const checker = new PatternChecker();
        client.sink = checker;
        server.startStreaming();
        await untilHeldBack(
          h,
          server,
          () => server.written,
          () => server.paused,
        );
        const resumes = server.resumes;
        client.transport.resumeProducing();
        while (server.resumes === resumes) await server.nextChange();
        server.finishSoon();
        expect((await client.lost).check(ConnectionDone)).to.equal(ConnectionDone);
        expect(client.byteCount).to.equal(server.written);
        expect(checker.mismatchAt).to.equal(null);
        expect(server.stops).to.equal(0);
      });

      test('a 4 MiB write to a TLS peer that is not reading is held, and arrives intact once it reads', async (h) => {
        const total = 4 * 1024 * 1024;
        const { server, client } = await tlsPair(
          h,
          () => new TLSRecordingProtocol(),
          () => new NotReading(),
        );
        const checker = new PatternChecker();
        client.sink = checker;
        server.transport.write(new PatternSource().next(total));
        await h.wait(0.05);
        expect(client.byteCount, 'delivered to a paused protocol').to.equal(0);
        client.transport.resumeProducing();
        await client.waitForBytes(total);
        expect(checker.mismatchAt).to.equal(null);
        server.transport.loseConnection();
        expect((await client.lost).check(ConnectionDone)).to.equal(ConnectionDone);
        expect(client.byteCount).to.equal(total);
      });
    });

    describe('startTLS', () => {
      const needs = { needs: ['startTLS'] } as const;

      test(
        'switches a plaintext connection: plaintext written before startTLS arrives first and in order, bytes written after arrive over TLS',
        async (h) => {
          const { server, client } = await h.pair(
            () => new StartTLSServer(),
            () => new StartTLSClient(),
          );
          // The client stopped reading after asking; the server answers with
          // more plaintext than the path holds, then switches at once: its
          // plaintext is still queued when startTLS() is called.
          await server.switched;
          expect(server.seenAtSwitch).to.deep.equal({ secure: false, tlsStarting: true });
          expect(server.received().subarray(0, server.plainBytes).toString()).to.equal(REQUEST);
          client.transport.resumeProducing();

          await client.switched;
          expect(client.seenAtSwitch).to.deep.equal({ secure: false, tlsStarting: true });
          expect(client.plain.mismatchAt, 'plaintext reordered or damaged').to.equal(null);
          expect(client.plain.position).to.equal(PLAINTEXT);
          expect(client.marker).to.equal(READY);
          expect(client.extraInSwitchChunk, 'bytes after READY in its chunk').to.equal(0);

          await client.handshakeDone;
          await server.handshakeDone;
          await client.waitForEncrypted(SERVER_SECRET.length);
          await server.waitForBytes(server.plainBytes + CLIENT_SECRET.length);
          expect(Buffer.concat(client.encrypted).toString()).to.equal(SERVER_SECRET);
          expect(server.received().subarray(server.plainBytes).toString()).to.equal(CLIENT_SECRET);
          for (const p of [client, server]) {
            expect(p.tls.secure).to.equal(true);
            expect(p.events).to.deep.equal(['connectionMade', 'tlsStarting', 'handshakeCompleted']);
          }
          expect(client.tls.getPeerCertificate()?.subject.CN).to.equal(SERVER_NAME);
          client.transport.loseConnection();
          expect((await server.lost).check(ConnectionDone)).to.equal(ConnectionDone);
          expect((await client.lost).check(ConnectionDone)).to.equal(ConnectionDone);
        },
        needs,
      );

      test(
        'startTLS against a peer that never switches ends the connection with a TLSError in connectionLost',
        async (h) => {
          class PlaintextOnly extends RecordingProtocol {
            override dataReceived(data: Buffer): void {
              const first = this.byteCount === 0;
              super.dataReceived(data);
              if (first) this.transport.write('this peer speaks plaintext only, sorry\r\n');
            }
          }
          const { server, client } = await h.pair(
            () => new PlaintextOnly(),
            () => new TLSRecordingProtocol(),
          );
          // The handshake timeout ends it too, should the answer not.
          client.tls.startTLS(clientOptions(SERVER_NAME, { handshakeTimeout: 2 }));
          expect(client.events, 'tlsStarting runs inside startTLS').to.deep.equal([
            'connectionMade',
            'tlsStarting',
          ]);
          expectTLSError(await client.lost);
          expect(client.events).to.deep.equal(['connectionMade', 'tlsStarting', 'connectionLost']);
          expect(client.tls.secure).to.equal(false);
          expect(client.byteCount, 'plaintext delivered after startTLS').to.equal(0);
          expect((await server.lost).check(ConnectionClosed)).to.equal(ConnectionClosed);
        },
        needs,
      );
      test(
        'startTLS with client certificates requested refuses a certificate that does not verify: connectionLost with a TLSError on the server, never secure',
        async (h) => {
          const certs = certificates();
          const { server, client } = await h.pair(
            () => new TLSRecordingProtocol(),
            () => new TLSRecordingProtocol(),
          );
          server.tls.startTLS(
            serverOptions({ clientCertificates: 'request', trustRoot: certs.ca.cert }),
          );
          client.tls.startTLS(clientOptions(SERVER_NAME, { clientCertificate: certs.untrusted }));
          const reason = await server.lost;
          expectTLSError(reason, 'TORSION_ERR_TLS_CERTIFICATE_UNTRUSTED');
          expect(server.events).to.deep.equal(['connectionMade', 'tlsStarting', 'connectionLost']);
          expect(server.tls.secure).to.equal(false);
          await client.lost;
        },
        needs,
      );
    });

    describe('fault isolation', () => {
      test(
        'an exception in handshakeCompleted is logged and costs only that connection',
        async (h) => {
          const thrown = new Error('handshake listener trouble');
          let first = true;
          class Fragile extends TLSEcho {
            override handshakeCompleted(): void {
              super.handshakeCompleted();
              if (!first) return;
              first = false;
              throw thrown;
            }
          }
          const serverFactory = new RecordingFactory(() => new Fragile());
          const port = (await listenSSL(h, serverFactory, serverOptions())).getHost().port;
          const victim = new RecordingClientFactory(() => new TLSRecordingProtocol());
          tlsReactor(h).connectSSL(LOOPBACK, port, victim, clientOptions());
          const server = await serverFactory.nth(1);
          const reason = await server.lost;
          expect(reason.check(ConnectionLost)).to.equal(ConnectionLost);
          expect(reason.value.cause).to.equal(thrown);
          expect(server.events).to.deep.equal([
            'connectionMade',
            'handshakeCompleted',
            'connectionLost',
          ]);
          // The client may have finished its side of the handshake first.
          await Promise.race([victim.failed, victim.lost]);

          const { client } = await connectSSL(h, port, () => new TLSRecordingProtocol());
          client.transport.write('still here');
          await client.waitForBytes(10);
          expect(client.text()).to.equal('still here');
          expectLoggedOnce(h, thrown);
        },
        { logsErrors: true },
      );
    });
  });
}

/** What the client asks for in plaintext before the switch. */
const REQUEST = 'HELLO\nSTARTTLS\n';
/** Plaintext the server answers with before switching: more than a loopback path holds. */
const PLAINTEXT = 8 * 1024 * 1024;
/** The end of the server's plaintext. */
const READY = 'READY\n';
const SERVER_SECRET = 'secret from the server';
const CLIENT_SECRET = 'secret from the client';

/** What a side saw as it called startTLS. */
interface SeenAtSwitch {
  /** `transport.secure` just before the call. */
  readonly secure: boolean;
  /** Whether `tlsStarting` had run when the call returned. */
  readonly tlsStarting: boolean;
}

/**
 * The server of a STARTTLS exchange: on the client's request it writes
 * {@link PLAINTEXT} bytes and {@link READY}, switches to TLS (as the TLS
 * server), and at once writes {@link SERVER_SECRET}, which must go out encrypted.
 */
class StartTLSServer extends TLSRecordingProtocol {
  readonly switched = new Eventual<void>();
  seenAtSwitch: SeenAtSwitch | null = null;
  /** Plaintext bytes received before the switch. */
  plainBytes = 0;

  override dataReceived(data: Buffer): void {
    super.dataReceived(data);
    if (this.switched.called || !this.text().endsWith('STARTTLS\n')) return;
    this.plainBytes = this.byteCount;
    this.transport.write(new PatternSource().next(PLAINTEXT));
    this.transport.write(READY);
    this.seenAtSwitch = switchToTLS(this, serverOptions());
    this.transport.write(SERVER_SECRET);
    this.switched.callback();
  }
}

/**
 * The client of a STARTTLS exchange: asks, stops reading (the test resumes
 * it), checks the server's plaintext as it arrives, and once it has all of it
 * switches to TLS (as the TLS client) and at once writes {@link CLIENT_SECRET}.
 */
class StartTLSClient extends TLSRecordingProtocol {
  readonly switched = new Eventual<void>();
  seenAtSwitch: SeenAtSwitch | null = null;
  /** Checks the server's plaintext. */
  readonly plain = new PatternChecker();
  /** What followed the plaintext before the switch (should be {@link READY}). */
  marker = '';
  /** Bytes that came in the same chunk after the marker: none should. */
  extraInSwitchChunk = 0;
  /** What arrived after the switch. */
  readonly encrypted: Buffer[] = [];
  #encryptedBytes = 0;
  #encryptedWaiters: { bytes: number; ready: Eventual<void> }[] = [];

  constructor() {
    super();
    this.sink = {
      feed: (data: Buffer): void => {
        this.#feed(data);
      },
    };
  }

  override connectionMade(): void {
    super.connectionMade();
    this.transport.write(REQUEST);
    this.transport.pauseProducing();
  }

  override dataReceived(data: Buffer): void {
    super.dataReceived(data);
    if (this.switched.called || this.marker.length < READY.length) return;
    this.seenAtSwitch = switchToTLS(this, clientOptions());
    this.transport.write(CLIENT_SECRET);
    this.switched.callback();
  }

  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    for (const w of this.#encryptedWaiters) w.ready.callback();
    this.#encryptedWaiters = [];
  }

  /** Resolves once `bytes` bytes arrived after the switch. @throws Error if the connection is lost first. */
  async waitForEncrypted(bytes: number): Promise<void> {
    if (this.#encryptedBytes < bytes && !this.lost.called) {
      const ready = new Eventual<void>();
      this.#encryptedWaiters.push({ bytes, ready });
      await ready;
    }
    if (this.#encryptedBytes < bytes) {
      throw new Error(
        `connection lost after ${String(this.#encryptedBytes)} of ${String(bytes)} bytes over TLS`,
      );
    }
  }

  #feed(data: Buffer): void {
    if (this.switched.called) {
      this.encrypted.push(data);
      this.#encryptedBytes += data.length;
      this.#encryptedWaiters = this.#encryptedWaiters.filter((w) => {
        if (this.#encryptedBytes < w.bytes) return true;
        w.ready.callback();
        return false;
      });
      return;
    }
    const plain = Math.min(data.length, PLAINTEXT - this.plain.position);
    if (plain > 0) this.plain.feed(data.subarray(0, plain));
    const rest = data.subarray(plain);
    const marker = Math.min(rest.length, READY.length - this.marker.length);
    this.marker += rest.subarray(0, marker).toString('latin1');
    this.extraInSwitchChunk += rest.length - marker;
  }
}

/** Calls startTLS on `protocol`'s transport and says what was seen around the call. */
function switchToTLS(
  protocol: TLSRecordingProtocol,
  options: Parameters<TLSRecordingProtocol['tls']['startTLS']>[0],
): SeenAtSwitch {
  const secure = protocol.tls.secure;
  protocol.tls.startTLS(options);
  return { secure, tlsStarting: protocol.events.includes('tlsStarting') };
}
