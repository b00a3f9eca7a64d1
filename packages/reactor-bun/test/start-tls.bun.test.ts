// startTLS on BunReactor's TCP transports: core's in-memory TLS engine (Bun's
// node:tls over a private duplex) switches a live connection; plaintext
// written before the switch arrives first, receivers hear tlsStarting(), and
// a half-close after the switch, which Bun's node:tls cannot do, throws an
// error naming the capability instead of hanging.
import { expect } from 'chai';
import { ConnectionDone, optionsForClientTLS, serverTLSOptions } from '@torsion/core';
import type { ITLSTransport } from '@torsion/core';
import {
  Eventual,
  makeTestCertificates,
  RecordingClientFactory,
  RecordingProtocol,
  serveOnLoopback,
} from '@torsion/core/testing';
import { BunReactor } from '../src/index.js';

const certs = makeTestCertificates();

class Switching extends RecordingProtocol {
  readonly handshake = new Eventual<undefined>();
  tlsStarting(): void {
    this.events.push('tlsStarting');
  }
  handshakeCompleted(): void {
    this.events.push('handshakeCompleted');
    this.handshake.callback(undefined);
  }
}

function tls(protocol: RecordingProtocol): ITLSTransport {
  return protocol.transport as unknown as ITLSTransport;
}

describe('startTLS on BunReactor (loopback)', () => {
  let reactor: BunReactor;
  let done: Promise<void>;

  beforeEach(() => {
    reactor = new BunReactor({ installSignalHandlers: false, shutdownGracePeriod: 0.5 });
    done = reactor.run();
  });

  afterEach(async () => {
    if (reactor.running) reactor.stop();
    await done;
  });

  async function switchedPair(): Promise<{ client: Switching; server: Switching }> {
    const { factory, port } = await serveOnLoopback(reactor, () => new Switching());
    const clients = new RecordingClientFactory(() => new Switching());
    reactor.connectTCP('127.0.0.1', port, clients);
    const client = await clients.firstBuilt;
    await client.made;
    const server = await factory.nth(1);
    await server.made;
    client.transport.write('STARTTLS\r\n');
    await server.waitForBytes(10);
    tls(server).startTLS(serverTLSOptions({ key: certs.server.key, cert: certs.server.cert }));
    tls(client).startTLS(optionsForClientTLS('localhost', { trustRoot: certs.ca.cert }));
    expect(client.events).to.deep.equal(['connectionMade', 'tlsStarting']);
    await client.handshake;
    await server.handshake;
    return { client, server };
  }

  it('switches a live connection: plaintext first, then encrypted bytes, with the server verified', async () => {
    const { client, server } = await switchedPair();
    expect(tls(client).secure).to.equal(true);
    expect(tls(client).getPeerCertificate()?.subject.CN).to.equal('localhost');
    client.transport.write('secret');
    expect((await server.waitForBytes(16)).toString()).to.equal('STARTTLS\r\nsecret');
    client.transport.loseConnection();
    expect((await server.lost).value).to.be.instanceOf(ConnectionDone);
    expect((await client.lost).value).to.be.instanceOf(ConnectionDone);
  });

  it('loseWriteConnection after startTLS throws the tlsHalfClose capability error; the connection still works', async () => {
    const { client, server } = await switchedPair();
    expect(() => {
      client.transport.loseWriteConnection();
    }).to.throw(Error, /tlsHalfClose/);
    client.transport.write('still open');
    expect((await server.waitForBytes(20)).toString()).to.equal('STARTTLS\r\nstill open');
    client.transport.loseConnection();
    expect((await client.lost).value).to.be.instanceOf(ConnectionDone);
  });

  it('startTLS with SNI certificates throws the tlsSNI capability error; the connection stays plaintext', async () => {
    const { factory, port } = await serveOnLoopback(reactor, () => new Switching());
    const clients = new RecordingClientFactory(() => new Switching());
    reactor.connectTCP('127.0.0.1', port, clients);
    await (
      await clients.firstBuilt
    ).made;
    const server = await factory.nth(1);
    await server.made;
    const options = serverTLSOptions({
      key: certs.server.key,
      cert: certs.server.cert,
      sni: { 'sni.example': certs.sni },
    });
    expect(() => {
      tls(server).startTLS(options);
    }).to.throw(Error, /tlsSNI/);
    expect(server.events).to.deep.equal(['connectionMade']);
    expect(tls(server).secure).to.equal(false);
  });
});
