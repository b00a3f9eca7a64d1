// Real-socket tests of mutual TLS on NodeReactor: a listenSSL server that
// requires or requests client certificates, and connectSSL clients with a
// good certificate, none, or one from a CA the server does not trust.
//
// What a refused client sees depends on TLS 1.3's message order: the client
// sends its certificate with its Finished message and its side of the
// handshake is then complete, before the server has judged the certificate.
// So a connectSSL client refused by the server is connected first
// (connectionMade runs) and then loses the connection: with a TLSError
// (TORSION_ERR_TLS_CLIENT_CERTIFICATE_REQUIRED) when it sent no certificate,
// since OpenSSL answers with a certificate_required alert; with whatever the
// closed connection gives when its certificate did not verify, since Node
// (like tls.Server) then closes without an alert. The server never builds a
// protocol for it and logs the refusal.
import { expect } from 'chai';
import type { LogEvent } from '../src/log.js';
import { NodeReactor } from '../src/node-reactor.js';
import { LogCapture } from '../src/testing/log-capture.js';
import { RecordingClientFactory, RecordingFactory } from '../src/testing/index.js';
import { optionsForClientTLS, type ClientTLSOptionsInit } from '../src/tls-options.js';
import {
  certs,
  serverOptions,
  TLSEchoProtocol,
  TLSRecordingProtocol,
  tlsCode,
} from './support/tls-helpers.js';
import { until } from './support/tcp-helpers.js';

describe('NodeReactor mutual TLS (integration)', () => {
  let reactor: NodeReactor;
  let done: Promise<void>;
  let logs: LogCapture;

  beforeEach(() => {
    reactor = new NodeReactor({ installSignalHandlers: false, shutdownGracePeriod: 1 });
    done = reactor.run();
    logs = LogCapture.start();
  });

  afterEach(async () => {
    logs.stop();
    if (reactor.running) {
      reactor.stop();
      await done;
    }
  });

  function handshakeFailures(): LogEvent[] {
    return logs.events.filter((e) => e.namespace === 'torsion.tls' && e.fields.code !== undefined);
  }

  async function listen(clientCertificates: 'request' | 'require') {
    const factory = new RecordingFactory(() => new TLSEchoProtocol());
    const listening = reactor.listenSSL(
      0,
      factory,
      serverOptions({ clientCertificates, trustRoot: certs.ca.cert }),
      { interface: '127.0.0.1' },
    );
    await listening.whenListening();
    return { port: listening.getHost().port, factory };
  }

  function connect(port: number, init: ClientTLSOptionsInit = {}) {
    const factory = new RecordingClientFactory(() => new TLSRecordingProtocol());
    reactor.connectSSL(
      '127.0.0.1',
      port,
      factory,
      optionsForClientTLS('localhost', { trustRoot: certs.ca.cert, ...init }),
    );
    return factory;
  }

  describe("clientCertificates: 'require'", () => {
    it("connects a client with a certificate from the trusted CA; the server's protocol sees it at connectionMade", async () => {
      const { port, factory: serverFactory } = await listen('require');
      const factory = connect(port, { clientCertificate: certs.client });
      const client = await factory.firstBuilt;
      await client.made;
      const server = await serverFactory.nth(1);
      await server.made;
      expect(server.snapshot!.peerCertificate!.subject.CN).to.equal('torsion-test-client');
      expect(server.tls.getPeerCertificate()!.issuer).to.deep.equal(
        client.snapshot!.peerCertificate!.issuer,
      );
      client.transport.write('mutual');
      expect((await client.waitForBytes(6)).toString()).to.equal('mutual');
      expect(handshakeFailures()).to.deep.equal([]);
    });

    it('refuses a client without a certificate: the server logs TORSION_ERR_TLS_CLIENT_CERTIFICATE_REQUIRED; the client (TLS 1.3) is connected, then loses the connection with that TLSError', async () => {
      const { port, factory: serverFactory } = await listen('require');
      const factory = connect(port);
      const client = await factory.firstBuilt;
      const reason = await client.lost;
      expect(client.events[0]).to.equal('connectionMade');
      expect(tlsCode(reason)).to.equal('TORSION_ERR_TLS_CLIENT_CERTIFICATE_REQUIRED');
      expect(tlsCode(await factory.lost)).to.equal('TORSION_ERR_TLS_CLIENT_CERTIFICATE_REQUIRED');
      await until(() => handshakeFailures().length === 1);
      const [event] = handshakeFailures();
      expect(event!.level).to.equal('info');
      expect(event!.fields.code).to.equal('TORSION_ERR_TLS_CLIENT_CERTIFICATE_REQUIRED');
      expect(serverFactory.built).to.have.length(0);
    });

    it('refuses a client whose certificate comes from an untrusted CA: the server logs TORSION_ERR_TLS_CERTIFICATE_UNTRUSTED and closes; the client loses the connection', async () => {
      const { port, factory: serverFactory } = await listen('require');
      const factory = connect(port, { clientCertificate: certs.untrusted });
      const client = await factory.firstBuilt;
      await client.lost;
      await until(() => handshakeFailures().length === 1);
      expect(handshakeFailures()[0]!.fields.code).to.equal('TORSION_ERR_TLS_CERTIFICATE_UNTRUSTED');
      expect(serverFactory.built).to.have.length(0);
    });
  });

  describe("clientCertificates: 'request'", () => {
    it('connects a client without a certificate; getPeerCertificate() is null on the server', async () => {
      const { port, factory: serverFactory } = await listen('request');
      const client = await connect(port).firstBuilt;
      await client.made;
      const server = await serverFactory.nth(1);
      await server.made;
      expect(server.snapshot!.peerCertificate).to.equal(null);
      client.transport.write('anonymous');
      expect((await client.waitForBytes(9)).toString()).to.equal('anonymous');
    });

    it('connects a client with a good certificate and shows it', async () => {
      const { port, factory: serverFactory } = await listen('request');
      await (
        await connect(port, { clientCertificate: certs.client }).firstBuilt
      ).made;
      const server = await serverFactory.nth(1);
      await server.made;
      expect(server.snapshot!.peerCertificate!.subject.CN).to.equal('torsion-test-client');
    });

    it('refuses a certificate that does not verify (a certificate shown by getPeerCertificate() is always a verified one)', async () => {
      const { port, factory: serverFactory } = await listen('request');
      const client = await connect(port, { clientCertificate: certs.untrusted }).firstBuilt;
      await client.lost;
      await until(() => handshakeFailures().length === 1);
      expect(handshakeFailures()[0]!.fields.code).to.equal('TORSION_ERR_TLS_CERTIFICATE_UNTRUSTED');
      expect(serverFactory.built).to.have.length(0);
    });
  });
});
