// Tests for the endpoints on a real NodeReactor over loopback: clientFromString's tcp: and tls:
// endpoints (verifying the server against caCerts, failing with a TLSError against the system
// roots, presenting a client certificate from its files, refusing a reactor without connectSSL by
// name), serverFromString's tcp: and ssl:, HostnameEndpoint racing ::1 and 127.0.0.1, and a cancel
// that leaves no socket.
import { expect } from 'chai';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IAddress } from '../../src/address.js';
import { Deferred } from '../../src/deferred.js';
import {
  CertificateFilesError,
  clientFromString,
  ConnectingCancelledError,
  datagramServerFromString,
  EndpointError,
  HostnameEndpoint,
  serverFromString,
  StaticNameResolver,
} from '../../src/endpoints/index.js';
import { ConnectionRefusedError, TLSError } from '../../src/errors.js';
import { Factory } from '../../src/factory.js';
import type { IEndpointProtocolFactory, IListeningPort, IProtocol } from '../../src/interfaces.js';
import { NodeReactor } from '../../src/node-reactor.js';
import { Protocol } from '../../src/protocol.js';
import { makeTestCertificates, writeTestCertificates } from '../../src/testing/index.js';
import type { TestCertificateFiles } from '../../src/testing/index.js';
import { serverTLSOptions } from '../../src/tls-options.js';

/** The port number of a port listening on an IP address. */
function portOf(port: IListeningPort<IAddress>): number {
  const host = port.getHost();
  if (host.type === 'UNIX') throw new Error(`not an IP port: ${host.toString()}`);
  return host.port;
}

class Echo extends Protocol {
  override dataReceived(data: Buffer): void {
    this.transport.write(data);
  }
}

class EchoFactory extends Factory {
  override buildProtocol(): IProtocol {
    return new Echo();
  }
}

/** Sends one message once connected and fires `reply` with the first answer. */
class SendOne extends Protocol {
  readonly reply = new Deferred<string>();
  constructor(private readonly message: string) {
    super();
  }
  override connectionMade(): void {
    this.transport.write(this.message);
  }
  override dataReceived(data: Buffer): void {
    this.reply.callback(data.toString());
    this.transport.loseConnection();
  }
}

function sendOne(message: string): IEndpointProtocolFactory<SendOne> {
  return { buildProtocol: () => new SendOne(message), doStart() {}, doStop() {} };
}

/** The reply to `message` over `description`, or the error connecting. */
async function roundTrip(
  reactor: NodeReactor,
  description: string,
  message: string,
  cwd?: string,
): Promise<string | Error> {
  try {
    const protocol = await clientFromString(
      reactor,
      description,
      cwd === undefined ? {} : { cwd },
    ).connect(sendOne(message));
    return await protocol.reply;
  } catch (err) {
    return err as Error;
  }
}

