// Tests for src/internal/tls-engine.ts: one TLS connection in memory, its
// ciphertext moved by the test. Two engines joined by a relay that re-chunks
// the records at arbitrary boundaries (down to single bytes) must agree on
// the handshake and carry the same plaintext both ways: the engine depends
// on no record boundary (the sans-I/O requirement).
import { expect } from 'chai';
import fc from 'fast-check';

import type { TLSError } from '../src/errors.js';
import {
  TLS_HALF_CLOSE_SUPPORTED,
  TLSEngine,
  type HandshakeClock,
  type TLSEngineOwner,
} from '../src/internal/tls-engine.js';
import { makeTestCertificates } from '../src/testing/test-certificates.js';
import { optionsForClientTLS, serverTLSOptions } from '../src/tls-options.js';

const certs = makeTestCertificates();
const serverOptions = serverTLSOptions(certs.server);
const clientOptions = optionsForClientTLS('localhost', { trustRoot: certs.ca.cert });

/** Everything one engine told its owner. */
class Recorder implements TLSEngineOwner {
  readonly sent: Buffer[] = [];
  readonly received: Buffer[] = [];
  readonly events: string[] = [];
  failure: TLSError | null = null;
  /** Called with each ciphertext chunk (the relay to the other engine). */
  onSend: (data: Buffer) => void = () => {};
  onWriteEnded: () => void = () => {};

  tlsSend(data: Buffer): void {
    this.sent.push(data);
    this.onSend(data);
  }

  tlsReceived(data: Buffer): void {
    this.received.push(data);
  }

  tlsHandshakeCompleted(): void {
    this.events.push('handshake');
  }

  tlsFailed(error: TLSError, duringHandshake: boolean): void {
    this.failure = error;
    this.events.push(duringHandshake ? 'failed in handshake' : 'failed');
  }

  tlsReadEnded(): void {
    this.events.push('readEnded');
  }

  tlsWriteEnded(): void {
    this.events.push('writeEnded');
    this.onWriteEnded();
  }

  tlsDrained(): void {
    this.events.push('drained');
  }

  text(): string {
    return Buffer.concat(this.received).toString();
  }
}

/** A clock the test advances by hand. */
class ManualClock implements HandshakeClock {
  readonly calls: { at: number; fn: () => void; cancelled: boolean }[] = [];
  now = 0;

  callLater(delaySeconds: number, fn: () => void): { cancel(): void } {
    const call = { at: this.now + delaySeconds, fn, cancelled: false };
    this.calls.push(call);
    return {
      cancel() {
        call.cancelled = true;
      },
    };
  }

  advance(seconds: number): void {
    this.now += seconds;
    for (const call of this.calls) {
      if (!call.cancelled && call.at <= this.now) {
        call.cancelled = true;
        call.fn();
      }
    }
  }
}

async function turns(n = 1): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

async function until(condition: () => boolean, limit = 5000): Promise<void> {
  for (let i = 0; i < limit && !condition(); i++) await turns();
  expect(condition(), 'condition never held').to.equal(true);
}

/**
 * Two engines joined by a relay: what one sends reaches the other in pieces
 * of the given sizes (cycled), one `receive()` per piece, a turn later.
 */
function joined(
  sizes: readonly number[] = [],
  client = clientOptions,
  server = serverOptions,
): { c: TLSEngine; s: TLSEngine; co: Recorder; so: Recorder } {
  const co = new Recorder();
  const so = new Recorder();
  let next = 0;
  // The relays look their engine up when they run: a client's ClientHello
  // may be handed over while its engine is being constructed.
  const relay = (to: () => TLSEngine) => (data: Buffer) => {
    const pieces: Buffer[] = [];
    for (let offset = 0; offset < data.length;) {
      const size = sizes.length === 0 ? data.length : sizes[next++ % sizes.length]!;
      pieces.push(data.subarray(offset, offset + size));
      offset += size;
    }
    setImmediate(() => {
      for (const piece of pieces) to().receive(piece);
    });
  };
  co.onSend = relay(() => s);
  so.onSend = relay(() => c);
  co.onWriteEnded = () => setImmediate(() => s.receiveEnd());
  so.onWriteEnded = () => setImmediate(() => c.receiveEnd());
  const c = new TLSEngine(client, co, 'server');
  const s = new TLSEngine(server, so, 'client');
  return { c, s, co, so };
}

