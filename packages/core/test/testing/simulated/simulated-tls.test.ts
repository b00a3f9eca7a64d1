// Tests of TLS on the SimulatedReactor: startTLS on simulated transports, and
// listenSSL/connectSSL, with real TLS (Node's engine) across the simulated
// network in virtual time.
import { expect } from 'chai';

import { ConnectionDone, TLSError } from '../../../src/errors.js';
import type { Failure } from '../../../src/failure.js';
import type { ITLSTransport } from '../../../src/interfaces.js';
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
});
