/**
 * `TLSTransport`: a connection made by `listenSSL` or `connectSSL` on
 * NodeReactor, whose handshake already completed. Node's `tls.TLSSocket` is a
 * `net.Socket`, so {@link TCPTransport} drives it unchanged: writes, flow
 * control, pausing reads (a paused TLS socket stops reading the TCP socket
 * once its own buffer is full), `end()` (which sends close_notify, then the
 * FIN), half-close and `setNoDelay`/`setKeepAlive` (which Node passes on to
 * the TCP handle). What differs is here:
 *
 * - an abort resets the TCP socket underneath: `resetAndDestroy()` refuses a
 *   TLS socket (its handle is the TLS layer, not TCP), and no close_notify
 *   may go out. Destroying the TLS socket right after resetting the TCP one
 *   has crashed Node, so the TLS socket is left to notice on its own (it
 *   does, at once) and is destroyed only if it has not by the time the TCP
 *   socket reports its close;
 * - an error the TLS layer raises after the handshake (an alert such as
 *   TLS 1.3's "certificate required", which reaches a client only after its
 *   side of the handshake completed) ends the connection with a TLSError;
 * - the ITLSTransport members report the TLS socket's state, and
 *   `startTLS()` throws (the connection already speaks TLS);
 * - once the protocol is connected, its `handshakeCompleted()` runs;
 * - Nagle's algorithm is off from the start (`getTcpNoDelay()` is true;
 *   `setTcpNoDelay(false)` turns it back on). TLS already sends each write
 *   as a record, and with Nagle on, a connection whose reads were paused
 *   because its output backed up left its last small segment waiting for
 *   the peer's delayed ACK: about 40 ms per round trip, a twentieth of the
 *   throughput of `tls.createServer` in the 100 KiB echo benchmark.
 *
 * Tests: test/tls.integration.test.ts, test/tls-close.integration.test.ts,
 * test/tls-openssl.integration.test.ts
 * @module
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { INETAddress } from '../address.js';
import { errorCode } from '../error-code.js';
import { Failure } from '../failure.js';
import type {
  IHandshakeListener,
  IProtocol,
  TLSCipher,
  TLSPeerCertificate,
} from '../interfaces.js';
import { tlsErrorFor } from '../reactor-kit/tls-errors.js';
import type { ClientTLSOptions, ServerTLSOptions } from '../tls-options.js';
import { TCPTransport, type TransportOwner } from './tcp-transport.js';
import { alpnOf, cipherOf, peerCertificateOf, tlsVersionOf } from './tls-socket-info.js';

const kTLSSocket = Symbol('torsion.tlsSocket');
interface ResetSocket extends Socket {
  [kTLSSocket]?: TLSSocket | undefined;
}

function hasHandshakeCompleted(protocol: IProtocol): protocol is IProtocol & IHandshakeListener {
  return typeof (protocol as Partial<IHandshakeListener>).handshakeCompleted === 'function';
}

/**
 * A TLS connection over TCP on NodeReactor. Built by the TLS port and
 * connector once the handshake completed; user code sees it as
 * `ITLSTransport` (`protocol.transport`), with `secure` true.
 */
export class TLSTransport extends TCPTransport {
  readonly #tlsSocket: TLSSocket;
  readonly #tcpSocket: Socket;

  /**
   * @param tlsSocket - the TLS socket, its handshake completed.
   * @param tcpSocket - the TCP socket under it (reset by an abort).
   * @param protocol - the protocol to drive; {@link TLSTransport.start} attaches it.
   * @param host - this end's address.
   * @param peer - the remote address.
   * @param owner - told when the connection is gone.
   * @param highWaterMark - write high-water mark in bytes.
   */
  constructor(
    tlsSocket: TLSSocket,
    tcpSocket: Socket,
    protocol: IProtocol,
    host: INETAddress,
    peer: INETAddress,
    owner: TransportOwner,
    highWaterMark: number,
  ) {
    super(tlsSocket, protocol, host, peer, owner, highWaterMark);
    this.#tlsSocket = tlsSocket;
    this.#tcpSocket = tcpSocket;
    // Nagle's algorithm off by default; see the module comment.
    this.setTcpNoDelay(true);
  }

  /**
   * Attaches the protocol (`makeConnection`, so `connectionMade`), then calls
   * its `handshakeCompleted()` if it has one and the connection is still
   * open; an exception from either aborts the connection.
   * @internal
   */
  override start(): void {
    super.start();
    const protocol = this.attachedProtocol;
    if (this.lost || !hasHandshakeCompleted(protocol)) return;
    try {
      protocol.handshakeCompleted();
    } catch (err) {
      this.protocolFailed('handshakeCompleted', err);
    }
  }

  // ------------------------------------------------------------ ITLSTransport

  /**
   * Always throws: this connection speaks TLS from its start.
   * @throws Error
   */
  override startTLS(options: ClientTLSOptions | ServerTLSOptions): void {
    void options;
    throw new Error(
      'startTLS() on a connection that already speaks TLS (made by listenSSL or connectSSL)',
    );
  }

  /** True: the handshake completed before the protocol was connected. */
  override get secure(): boolean {
    return true;
  }

  /** The peer's certificate; `null` if it sent none, or once the connection is closed. */
  override getPeerCertificate(): TLSPeerCertificate | null {
    return peerCertificateOf(this.#tlsSocket);
  }

  /** The ALPN protocol both sides agreed on, or `null`. */
  override get negotiatedProtocol(): string | null {
    return alpnOf(this.#tlsSocket);
  }

  /** The cipher suite; `null` once the connection is closed. */
  override getCipher(): TLSCipher | null {
    return cipherOf(this.#tlsSocket);
  }

  /** `'TLSv1.2'` or `'TLSv1.3'`; `null` once the connection is closed. */
  override getTLSVersion(): string | null {
    return tlsVersionOf(this.#tlsSocket);
  }

  /** @returns a short description for logs. */
  override toString(): string {
    return `TLSTransport(${this.protocolName()}, peer=${this.getPeer().toString()})`;
  }

  // ------------------------------------------------------------ TCPTransport's hooks

  /** Resets the TCP socket under the TLS one; see the module comment. */
  protected override resetSocket(): void {
    const tcp = this.#tcpSocket as ResetSocket;
    if (tcp.destroyed) {
      this.#tlsSocket.destroy();
      return;
    }
    tcp[kTLSSocket] = this.#tlsSocket;
    tcp.once('close', TLSTransport.#onTCPClosed);
    tcp.resetAndDestroy();
  }

  /** An error of the TLS layer itself (`ERR_SSL_…`) is a TLSError; others are ConnectionLost. */
  protected override socketErrorReason(err: Error): Failure {
    const code = errorCode(err);
    if (code?.startsWith('ERR_SSL_') === true) {
      return new Failure(tlsErrorFor(err, this.getPeer().toString()));
    }
    return super.socketErrorReason(err);
  }

  static #onTCPClosed(this: ResetSocket): void {
    const tlsSocket = this[kTLSSocket];
    this[kTLSSocket] = undefined;
    if (tlsSocket !== undefined && !tlsSocket.destroyed) tlsSocket.destroy();
  }
}
