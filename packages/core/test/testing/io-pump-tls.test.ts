// Tests for TLS over the in-memory pump (src/testing/io-pump.ts,
// fake-transport.ts): connectedServerAndClientOverTLS, startTLS on a
// FakeTransport pair, and flushAsync, which lets the TLS engines run.
import { expect } from 'chai';

import { ConnectionDone, TLSError } from '../../src/errors.js';
import { TLS_HALF_CLOSE_SUPPORTED } from '../../src/internal/tls-engine.js';
import type { Failure } from '../../src/failure.js';
import type { IHalfCloseableProtocol, ITLSTransport } from '../../src/interfaces.js';
import {
  connectedServerAndClient,
  connectedServerAndClientOverTLS,
} from '../../src/testing/io-pump.js';
import { EchoingProtocol } from '../../src/testing/echoing-protocol.js';
import { RecordingProtocol } from '../../src/testing/recording-protocol.js';
import { makeTestCertificates } from '../../src/testing/test-certificates.js';
import { optionsForClientTLS, serverTLSOptions } from '../../src/tls-options.js';

const certs = makeTestCertificates();
const serverTLS = serverTLSOptions(certs.server);
const clientTLS = optionsForClientTLS('localhost', { trustRoot: certs.ca.cert });

class TLSRecorder extends RecordingProtocol implements IHalfCloseableProtocol {
  handshakeCompleted(): void {
    this.events.push('handshakeCompleted');
  }

  tlsStarting(): void {
    this.events.push('tlsStarting');
  }

  readConnectionLost(): void {
    this.events.push('readConnectionLost');
  }

  writeConnectionLost(): void {
    this.events.push('writeConnectionLost');
  }

  get tls(): ITLSTransport {
    return this.transport as unknown as ITLSTransport;
  }
}

function tlsCode(reason: Failure): string | undefined {
  const error = reason.value;
  return error instanceof TLSError ? error.code : undefined;
}

describe('IOPump over TLS', () => {
  it('connects two protocols over TLS, after the handshake, and echoes through it', async () => {
    const client = new TLSRecorder();
    const pair = await connectedServerAndClientOverTLS({
      serverProtocol: new EchoingProtocol(),
      clientProtocol: client,
      serverTLS,
      clientTLS,
      chunking: 1,
    });
    expect(client.events).to.deep.equal(['connectionMade', 'handshakeCompleted']);
    expect(client.tls.secure).to.equal(true);
    expect(client.tls.getPeerCertificate()?.subject.CN).to.equal('localhost');
    client.transport.write('ping over TLS');
    await pair.pump.flushAsync();
    expect(client.text()).to.equal('ping over TLS');
    client.transport.loseConnection();
    await pair.pump.flushAsync();
    expect(client.reason?.value).to.be.instanceOf(ConnectionDone);
    expect(pair.serverTransport.disconnected).to.equal(true);
  });

  it('rejects with the TLSError when the handshake fails, never connecting the protocols', async () => {
    const client = new TLSRecorder();
    const server = new TLSRecorder();
    let error: unknown = null;
    try {
      await connectedServerAndClientOverTLS({
        serverProtocol: server,
        clientProtocol: client,
        serverTLS: serverTLSOptions(certs.expired),
        clientTLS,
      });
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(TLSError);
    expect(error instanceof TLSError && error.code).to.equal('TORSION_ERR_TLS_CERTIFICATE_EXPIRED');
    expect(client.events).to.deep.equal([]);
    expect(server.events).to.deep.equal([]);
  });

  it('switches a plaintext pair with startTLS; flushAsync drives the handshake', async () => {
    const { client, server, pump } = connectedServerAndClient({
      serverProtocol: new TLSRecorder(),
      clientProtocol: new TLSRecorder(),
    });
    client.transport.write('STARTTLS\r\n');
    pump.flush();
    expect(server.text()).to.equal('STARTTLS\r\n');
    server.tls.startTLS(serverTLS);
    client.tls.startTLS(clientTLS);
    client.transport.write('secret');
    // The synchronous flush moves the ClientHello but cannot wait for the engines.
    pump.flush();
    expect(client.tls.secure).to.equal(false);
    await pump.flushAsync();
    expect(server.text()).to.equal('STARTTLS\r\nsecret');
    expect(client.events).to.include('handshakeCompleted');
    expect(server.events).to.include('handshakeCompleted');
    expect(server.events).to.include('tlsStarting');
  });

  it('half-closes over TLS: close_notify, then the FIN; the peer still answers', async function () {
    // Bun's TLS ends both directions on the peer's close_notify.
    if (!TLS_HALF_CLOSE_SUPPORTED) this.skip();
    const client = new TLSRecorder();
    const server = new TLSRecorder();
    const { pump } = await connectedServerAndClientOverTLS({
      serverProtocol: server,
      clientProtocol: client,
      serverTLS,
      clientTLS,
    });
    client.transport.write('question');
    client.transport.loseWriteConnection();
    await pump.flushAsync();
    expect(server.text()).to.equal('question');
    expect(server.events).to.include('readConnectionLost');
    expect(client.events).to.include('writeConnectionLost');
    server.transport.write('answer');
    server.transport.loseConnection();
    await pump.flushAsync();
    expect(client.text()).to.equal('answer');
    expect(client.reason?.value).to.be.instanceOf(ConnectionDone);
    expect(server.reason?.value).to.be.instanceOf(ConnectionDone);
  });

  it('fails a startTLS handshake fed plaintext with connectionLost(TLSError)', async () => {
    const { client, server, pump } = connectedServerAndClient({
      serverProtocol: new TLSRecorder(),
      clientProtocol: new TLSRecorder(),
      isolateErrors: true,
    });
    server.tls.startTLS(serverTLS);
    client.transport.write('not a ClientHello');
    await pump.flushAsync();
    expect(server.reason).to.not.equal(null);
    expect(tlsCode(server.reason!)).to.equal('TORSION_ERR_TLS_NOT_TLS');
    expect(server.text()).to.equal('');
    expect(client.reason).to.not.equal(null);
  });
});
