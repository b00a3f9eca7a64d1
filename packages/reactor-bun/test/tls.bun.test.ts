// listenSSL / connectSSL on BunReactor, over Bun's native TLS on loopback:
// the protocol is connected only after the handshake, the server's name is
// checked against options.hostname, each failure has its TLSError code,
// failed server handshakes cost only their connection, and certificate
// reload, abort, half-close and backpressure behave as over TCP.
import { expect } from 'chai';
import { existsSync, readdirSync } from 'node:fs';
import {
  ConnectionAborted,
  ConnectionDone,
  Failure,
  optionsForClientTLS,
  serverTLSOptions,
  TimeoutError,
  TLSError,
} from '@torsion/core';
import type {
  ClientTLSOptions,
  IHalfCloseableProtocol,
  ITLSTransport,
  ServerTLSOptions,
  TLSErrorCode,
} from '@torsion/core';
import {
  EchoingProtocol,
  LogCapture,
  makeTestCertificates,
  RecordingClientFactory,
  RecordingFactory,
  RecordingProtocol,
} from '@torsion/core/testing';
import { BunReactor } from '../src/index.js';
import { RawPeer, until } from './support/helpers.js';

const certs = makeTestCertificates();

/** Records handshakeCompleted next to the other callbacks. */
class TLSRecording extends RecordingProtocol {
  handshakeCompleted(): void {
    this.events.push('handshakeCompleted');
  }
}

class TLSEcho extends EchoingProtocol {
  handshakeCompleted(): void {
    this.events.push('handshakeCompleted');
  }
}

function serverOptions(init: Parameters<typeof serverTLSOptions>[0] = {}): ServerTLSOptions {
  return serverTLSOptions({ key: certs.server.key, cert: certs.server.cert, ...init });
}

function clientOptions(
  hostname = 'localhost',
  init: Parameters<typeof optionsForClientTLS>[1] = {},
): ClientTLSOptions {
  return optionsForClientTLS(hostname, { trustRoot: certs.ca.cert, ...init });
}

function tlsOf(protocol: RecordingProtocol): ITLSTransport {
  return protocol.transport as unknown as ITLSTransport;
}

function codeOf(reason: Failure): TLSErrorCode {
  return tlsErrorOf(reason).code;
}

function tlsErrorOf(reason: Failure): TLSError {
  const error = reason.value;
  if (!(error instanceof TLSError)) throw new Error(`expected a TLSError, got ${String(error)}`);
  return error;
}

