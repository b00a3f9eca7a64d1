/**
 * `BunTLSTransport`: a connection made by `listenSSL` or `connectSSL` on
 * BunReactor. The bytes are Bun's native TLS socket's, so reading, writing,
 * flow control and closing are BunTCPTransport's unchanged (on a TLS socket
 * Bun's `end()` sends close_notify before the FIN, `terminate()` neither);
 * this adds what ITLSTransport reports about the session, and names a TLS
 * failure after the handshake (a fatal alert, a record that does not
 * decrypt) as a TLSError.
 *
 * Tests: test/tls.bun.test.ts
 * @module
 */
import type { PeerCertificate } from 'node:tls';
import { checkTLSOptions, Failure, TLSError } from '@torsion/core';
import type {
  ClientTLSOptions,
  INETAddress,
  IHandshakeListener,
  IProtocol,
  ServerTLSOptions,
  TLSCipher,
  TLSPeerCertificate,
} from '@torsion/core';
import { tlsErrorCodeFor } from '@torsion/core/reactor-kit';
import { BunTCPTransport } from './bun-tcp-transport.js';
import type { BunSocket, TransportOwner } from './bun-tcp-transport.js';
import { engineError } from './bun-tls-handshake.js';

/**
 * A TLS connection on Bun, connected to its protocol once the handshake
 * completed. User code sees it as `ITLSTransport`.
 */
export class BunTLSTransport extends BunTCPTransport {
  readonly #tlsSocket: BunSocket;
  readonly #tlsProtocol: IProtocol & Partial<IHandshakeListener>;
  /** Read once the handshake completed; the socket answers nothing after its close. */
  #peerCertificate: TLSPeerCertificate | null | undefined;
  #cipher: TLSCipher | null | undefined;
  #version: string | null | undefined;
  #alpn: string | null | undefined;

  constructor(
    socket: BunSocket,
    protocol: IProtocol,
    host: INETAddress,
    peer: INETAddress,
    owner: TransportOwner,
    highWaterMark: number,
  ) {
    super(socket, protocol, host, peer, owner, highWaterMark);
    this.#tlsSocket = socket;
    this.#tlsProtocol = protocol;
  }

  /**
   * Right after the protocol was connected: reads what the session settled
   * on while the socket can still say, then tells a protocol that has
   * `handshakeCompleted()` (an exception there costs the connection).
   * @internal
   */
  handshakeCompleted(): void {
    this.getPeerCertificate();
    void this.negotiatedProtocol;
    this.getCipher();
    this.getTLSVersion();
    if (this.lost || typeof this.#tlsProtocol.handshakeCompleted !== 'function') return;
    try {
      this.#tlsProtocol.handshakeCompleted();
    } catch (err) {
      this.protocolFailed('handshakeCompleted', err);
    }
  }

  /** Always true: the protocol is connected only after the handshake. */
  override get secure(): boolean {
    return true;
  }

  /** The peer's certificate, or `null` if it sent none. */
  override getPeerCertificate(): TLSPeerCertificate | null {
    this.#peerCertificate ??= peerCertificateOf(this.#tlsSocket);
    return this.#peerCertificate;
  }

  /** The ALPN protocol both sides agreed on, or `null`. */
  override get negotiatedProtocol(): string | null {
    if (this.#alpn === undefined) {
      const alpn = this.#tlsSocket.alpnProtocol;
      this.#alpn = typeof alpn === 'string' ? alpn : null;
    }
    return this.#alpn;
  }

  /** The cipher suite the handshake settled on. */
  override getCipher(): TLSCipher | null {
    if (this.#cipher === undefined) {
      const cipher = this.#tlsSocket.getCipher() as Partial<TLSCipher> | null | undefined;
      this.#cipher =
        typeof cipher?.name === 'string'
          ? {
              name: cipher.name,
              standardName: cipher.standardName ?? cipher.name,
              version: cipher.version ?? '',
            }
          : null;
    }
    return this.#cipher;
  }

  /** `'TLSv1.2'` or `'TLSv1.3'`. */
  override getTLSVersion(): string | null {
    if (this.#version === undefined) {
      const version = this.#tlsSocket.getTLSVersion() as string | null;
      this.#version = typeof version === 'string' && version !== 'unknown' ? version : null;
    }
    return this.#version;
  }

  /**
   * TLS is already on.
   * @throws TypeError for options not made by the TLS option builders.
   * @throws Error always: this connection speaks TLS from its first byte.
   */
  override startTLS(options: ClientTLSOptions | ServerTLSOptions): void {
    checkTLSOptions(options);
    throw new Error('startTLS() was called on a connection that already speaks TLS');
  }

  /** An engine error after the handshake ends the connection with a TLSError; others as over TCP. */
  protected override failureFor(error: Error): Failure {
    // Only the TLS engine's own failures: a reset or a broken pipe after the
    // handshake is a lost connection, as over TCP.
    const engineCode = (engineError(error) as { code?: unknown }).code;
    const code =
      typeof engineCode === 'string' && engineCode.startsWith('ERR_SSL_')
        ? tlsErrorCodeFor(engineCode)
        : undefined;
    if (code === undefined) return super.failureFor(error);
    return new Failure(
      new TLSError(
        code,
        `TLS connection with ${this.getPeer().toString()} failed: ${error.message}`,
        {
          cause: error,
        },
      ),
    );
  }

  override toString(): string {
    return super.toString().replace(/^BunTCPTransport/, 'BunTLSTransport');
  }
}

/** The peer's certificate in Torsion's shape, or `null` if it sent none. */
function peerCertificateOf(socket: BunSocket): TLSPeerCertificate | null {
  const cert = socket.getPeerCertificate() as Partial<PeerCertificate> | null | undefined;
  if (cert?.raw === undefined) return null;
  return {
    subject: { ...cert.subject },
    issuer: { ...cert.issuer },
    valid_from: cert.valid_from ?? '',
    valid_to: cert.valid_to ?? '',
    serialNumber: cert.serialNumber ?? '',
    fingerprint256: cert.fingerprint256 ?? '',
    raw: cert.raw,
    ...(cert.subjectaltname === undefined ? {} : { subjectaltname: cert.subjectaltname }),
  };
}
