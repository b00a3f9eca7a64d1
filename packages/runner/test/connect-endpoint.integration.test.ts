// connectEndpoint(): a parsed tcp: or tls: client endpoint, connected on a
// real NodeReactor to an echo server over loopback: the TLS client verifies
// the server against caCerts (and fails with a TLSError against the system
// roots), presents a client certificate from its files, and a reactor
// without connectSSL is refused by name.
import {
  ClientFactory,
  Deferred,
  NodeReactor,
  Protocol,
  serverTLSOptions,
  TLSError,
  type Failure,
  type IConnector,
  type IListeningPort,
} from '@torsion/core';
import { EchoFactory } from '@torsion/echo';
import { makeTestCertificates, writeTestCertificates } from '@torsion/core/testing';
import type { TestCertificateFiles } from '@torsion/core/testing';
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseClientEndpoint } from '../src/client-endpoint.js';
import { connectEndpoint } from '../src/connect-endpoint.js';
import { EndpointError } from '../src/endpoint.js';
import { CertificateFilesError } from '../src/tls-files.js';

/** Sends one message on connect and fires with the first reply. */
class SendOne extends Protocol {
  constructor(
    private readonly message: string,
    private readonly result: Deferred<string>,
  ) {
    super();
  }
  override connectionMade(): void {
    this.transport.write(this.message);
  }
  override dataReceived(data: Uint8Array): void {
    this.result.callback(Buffer.from(data).toString());
    this.transport.loseConnection();
  }
}

/** Fires `result` with the first reply to `message`, or the failure to connect. */
class OneRoundTrip extends ClientFactory {
  readonly result = new Deferred<string>();
  constructor(private readonly message: string) {
    super();
  }
  override buildProtocol(): SendOne {
    return new SendOne(this.message, this.result);
  }
  override clientConnectionFailed(_connector: IConnector, reason: Failure): void {
    this.result.errback(reason);
  }
}

async function outcome(factory: OneRoundTrip): Promise<string | Error> {
  try {
    return await factory.result;
  } catch (err) {
    return err as Error;
  }
}

describe('connectEndpoint', function () {
  this.timeout(15_000);
  const certs = makeTestCertificates();
  let reactor: NodeReactor;
  let dir = '';
  let files: TestCertificateFiles;
  const ports: IListeningPort[] = [];

  beforeEach(() => {
    reactor = new NodeReactor({ installSignalHandlers: false });
    dir = mkdtempSync(join(tmpdir(), 'torsion-runner-connect-'));
    files = writeTestCertificates(dir);
  });
  afterEach(async () => {
    await Promise.all(ports.splice(0).map((port) => port.stopListening()));
    rmSync(dir, { recursive: true, force: true });
  });

  async function tlsEchoServer(clientCertificates: 'none' | 'require' = 'none'): Promise<number> {
    const options = serverTLSOptions({
      key: certs.server.key,
      cert: certs.server.cert,
      ...(clientCertificates === 'none' ? {} : { trustRoot: certs.ca.cert, clientCertificates }),
    });
    const port = reactor.listenSSL(0, new EchoFactory(), options, { interface: '127.0.0.1' });
    ports.push(port);
    await port.whenListening();
    return port.getHost().port;
  }

  it('connects tcp: endpoints with connectTCP', async () => {
    const port = reactor.listenTCP(0, new EchoFactory(), { interface: '127.0.0.1' });
    ports.push(port);
    await port.whenListening();
    const factory = new OneRoundTrip('plain');
    connectEndpoint(
      reactor,
      parseClientEndpoint(`tcp:127.0.0.1:${String(port.getHost().port)}:timeout=5`),
      factory,
    );
    expect(await outcome(factory)).to.equal('plain');
  });

  it('connects tls: endpoints, verifying the server against caCerts (relative to cwd)', async () => {
    const port = await tlsEchoServer();
    const factory = new OneRoundTrip('secret');
    connectEndpoint(
      reactor,
      parseClientEndpoint(`tls:localhost:${String(port)}:caCerts=ca.pem`),
      factory,
      dir,
    );
    expect(await outcome(factory)).to.equal('secret');
  });

  it('fails with a TLSError when the server is not trusted (the system roots)', async () => {
    const port = await tlsEchoServer();
    const factory = new OneRoundTrip('secret');
    connectEndpoint(reactor, parseClientEndpoint(`tls:localhost:${String(port)}`), factory);
    const result = await outcome(factory);
    expect(result).to.be.instanceOf(TLSError);
    expect((result as TLSError).code).to.equal('TORSION_ERR_TLS_CERTIFICATE_UNTRUSTED');
  });

  it("fails with a TLSError when the certificate does not name the endpoint's host", async () => {
    const options = serverTLSOptions({ key: certs.wrongHost.key, cert: certs.wrongHost.cert });
    const listening = reactor.listenSSL(0, new EchoFactory(), options, { interface: '127.0.0.1' });
    ports.push(listening);
    await listening.whenListening();
    const factory = new OneRoundTrip('secret');
    connectEndpoint(
      reactor,
      parseClientEndpoint(
        `tls:localhost:${String(listening.getHost().port)}:caCerts=${files.caCert}:timeout=5`,
      ),
      factory,
    );
    const result = await outcome(factory);
    expect(result).to.be.instanceOf(TLSError);
    expect((result as TLSError).code).to.equal('TORSION_ERR_TLS_HOSTNAME_MISMATCH');
  });

  it('presents the client certificate from certificate= and privateKey=', async () => {
    const port = await tlsEchoServer('require');
    const factory = new OneRoundTrip('mutual');
    connectEndpoint(
      reactor,
      parseClientEndpoint(
        `tls:localhost:${String(port)}:caCerts=ca.pem:certificate=client.pem:privateKey=client.key`,
      ),
      factory,
      dir,
    );
    expect(await outcome(factory)).to.equal('mutual');
  });

  it('throws CertificateFilesError naming the file when one cannot be used', () => {
    expect(() =>
      connectEndpoint(
        reactor,
        parseClientEndpoint('tls:localhost:1:certificate=client.pem:privateKey=server.key'),
        new OneRoundTrip(''),
        dir,
      ),
    ).to.throw(
      CertificateFilesError,
      /^tls:localhost:1:certificate=client\.pem:privateKey=server\.key: cannot use the certificate files: .*the private key \(.*server\.key\) does not belong to the certificate \(.*client\.pem\)$/,
    );
  });

  it('refuses a tls: endpoint on a reactor without connectSSL, naming both', () => {
    Object.assign(reactor, { connectSSL: undefined });
    expect(() =>
      connectEndpoint(reactor, parseClientEndpoint('tls:localhost:1'), new OneRoundTrip('')),
    ).to.throw(
      EndpointError,
      'reactor NodeReactor cannot connect to tls:localhost:1: it does not implement connectSSL (IReactorSSL)',
    );
  });
});