describe('TLS on BunReactor (listenSSL / connectSSL, loopback)', () => {
  let reactor: BunReactor;
  let done: Promise<void>;
  let logs: LogCapture;

  beforeEach(() => {
    logs = LogCapture.start();
    reactor = new BunReactor({ installSignalHandlers: false, shutdownGracePeriod: 0.5 });
    done = reactor.run();
  });

  afterEach(async () => {
    logs.stop();
    if (reactor.running) reactor.stop();
    await done;
  });

  async function listen<P extends RecordingProtocol>(
    make: () => P,
    options: ServerTLSOptions = serverOptions(),
  ): Promise<{
    factory: RecordingFactory<P>;
    port: number;
    listening: ReturnType<BunReactor['listenSSL']>;
  }> {
    const factory = new RecordingFactory(make);
    const listening = reactor.listenSSL(0, factory, options, { interface: '127.0.0.1' });
    await listening.whenListening();
    return { factory, port: listening.getHost().port, listening };
  }

  function connect<P extends RecordingProtocol>(
    port: number,
    make: () => P,
    options: ClientTLSOptions = clientOptions(),
  ): RecordingClientFactory<P> {
    const factory = new RecordingClientFactory(make);
    reactor.connectSSL('127.0.0.1', port, factory, options, { timeout: 10 });
    return factory;
  }

  /** The code of the handshake failure the server logged at 'info' on torsion.tls. */
  async function serverFailureCode(): Promise<unknown> {
    await until(() => logs.events.some((e) => e.namespace === 'torsion.tls' && e.level === 'info'));
    const event = logs.events.find((e) => e.namespace === 'torsion.tls' && e.level === 'info');
    expect(event!.fields.peer).to.match(/^127\.0\.0\.1:\d+$/);
    return event!.fields.code;
  }

  it('echoes over TLS; the protocol is connected after the handshake, then hears handshakeCompleted', async () => {
    const { factory, port } = await listen(() => new TLSEcho());
    const client = connect(port, () => new TLSRecording());
    const protocol = await client.firstBuilt;
    await protocol.made;
    expect(protocol.events).to.deep.equal(['connectionMade', 'handshakeCompleted']);
    protocol.transport.write('hello over TLS');
    expect((await protocol.waitForBytes(14)).toString()).to.equal('hello over TLS');
    const server = await factory.nth(1);
    expect(server.events.slice(0, 2)).to.deep.equal(['connectionMade', 'handshakeCompleted']);

    const transport = tlsOf(protocol);
    expect(transport.secure).to.equal(true);
    expect(transport.getTLSVersion()).to.equal('TLSv1.3');
    expect(transport.getCipher()?.name).to.be.a('string');
    expect(transport.negotiatedProtocol).to.equal(null);
    const cert = transport.getPeerCertificate();
    expect(cert?.subject.CN).to.equal('localhost');
    expect(cert?.raw).to.be.instanceOf(Buffer);
    expect(tlsOf(server).getPeerCertificate()).to.equal(null);
    expect(transport.getPeer().type).to.equal('TCP');
    expect(transport.getPeer().port).to.equal(port);
    expect(tlsOf(server).getHost().port).to.equal(port);
    expect(() => transport.startTLS(clientOptions())).to.throw(Error, /already speaks TLS/);

    protocol.transport.loseConnection();
    expect((await protocol.lost).value).to.be.instanceOf(ConnectionDone);
    expect((await server.lost).value).to.be.instanceOf(ConnectionDone);
    await client.lost;
    expect(client.events).to.include('clientConnectionLost');
  });

  it("checks the certificate's name against options.hostname, not the address dialled", async () => {
    const { port } = await listen(() => new TLSRecording());
    // 127.0.0.1 is in the certificate, but the name asked for is not.
    const wrong = connect(port, () => new TLSRecording(), clientOptions('wrong.example'));
    expect(codeOf(await wrong.failed)).to.equal('TORSION_ERR_TLS_HOSTNAME_MISMATCH');
    expect(wrong.built).to.have.length(0);
    // The IP address itself is a name the certificate carries.
    const byAddress = connect(port, () => new TLSRecording(), clientOptions('127.0.0.1'));
    await (
      await byAddress.firstBuilt
    ).made;
  });

  for (const [name, pick, code] of [
    ['a certificate for another host', () => certs.wrongHost, 'TORSION_ERR_TLS_HOSTNAME_MISMATCH'],
    [
      'a certificate from an untrusted CA',
      () => certs.untrusted,
      'TORSION_ERR_TLS_CERTIFICATE_UNTRUSTED',
    ],
    ['an expired certificate', () => certs.expired, 'TORSION_ERR_TLS_CERTIFICATE_EXPIRED'],
  ] as const) {
    it(`refuses ${name} (${code}); the server's factory never hears of it`, async () => {
      const pair = pick();
      const { factory, port } = await listen(
        () => new TLSRecording(),
        serverTLSOptions({ key: pair.key, cert: pair.cert }),
      );
      const client = connect(port, () => new TLSRecording());
      const reason = await client.failed;
      expect(codeOf(reason)).to.equal(code);
      expect(tlsErrorOf(reason).message).to.include(`127.0.0.1:${String(port)}`);
      expect(client.built).to.have.length(0);
      expect(client.events).to.deep.equal(['startedConnecting', 'clientConnectionFailed']);
      expect(factory.built).to.have.length(0);
    });
  }

  it('refuses a self-signed server certificate with the default roots, and accepts anything with insecureSkipVerify', async () => {
    const { port } = await listen(() => new TLSRecording());
    const strict = connect(port, () => new TLSRecording(), optionsForClientTLS('localhost'));
    expect(codeOf(await strict.failed)).to.equal('TORSION_ERR_TLS_CERTIFICATE_UNTRUSTED');
    const lax = connect(
      port,
      () => new TLSRecording(),
      optionsForClientTLS('wrong.example', { insecureSkipVerify: true }),
    );
    await (
      await lax.firstBuilt
    ).made;
  });

  it('mutual TLS: a required client certificate is verified and shown to the server', async () => {
    const options = serverOptions({ trustRoot: certs.ca.cert, clientCertificates: 'require' });
    const { factory, port } = await listen(() => new TLSRecording(), options);
    const client = connect(
      port,
      () => new TLSRecording(),
      clientOptions('localhost', { clientCertificate: certs.client }),
    );
    await (
      await client.firstBuilt
    ).made;
    const server = await factory.nth(1);
    await server.made;
    expect(tlsOf(server).getPeerCertificate()?.subject.CN).to.be.a('string');
    expect(tlsOf(server).getPeerCertificate()?.issuer).to.deep.equal(
      tlsOf(await client.firstBuilt).getPeerCertificate()?.issuer,
    );
  });

  it('mutual TLS: a client without a certificate is refused (TORSION_ERR_TLS_CLIENT_CERTIFICATE_REQUIRED)', async () => {
    const options = serverOptions({ trustRoot: certs.ca.cert, clientCertificates: 'require' });
    const { factory, port } = await listen(() => new TLSRecording(), options);
    const client = connect(port, () => new TLSRecording());
    expect(await serverFailureCode()).to.equal('TORSION_ERR_TLS_CLIENT_CERTIFICATE_REQUIRED');
    expect(factory.built).to.have.length(0);
    // With TLS 1.3 the client's handshake ends before the server judges it:
    // the client is connected, then loses the connection to the server's
    // certificate_required alert, as on NodeReactor.
    const protocol = await client.firstBuilt;
    expect(codeOf(await protocol.lost)).to.equal('TORSION_ERR_TLS_CLIENT_CERTIFICATE_REQUIRED');
    expect(protocol.events[0]).to.equal('connectionMade');
    expect(codeOf(await client.lost)).to.equal('TORSION_ERR_TLS_CLIENT_CERTIFICATE_REQUIRED');
  });

  it('mutual TLS: a client certificate from an untrusted CA is refused, also when only requested', async () => {
    for (const mode of ['require', 'request'] as const) {
      logs.clear();
      const options = serverOptions({ trustRoot: certs.ca.cert, clientCertificates: mode });
      const { factory, port } = await listen(() => new TLSRecording(), options);
      connect(
        port,
        () => new TLSRecording(),
        clientOptions('localhost', { clientCertificate: certs.untrusted }),
      );
      expect(await serverFailureCode()).to.equal('TORSION_ERR_TLS_CERTIFICATE_UNTRUSTED');
      expect(factory.built).to.have.length(0);
    }
  });

  it('ALPN: both sides see the protocol they agreed on', async () => {
    const { factory, port } = await listen(
      () => new TLSRecording(),
      serverOptions({ alpnProtocols: ['h2', 'http/1.1'] }),
    );
    const client = connect(
      port,
      () => new TLSRecording(),
      clientOptions('localhost', { alpnProtocols: ['http/1.1', 'spdy/1'] }),
    );
    const protocol = await client.firstBuilt;
    await protocol.made;
    expect(tlsOf(protocol).negotiatedProtocol).to.equal('http/1.1');
    expect(tlsOf(await factory.nth(1)).negotiatedProtocol).to.equal('http/1.1');
  });

  it('ALPN with no protocol in common: TORSION_ERR_TLS_NO_APPLICATION_PROTOCOL on both sides', async () => {
    const { factory, port } = await listen(
      () => new TLSRecording(),
      serverOptions({ alpnProtocols: ['h2'] }),
    );
    const client = connect(
      port,
      () => new TLSRecording(),
      clientOptions('localhost', { alpnProtocols: ['http/1.1'] }),
    );
    expect(codeOf(await client.failed)).to.equal('TORSION_ERR_TLS_NO_APPLICATION_PROTOCOL');
    expect(await serverFailureCode()).to.equal('TORSION_ERR_TLS_NO_APPLICATION_PROTOCOL');
    expect(factory.built).to.have.length(0);
  });

  it("connectSSL's timeout covers the handshake: TimeoutError when the server never answers", async () => {
    const silent = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
    try {
      const factory = new RecordingClientFactory(() => new TLSRecording());
      reactor.connectSSL('127.0.0.1', silent.port, factory, clientOptions(), { timeout: 0.2 });
      const reason = await factory.failed;
      expect(reason.value).to.be.instanceOf(TimeoutError);
      expect(factory.built).to.have.length(0);
    } finally {
      silent.stop(true);
    }
  });

  it('a connection still in its handshake is closed when the port stops listening', async () => {
    const { listening, port } = await listen(() => new TLSRecording());
    const raw = await RawPeer.connect(port);
    await until(() => raw.socket.readyState === 1);
    await listening.stopListening();
    await raw.gotClose;
  });

  it('SNI certificates are a capability Bun lacks: listenSSL says so (tlsSNI)', () => {
    const options = serverOptions({ sni: { 'sni.example': certs.sni } });
    expect(() =>
      reactor.listenSSL(0, new RecordingFactory(() => new TLSRecording()), options),
    ).to.throw(Error, /tlsSNI/);
  });

  it('a peer that does not speak TLS: the server logs TORSION_ERR_TLS_NOT_TLS and closes only it', async () => {
    const { factory, port } = await listen(() => new TLSRecording());
    const raw = await RawPeer.connect(port);
    raw.socket.write('GET / HTTP/1.0\r\n\r\n');
    expect(await serverFailureCode()).to.equal('TORSION_ERR_TLS_NOT_TLS');
    await raw.gotClose;
    expect(factory.built).to.have.length(0);
    // The port still serves.
    await (
      await connect(port, () => new TLSRecording()).firstBuilt
    ).made;
  });

  it('a TLS client against a plaintext server fails with TORSION_ERR_TLS_NOT_TLS', async () => {
    const server = Bun.listen({
      hostname: '127.0.0.1',
      port: 0,
      socket: {
        data(socket) {
          socket.write('HTTP/1.0 400 Bad Request\r\n\r\n');
        },
      },
    });
    try {
      const client = connect(server.port, () => new TLSRecording());
      expect(codeOf(await client.failed)).to.equal('TORSION_ERR_TLS_NOT_TLS');
    } finally {
      server.stop(true);
    }
  });

  it('a client that only offers an older TLS version: the server logs TORSION_ERR_TLS_PROTOCOL_VERSION', async () => {
    const { port } = await listen(
      () => new TLSRecording(),
      serverOptions({ minVersion: 'TLSv1.3' }),
    );
    const { constants } = await import('node:crypto');
    const socket = await Bun.connect({
      hostname: '127.0.0.1',
      port,
      tls: { rejectUnauthorized: false, secureOptions: constants.SSL_OP_NO_TLSv1_3 },
      socket: { data() {} },
    });
    try {
      expect(await serverFailureCode()).to.equal('TORSION_ERR_TLS_PROTOCOL_VERSION');
    } finally {
      socket.terminate();
    }
  });

  it('a client whose minVersion the server cannot meet fails with TORSION_ERR_TLS_PROTOCOL_VERSION', async () => {
    const { constants } = await import('node:crypto');
    const old = Bun.listen({
      hostname: '127.0.0.1',
      port: 0,
      tls: {
        key: certs.server.key,
        cert: certs.server.cert,
        secureOptions: constants.SSL_OP_NO_TLSv1_3,
      },
      socket: { data() {} },
    });
    try {
      const client = connect(
        old.port,
        () => new TLSRecording(),
        clientOptions('localhost', { minVersion: 'TLSv1.3' }),
      );
      expect(codeOf(await client.failed)).to.equal('TORSION_ERR_TLS_PROTOCOL_VERSION');
      // TLS 1.2 is still accepted by default.
      const tls12 = connect(old.port, () => new TLSRecording());
      const protocol = await tls12.firstBuilt;
      await protocol.made;
      expect(tlsOf(protocol).getTLSVersion()).to.equal('TLSv1.2');
    } finally {
      old.stop(true);
    }
  });

  it('a server handshake that never finishes times out (handshakeTimeout) and closes that connection', async () => {
    const { factory, port } = await listen(
      () => new TLSRecording(),
      serverOptions({ handshakeTimeout: 0.2 }),
    );
    const raw = await RawPeer.connect(port);
    expect(await serverFailureCode()).to.equal('TORSION_ERR_TLS_HANDSHAKE_TIMEOUT');
    await raw.gotClose;
    expect(factory.built).to.have.length(0);
  });

  it('a client handshake that never finishes fails with TORSION_ERR_TLS_HANDSHAKE_TIMEOUT', async () => {
    const silent = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
    try {
      const client = connect(
        silent.port,
        () => new TLSRecording(),
        clientOptions('localhost', { handshakeTimeout: 0.2 }),
      );
      expect(codeOf(await client.failed)).to.equal('TORSION_ERR_TLS_HANDSHAKE_TIMEOUT');
      expect(client.built).to.have.length(0);
    } finally {
      silent.stop(true);
    }
  });

  it('a server that closes during the handshake: TORSION_ERR_TLS_CONNECTION_CLOSED', async () => {
    const closing = Bun.listen({
      hostname: '127.0.0.1',
      port: 0,
      socket: {
        open(socket) {
          socket.end();
        },
        data() {},
      },
    });
    try {
      const client = connect(closing.port, () => new TLSRecording());
      expect(codeOf(await client.failed)).to.equal('TORSION_ERR_TLS_CONNECTION_CLOSED');
    } finally {
      closing.stop(true);
    }
  });

  it('setTLSOptions: new connections get the new certificate, open ones continue', async () => {
    const { factory, port, listening } = await listen(() => new TLSEcho());
    const before = connect(port, () => new TLSRecording());
    const old = await before.firstBuilt;
    await old.made;

    listening.setTLSOptions(
      serverTLSOptions({ key: certs.wrongHost.key, cert: certs.wrongHost.cert }),
    );
    expect(listening.getHost().port).to.equal(port);

    const refused = connect(port, () => new TLSRecording());
    expect(codeOf(await refused.failed)).to.equal('TORSION_ERR_TLS_HOSTNAME_MISMATCH');
    const renamed = connect(port, () => new TLSRecording(), clientOptions('wrong.example'));
    const fresh = await renamed.firstBuilt;
    await fresh.made;
    expect(tlsOf(fresh).getPeerCertificate()?.subjectaltname).to.include('wrong.example');

    old.transport.write('still here');
    expect((await old.waitForBytes(10)).toString()).to.equal('still here');
    expect(factory.built).to.have.length(2);
    const notOptions: unknown = { identity: certs.server };
    expect(() => listening.setTLSOptions(notOptions as ServerTLSOptions)).to.throw(TypeError);
  });

  it('abortConnection resets at once: ConnectionAborted here, a lost connection there', async () => {
    const { factory, port } = await listen(() => new TLSRecording());
    const client = connect(port, () => new TLSRecording());
    const protocol = await client.firstBuilt;
    await protocol.made;
    const server = await factory.nth(1);
    await server.made;
    protocol.transport.write('unsent, perhaps');
    protocol.transport.abortConnection();
    expect((await protocol.lost).value).to.be.instanceOf(ConnectionAborted);
    expect((await server.lost).value).not.to.be.instanceOf(ConnectionDone);
  });

  it('half-close: loseWriteConnection ends our side; the peer hears readConnectionLost and may answer', async () => {
    class Upper extends TLSRecording implements IHalfCloseableProtocol {
      readConnectionLost(): void {
        this.events.push('readConnectionLost');
        this.transport.write(this.text().toUpperCase());
        this.transport.loseConnection();
      }
      writeConnectionLost(): void {}
    }
    class Asker extends TLSRecording implements IHalfCloseableProtocol {
      override handshakeCompleted(): void {
        super.handshakeCompleted();
        this.transport.write('make me loud');
        this.transport.loseWriteConnection();
      }
      readConnectionLost(): void {
        this.events.push('readConnectionLost');
      }
      writeConnectionLost(): void {
        this.events.push('writeConnectionLost');
      }
    }
    const { factory, port } = await listen(() => new Upper());
    const client = connect(port, () => new Asker());
    const asker = await client.firstBuilt;
    expect((await asker.waitForBytes(12)).toString()).to.equal('MAKE ME LOUD');
    expect((await asker.lost).value).to.be.instanceOf(ConnectionDone);
    expect(asker.events).to.include('writeConnectionLost');
    expect((await factory.nth(1)).events).to.include('readConnectionLost');
  });

  it('backpressure: 8 MiB written at once arrive whole and in order; the writer is paused meanwhile', async () => {
    const size = 8 * 1024 * 1024;
    const payload = Buffer.alloc(size);
    for (let i = 0; i < size; i++) payload[i] = (i * 31 + (i >> 13)) & 0xff;
    class Sender extends TLSRecording {
      paused = 0;
      override handshakeCompleted(): void {
        super.handshakeCompleted();
        this.transport.registerProducer(
          {
            pauseProducing: () => {
              this.paused++;
            },
            resumeProducing: () => {},
            stopProducing: () => {},
          },
          true,
        );
        this.transport.write(payload);
        this.transport.unregisterProducer();
        this.transport.loseConnection();
      }
    }
    const { factory, port } = await listen(() => new Sender());
    const client = connect(port, () => new TLSRecording());
    const receiver = await client.firstBuilt;
    const received = await receiver.waitForBytes(size);
    expect(received.equals(payload)).to.equal(true);
    expect((await receiver.lost).value).to.be.instanceOf(ConnectionDone);
    expect((await factory.nth(1)).paused).to.equal(1);
  });

  it('an exception in handshakeCompleted costs only that connection', async () => {
    class Thrower extends TLSRecording {
      override handshakeCompleted(): void {
        throw new Error('boom in handshakeCompleted');
      }
    }
    const { port } = await listen(() => new Thrower());
    const client = connect(port, () => new TLSRecording());
    const protocol = await client.firstBuilt;
    await protocol.lost;
    expect(logs.messages('error').some((m) => m.includes('handshakeCompleted'))).to.equal(true);
    const again = connect(port, () => new TLSRecording());
    await (
      await again.firstBuilt
    ).made;
  });

  it('failed handshakes leak no file descriptors, on either side', async function () {
    if (!existsSync('/proc/self/fd')) this.skip();
    const openFds = (): number => readdirSync('/proc/self/fd').length;
    const { factory, port } = await listen(() => new TLSRecording());
    const before = openFds();
    for (let round = 0; round < 100; round++) {
      const raw = await RawPeer.connect(port);
      raw.socket.write('not a ClientHello, just some bytes\r\n');
      await raw.gotClose;
      const client = connect(port, () => new TLSRecording(), clientOptions('wrong.example'));
      await client.failed;
    }
    await until(() => openFds() <= before + 2);
    expect(factory.built).to.have.length(0);
  });

  it('checks its arguments: options from the right builder', () => {
    const factory = new RecordingFactory(() => new TLSRecording());
    expect(() =>
      reactor.listenSSL(0, factory, clientOptions() as unknown as ServerTLSOptions),
    ).to.throw(TypeError);
    expect(() =>
      reactor.connectSSL(
        '127.0.0.1',
        1,
        new RecordingClientFactory(() => new TLSRecording()),
        serverOptions() as unknown as ClientTLSOptions,
      ),
    ).to.throw(TypeError);
  });
});