describe('TLSEngine', () => {
  it('runs a TLS 1.3 handshake between two engines and carries plaintext both ways', async () => {
    const { c, s, co, so } = joined();
    c.write('hello ');
    c.write(new Uint8Array([0x77, 0x6f, 0x72, 0x6c, 0x64]));
    s.write('back');
    await until(() => so.text() === 'hello world' && co.text() === 'back');
    expect(co.events).to.include('handshake');
    expect(so.events).to.include('handshake');
    expect(c.handshakeCompleted && s.handshakeCompleted).to.equal(true);
    expect(c.getTLSVersion()).to.equal('TLSv1.3');
    expect(c.getPeerCertificate()?.subject.CN).to.equal('localhost');
    expect(s.getPeerCertificate()).to.equal(null);
    expect(c.getCipher()?.name).to.equal(s.getCipher()?.name);
    expect(c.negotiatedProtocol).to.equal(null);
    expect(co.sent[0]?.[0], 'a handshake record first').to.equal(0x16);
  });

  it('reports nothing about the peer before the handshake', () => {
    const { c, s } = joined();
    expect(c.getPeerCertificate()).to.equal(null);
    expect(c.getCipher()).to.equal(null);
    expect(c.getTLSVersion()).to.equal(null);
    expect(c.negotiatedProtocol).to.equal(null);
    c.destroy();
    s.destroy();
  });

  it('half-closes: close_notify ends the peer’s reading, which may still answer', async function () {
    // Bun's TLS ends both directions on the peer's close_notify.
    if (!TLS_HALF_CLOSE_SUPPORTED) this.skip();
    const { c, s, co, so } = joined();
    c.write('request');
    c.end();
    await until(() => so.events.includes('readEnded'));
    expect(so.text()).to.equal('request');
    expect(co.events).to.include('writeEnded');
    s.write('answer');
    s.end();
    await until(() => co.events.includes('readEnded'));
    expect(co.text()).to.equal('answer');
    expect(so.events).to.include('writeEnded');
    expect(co.failure).to.equal(null);
    expect(so.failure).to.equal(null);
  });

  it('counts plaintext not yet encrypted and reports the drain', async () => {
    const { c, co } = joined();
    c.write(Buffer.alloc(100_000, 1));
    expect(c.bufferedBytes).to.equal(100_000);
    await until(() => co.events.includes('drained'));
    expect(c.bufferedBytes).to.equal(0);
  });

  it('fails with TORSION_ERR_TLS_NOT_TLS on plaintext instead of a ClientHello', async () => {
    const owner = new Recorder();
    const s = new TLSEngine(serverOptions, owner, '127.0.0.1:5000');
    s.receive(Buffer.from('EHLO example.com\r\n'));
    await until(() => owner.failure !== null);
    expect(owner.failure?.code).to.equal('TORSION_ERR_TLS_NOT_TLS');
    expect(owner.failure?.message).to.include('127.0.0.1:5000');
    expect(owner.events).to.deep.equal(['failed in handshake']);
    expect(s.dead).to.equal(true);
  });

  it('fails with TORSION_ERR_TLS_CONNECTION_CLOSED when the stream ends during the handshake', async () => {
    const owner = new Recorder();
    const c = new TLSEngine(clientOptions, owner, 'server');
    await until(() => owner.sent.length > 0);
    c.receiveEnd();
    await until(() => owner.failure !== null);
    expect(owner.failure?.code).to.equal('TORSION_ERR_TLS_CONNECTION_CLOSED');
  });

  it('times the handshake out on the clock it is given', async () => {
    const clock = new ManualClock();
    const owner = new Recorder();
    const options = optionsForClientTLS('localhost', { handshakeTimeout: 7 });
    new TLSEngine(options, owner, 'server', clock);
    await turns(2);
    clock.advance(6.9);
    expect(owner.failure).to.equal(null);
    clock.advance(0.1);
    expect(owner.failure?.code).to.equal('TORSION_ERR_TLS_HANDSHAKE_TIMEOUT');
  });

  it('cancels the timeout once the handshake completed', async () => {
    const co = new Recorder();
    const so = new Recorder();
    const clock = new ManualClock();
    co.onSend = (d) => setImmediate(() => s.receive(d));
    so.onSend = (d) => setImmediate(() => c.receive(d));
    const c = new TLSEngine(clientOptions, co, 'server', clock);
    const s = new TLSEngine(serverOptions, so, 'client', clock);
    await until(() => co.events.includes('handshake') && so.events.includes('handshake'));
    clock.advance(60);
    expect(co.failure).to.equal(null);
    expect(so.failure).to.equal(null);
    expect(clock.calls.every((call) => call.cancelled)).to.equal(true);
  });

  it('verifies the server: an untrusted certificate fails the client', async () => {
    const { co } = joined([], optionsForClientTLS('localhost', { trustRoot: certs.otherCa.cert }));
    await until(() => co.failure !== null);
    expect(co.failure?.code).to.equal('TORSION_ERR_TLS_CERTIFICATE_UNTRUSTED');
  });

  it('verifies the client when the server requires a certificate', async () => {
    const server = serverTLSOptions({
      ...certs.server,
      clientCertificates: 'require',
      trustRoot: certs.ca.cert,
    });
    const untrusted = optionsForClientTLS('localhost', {
      trustRoot: certs.ca.cert,
      clientCertificate: certs.untrusted,
    });
    const { so } = joined([], untrusted, server);
    await until(() => so.failure !== null);
    expect(so.failure?.code).to.equal('TORSION_ERR_TLS_CERTIFICATE_UNTRUSTED');
    expect(so.events).to.not.include('handshake');

    const trusted = optionsForClientTLS('localhost', {
      trustRoot: certs.ca.cert,
      clientCertificate: certs.client,
    });
    const ok = joined([], trusted, server);
    await until(() => ok.so.events.includes('handshake'));
    expect(ok.s.getPeerCertificate()?.subject.CN).to.equal('torsion-test-client');
  });

  it('tells its owner nothing once destroyed', async () => {
    const { c, s, co, so } = joined();
    c.write('x');
    c.destroy();
    s.destroy();
    await turns(5);
    expect(co.events).to.deep.equal([]);
    expect(so.events).to.deep.equal([]);
    expect(c.bufferedBytes).to.equal(0);
  });

  it('does not depend on record boundaries: any re-chunking gives the same handshake and plaintext', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.constant([1]),
          fc.array(fc.integer({ min: 1, max: 2000 }), { minLength: 1, maxLength: 8 }),
        ),
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 3000 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 3000 }), { minLength: 1, maxLength: 4 }),
        async (sizes, fromClient, fromServer) => {
          const { c, s, co, so } = joined(sizes);
          for (const data of fromClient) c.write(data);
          for (const data of fromServer) s.write(data);
          c.end();
          s.end();
          const expectedAtServer = Buffer.concat(fromClient);
          const expectedAtClient = Buffer.concat(fromServer);
          await until(
            () =>
              (so.events.includes('readEnded') && co.events.includes('readEnded')) ||
              co.failure !== null ||
              so.failure !== null,
            20_000,
          );
          expect(co.failure).to.equal(null);
          expect(so.failure).to.equal(null);
          expect(co.events).to.include('handshake');
          expect(so.events).to.include('handshake');
          expect(Buffer.concat(so.received).equals(expectedAtServer)).to.equal(true);
          expect(Buffer.concat(co.received).equals(expectedAtClient)).to.equal(true);
        },
      ),
      { numRuns: 40 },
    );
  });
});