describe('clientFromString on a NodeReactor (loopback)', function () {
  this.timeout(15_000);
  const certs = makeTestCertificates();
  let reactor: NodeReactor;
  let dir = '';
  let files: TestCertificateFiles;
  const ports: IListeningPort<IAddress>[] = [];

  beforeEach(() => {
    reactor = new NodeReactor({ installSignalHandlers: false });
    dir = mkdtempSync(join(tmpdir(), 'torsion-endpoints-'));
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
    return portOf(port);
  }

  it('connects tcp: endpoints with connectTCP', async () => {
    const port = reactor.listenTCP(0, new EchoFactory(), { interface: '127.0.0.1' });
    ports.push(port);
    await port.whenListening();
    expect(
      await roundTrip(reactor, `tcp:127.0.0.1:${String(portOf(port))}:timeout=5`, 'plain'),
    ).to.equal('plain');
  });

  it('connects tls: endpoints, verifying the server against caCerts (relative to cwd)', async () => {
    const port = await tlsEchoServer();
    expect(
      await roundTrip(reactor, `tls:localhost:${String(port)}:caCerts=ca.pem`, 'secret', dir),
    ).to.equal('secret');
  });

  it('fails with a TLSError when the server is not trusted (the system roots)', async () => {
    const port = await tlsEchoServer();
    const result = await roundTrip(reactor, `tls:localhost:${String(port)}`, 'secret');
    expect(result).to.be.instanceOf(TLSError);
    expect((result as TLSError).code).to.equal('TORSION_ERR_TLS_CERTIFICATE_UNTRUSTED');
  });

  it("fails with a TLSError when the certificate does not name the endpoint's host", async () => {
    const options = serverTLSOptions({ key: certs.wrongHost.key, cert: certs.wrongHost.cert });
    const listening = reactor.listenSSL(0, new EchoFactory(), options, { interface: '127.0.0.1' });
    ports.push(listening);
    await listening.whenListening();
    const result = await roundTrip(
      reactor,
      `tls:localhost:${String(portOf(listening))}:caCerts=${files.caCert}:timeout=5`,
      'secret',
    );
    expect(result).to.be.instanceOf(TLSError);
    expect((result as TLSError).code).to.equal('TORSION_ERR_TLS_HOSTNAME_MISMATCH');
  });

  it('presents the client certificate from certificate= and privateKey=', async () => {
    const port = await tlsEchoServer('require');
    expect(
      await roundTrip(
        reactor,
        `tls:localhost:${String(port)}:caCerts=ca.pem:certificate=client.pem:privateKey=client.key`,
        'mutual',
        dir,
      ),
    ).to.equal('mutual');
  });

  it('throws CertificateFilesError naming the file when one cannot be used', () => {
    expect(() =>
      clientFromString(reactor, 'tls:localhost:1:certificate=client.pem:privateKey=server.key', {
        cwd: dir,
      }),
    ).to.throw(
      CertificateFilesError,
      /^tls:localhost:1:certificate=client\.pem:privateKey=server\.key: cannot use the certificate files: .*the private key \(.*server\.key\) does not belong to the certificate \(.*client\.pem\)$/,
    );
  });

  it('refuses a tls: endpoint on a reactor without connectSSL, naming both', () => {
    Object.assign(reactor, { connectSSL: undefined });
    expect(() => clientFromString(reactor, 'tls:localhost:1')).to.throw(
      EndpointError,
      'reactor NodeReactor cannot connect to tls:localhost:1: it does not implement connectSSL (IReactorSSL)',
    );
  });

  it('serves tcp: and ssl: endpoints from strings, the ssl: one with files relative to cwd', async () => {
    const tcp = await serverFromString(reactor, 'tcp:0:interface=127.0.0.1').listen(
      new EchoFactory(),
    );
    ports.push(tcp);
    expect(await roundTrip(reactor, `tcp:127.0.0.1:${String(portOf(tcp))}`, 'a')).to.equal('a');
    const ssl = await serverFromString(
      reactor,
      'ssl:0:privateKey=server.key:certKey=server.pem:interface=127.0.0.1',
      { cwd: dir },
    ).listen(new EchoFactory());
    ports.push(ssl);
    expect(
      await roundTrip(reactor, `tls:localhost:${String(portOf(ssl))}:caCerts=ca.pem`, 'b', dir),
    ).to.equal('b');
  });

  it('HostnameEndpoint: a name for ::1 and 127.0.0.1 connects to whichever listens', async function () {
    const port = await serverFromString(reactor, 'tcp:0:interface=127.0.0.1').listen(
      new EchoFactory(),
    );
    ports.push(port);
    const resolver = new StaticNameResolver({ 'both.test': ['::1', '127.0.0.1'] });
    const endpoint = new HostnameEndpoint(reactor, 'both.test', portOf(port), { resolver });
    const protocol = await endpoint.connect(sendOne('raced'));
    expect(await protocol.reply).to.equal('raced');
    expect(protocol.transport.getPeer()).to.include({ host: '127.0.0.1' });
  });

  it('HostnameEndpoint: every address refused is one error listing both', async () => {
    const port = await serverFromString(reactor, 'tcp:0:interface=127.0.0.1').listen(
      new EchoFactory(),
    );
    const number = portOf(port);
    await port.stopListening();
    const resolver = new StaticNameResolver({ 'none.test': ['::1', '127.0.0.1'] });
    const failure = await new HostnameEndpoint(reactor, 'none.test', number, { resolver })
      .connect(sendOne(''))
      .then(
        () => null,
        (err: unknown) => err,
      );
    expect(failure).to.have.property('attempts').with.length(2);
    for (const { error } of (failure as { attempts: { error: Error }[] }).attempts) {
      expect(error).to.be.instanceOf(ConnectionRefusedError);
    }
  });

  it('cancelling a connect in progress fails with ConnectingCancelledError and leaves no connection', async () => {
    let accepted = 0;
    const counting = new EchoFactory();
    const build = counting.buildProtocol.bind(counting);
    counting.buildProtocol = () => {
      accepted++;
      return build();
    };
    const tls = await serverFromString(
      reactor,
      'ssl:0:privateKey=server.key:certKey=server.pem:interface=127.0.0.1',
      { cwd: dir },
    ).listen(counting);
    ports.push(tls);
    // TLS: the attempt is still connecting until the handshake completes, a few turns later.
    const attempt = clientFromString(
      reactor,
      `tls:localhost:${String(portOf(tls))}:caCerts=ca.pem`,
      {
        cwd: dir,
      },
    ).connect(sendOne('x'));
    attempt.cancel();
    const failure = await attempt.then(
      () => null,
      (err: unknown) => err,
    );
    expect(failure).to.be.instanceOf(ConnectingCancelledError);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(accepted).to.equal(0);
  });

  it('serves and connects unix: endpoints, a path and an abstract name', async () => {
    for (const path of [join(dir, 'echo.sock'), `@torsion-endpoints-${String(process.pid)}`]) {
      const port = await serverFromString(reactor, `unix:${path}:mode=0600`).listen(
        new EchoFactory(),
      );
      ports.push(port);
      expect(await roundTrip(reactor, `unix:${path}:timeout=5`, 'local')).to.equal('local');
    }
  });

  it('serves udp: endpoints with a datagram protocol', async () => {
    const received = new Deferred<string>();
    const endpoint = datagramServerFromString(
      reactor,
      'udp:0:interface=127.0.0.1:maxPacketSize=512',
    );
    const port = await endpoint.listen({
      makeConnection() {},
      startProtocol() {},
      stopProtocol() {},
      connectionRefused() {},
      datagramReceived(data) {
        received.callback(data.toString());
      },
    });
    const socket = createSocket('udp4');
    try {
      socket.send('ping', portOf(port), '127.0.0.1');
      expect(await received).to.equal('ping');
    } finally {
      socket.close();
      await port.stopListening();
    }
  });
});
