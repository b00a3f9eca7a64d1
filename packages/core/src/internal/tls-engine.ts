/**
 * `TLSEngine`: one TLS connection run in memory, with no socket of its own.
 * Node's `tls.TLSSocket` does the TLS; it sits on a private `stream.Duplex`
 * (the "wire") whose writes are the ciphertext the owner must send and whose
 * reads are the ciphertext the owner received. The owner (a transport) moves
 * those bytes over whatever carries them: a TCP socket after `startTLS()`, a
 * Bun socket, the simulated network, an in-memory pump. So every transport
 * gets the same TLS, the same verification and the same error codes, and the
 * engine never touches a file descriptor.
 *
 * The engine is asynchronous by event-loop ticks, not by I/O: ciphertext fed
 * with {@link TLSEngine.receive} is decrypted, and plaintext given to
 * {@link TLSEngine.write} encrypted, within the same turn's `process.nextTick`
 * queue, and the wire's end (after our close_notify) one `setImmediate` later.
 * A caller that drives it synchronously (a loop that never yields) sees
 * nothing happen; see the simulated reactor and the in-memory pump.
 *
 * Tests: test/tls-engine.test.ts, test/tls-start.integration.test.ts,
 * test/testing/simulated/simulated-tls.test.ts
 * @module
 */
import { Duplex } from 'node:stream';
import { connect, type TLSSocket } from 'node:tls';
import type { TLSError } from '../errors.js';
import type { TLSCipher, TLSPeerCertificate, WriteData } from '../interfaces.js';
import { ClientTLSOptions, type ServerTLSOptions } from '../tls-options.js';
import {
  tlsClosedDuringHandshake,
  tlsErrorFor,
  tlsHandshakeTimeout,
} from '../reactor-kit/tls-errors.js';
import { clientSocketOptions, serverSocketOptions } from './tls-context.js';
import { acceptTLS, clientCertificateError } from './tls-server-socket.js';
import { alpnOf, cipherOf, peerCertificateOf, tlsVersionOf } from './tls-socket-info.js';

/**
 * What the engine tells its owner. Each is called on a later tick than the
 * call that caused it, except that a client's ClientHello may be handed to
 * `tlsSend` while the engine is being constructed.
 */
export interface TLSEngineOwner {
  /** Ciphertext to send to the peer, in order. */
  tlsSend(data: Buffer): void;
  /** Plaintext decrypted from the peer. */
  tlsReceived(data: Buffer): void;
  /** The handshake completed (and the peer was verified as the options ask). */
  tlsHandshakeCompleted(): void;
  /**
   * The handshake failed or timed out, or the TLS stream broke afterwards
   * (a bad record, an alert): the engine is dead. Whatever ciphertext it
   * produced before (an alert for the peer) was already sent.
   */
  tlsFailed(error: TLSError, duringHandshake: boolean): void;
  /** The peer's close_notify (or its FIN without one): no more plaintext will come. */
  tlsReadEnded(): void;
  /** Our close_notify was sent (after every byte written): the owner may send its FIN. */
  tlsWriteEnded(): void;
  /** Everything given to {@link TLSEngine.write} was encrypted and handed to `tlsSend`. */
  tlsDrained(): void;
}

/** Schedules the handshake timeout: the reactor's clock, so it works in virtual time too. */
export interface HandshakeClock {
  callLater(delaySeconds: number, fn: () => void): { cancel(): void };
}

/** A clock on real time, for transports that have no reactor at hand. */
export const REAL_TIME_CLOCK: HandshakeClock = {
  callLater(delaySeconds, fn) {
    const timer = setTimeout(fn, delaySeconds * 1000);
    // The connection keeps the process alive, not its handshake timer.
    timer.unref();
    return {
      cancel() {
        clearTimeout(timer);
      },
    };
  },
};

/**
 * Whether the engine can half-close (TLS 1.3): send close_notify and go on
 * reading, and hear the peer's close_notify and go on writing. Node can.
 * Bun's `node:tls` cannot: the peer's close_notify also ends our side (its
 * TLS socket answers with its own close_notify at once), so on Bun a
 * `loseWriteConnection()` under TLS is done as a full close (see
 * BaseTransport) and a peer's half-close ends the connection.
 */
export const TLS_HALF_CLOSE_SUPPORTED = (process.versions as { bun?: string }).bun === undefined;

/** Runs one TLS connection in memory; see the module comment. */
export class TLSEngine {
  /** Which side of the handshake this engine plays. */
  readonly isServer: boolean;
  readonly #owner: TLSEngineOwner;
  readonly #peer: string;
  readonly #wire: Duplex;
  readonly #socket: TLSSocket;
  readonly #verifyClientCertificate: boolean;
  #timer: { cancel(): void } | null;
  #handshakeDone = false;
  #dead = false;
  /** {@link TLSEngine.end} was called. */
  #ended = false;
  /** The TLS layer ended the wire (after its close_notify). */
  #wireEnded = false;
  #readEnded = false;
  #pendingWrites = 0;
  readonly #afterWrite: (err?: Error | null) => void;

  /**
   * Starts the handshake at once (a client sends its ClientHello through
   * `owner.tlsSend` on a later tick).
   * @param options - this side's options (`serverTLSOptions()` or `optionsForClientTLS()`).
   * @param owner - told what happens; see {@link TLSEngineOwner}.
   * @param peer - the peer, for error messages (`"127.0.0.1:443"`).
   * @param clock - schedules the handshake timeout.
   */
  constructor(
    options: ClientTLSOptions | ServerTLSOptions,
    owner: TLSEngineOwner,
    peer: string,
    clock: HandshakeClock = REAL_TIME_CLOCK,
  ) {
    this.#owner = owner;
    this.#peer = peer;
    this.isServer = !(options instanceof ClientTLSOptions);
    // 'request' as well as 'require': a certificate that was sent must verify.
    this.#verifyClientCertificate =
      !(options instanceof ClientTLSOptions) && options.clientCertificates !== 'none';
    this.#afterWrite = (err) => {
      this.#writeDone(err);
    };
    const wire = new Duplex({
      allowHalfOpen: true,
      read: () => {},
      write: (chunk: Buffer, _encoding, callback) => {
        // Handed on at once: flow control is the owner's (its writeBufferSize
        // counts what it has not sent yet).
        if (!this.#dead) this.#owner.tlsSend(chunk);
        callback();
      },
      final: (callback) => {
        // The TLS layer ended the wire: our close_notify went out before it.
        // Bun's TLS also ends it by itself, when the peer's close_notify
        // arrives or the handshake fails: writes are dropped from then on,
        // and the owner hears of it once it asks for the end itself.
        this.#wireEnded = true;
        callback();
        if (this.#ended && !this.#dead) this.#owner.tlsWriteEnded();
      },
    });
    wire.on('error', () => {
      // Errors surface on the TLS socket; this listener only keeps one off the process.
    });
    this.#wire = wire;
    // allowHalfOpen (accepted by both, missing from @types/node's option
    // types): the peer's close_notify must not end our side too.
    const halfOpen = { allowHalfOpen: true };
    const socket =
      options instanceof ClientTLSOptions
        ? connect({ socket: wire, ...halfOpen, ...clientSocketOptions(options) })
        : acceptTLS(wire, { ...halfOpen, ...serverSocketOptions(options) });
    this.#socket = socket;
    socket.on('error', (err: Error) => {
      this.#fail(err);
    });
    socket.on(this.isServer ? 'secure' : 'secureConnect', () => {
      this.#secured();
    });
    socket.on('data', (data: Buffer) => {
      if (!this.#dead) this.#owner.tlsReceived(data);
    });
    socket.on('end', () => {
      this.#peerEnded();
    });
    this.#timer = clock.callLater(options.handshakeTimeout, () => {
      this.#timer = null;
      if (this.#handshakeDone || this.#dead) return;
      this.#die(tlsHandshakeTimeout(peer, options.handshakeTimeout), true);
    });
  }

  /** True once the handshake completed. */
  get handshakeCompleted(): boolean {
    return this.#handshakeDone;
  }

  /** True once the engine failed or was destroyed. */
  get dead(): boolean {
    return this.#dead;
  }

  /** Plaintext written and not yet encrypted (and handed to the owner). */
  get bufferedBytes(): number {
    return this.#dead ? 0 : this.#socket.writableLength;
  }

  /** Ciphertext from the peer. */
  receive(data: Uint8Array): void {
    if (this.#dead || this.#readEnded) return;
    this.#wire.push(data);
  }

  /** The peer's FIN (the raw end of the stream under TLS). */
  receiveEnd(): void {
    if (this.#dead || this.#readEnded) return;
    this.#wire.push(null);
  }

  /** Plaintext to encrypt; ignored after {@link TLSEngine.end} or once dead. */
  write(data: WriteData): void {
    if (this.#dead || this.#ended || this.#wireEnded) return;
    this.#pendingWrites++;
    this.#socket.write(data, this.#afterWrite);
  }

  /** Sends close_notify after everything written; `tlsWriteEnded` follows. */
  end(): void {
    if (this.#dead || this.#ended) return;
    this.#ended = true;
    if (this.#wireEnded) {
      // Ended already (Bun, see the wire's final): just report it, on a later tick.
      process.nextTick(() => {
        if (!this.#dead) this.#owner.tlsWriteEnded();
      });
      return;
    }
    this.#socket.end();
  }

  /** Stops delivering plaintext until {@link TLSEngine.resume}. */
  pause(): void {
    if (!this.#dead) this.#socket.pause();
  }

  /** Delivers plaintext again. */
  resume(): void {
    if (!this.#dead) this.#socket.resume();
  }

  /** Drops the connection's TLS state; the owner hears nothing more. */
  destroy(): void {
    if (this.#dead) return;
    this.#dead = true;
    this.#cancelTimer();
    this.#socket.destroy();
    this.#wire.destroy();
  }

  /** The peer's certificate, once the handshake completed. */
  getPeerCertificate(): TLSPeerCertificate | null {
    return this.#handshakeDone ? peerCertificateOf(this.#socket) : null;
  }

  /** The cipher suite, once the handshake completed. */
  getCipher(): TLSCipher | null {
    return this.#handshakeDone ? cipherOf(this.#socket) : null;
  }

  /** The TLS version, once the handshake completed. */
  getTLSVersion(): string | null {
    return this.#handshakeDone ? tlsVersionOf(this.#socket) : null;
  }

  /** The ALPN protocol agreed on, or `null`. */
  get negotiatedProtocol(): string | null {
    return this.#handshakeDone ? alpnOf(this.#socket) : null;
  }

  // ------------------------------------------------------------ internals

  #secured(): void {
    if (this.#dead || this.#handshakeDone) return;
    if (this.#verifyClientCertificate) {
      const error = clientCertificateError(this.#socket);
      if (error !== null) {
        this.#die(tlsErrorFor(error, this.#peer), true);
        return;
      }
    }
    this.#handshakeDone = true;
    this.#cancelTimer();
    this.#owner.tlsHandshakeCompleted();
  }

  #writeDone(err: Error | null | undefined): void {
    // An error is reported through the socket's 'error' event as well.
    if (err != null || this.#dead) return;
    if (--this.#pendingWrites === 0) this.#owner.tlsDrained();
  }

  #peerEnded(): void {
    if (this.#dead || this.#readEnded) return;
    if (!this.#handshakeDone) {
      this.#die(tlsClosedDuringHandshake(this.#peer), true);
      return;
    }
    this.#readEnded = true;
    this.#owner.tlsReadEnded();
  }

  #fail(err: Error): void {
    if (this.#dead) return;
    const duringHandshake = !this.#handshakeDone;
    const error =
      duringHandshake && isDisconnect(err)
        ? tlsClosedDuringHandshake(this.#peer, err)
        : tlsErrorFor(err, this.#peer);
    this.#die(error, duringHandshake);
  }

  #die(error: TLSError, duringHandshake: boolean): void {
    if (this.#dead) return;
    this.destroy();
    this.#owner.tlsFailed(error, duringHandshake);
  }

  #cancelTimer(): void {
    const timer = this.#timer;
    this.#timer = null;
    timer?.cancel();
  }
}

/** Node's error for a stream that ended before the handshake finished. */
function isDisconnect(err: Error): boolean {
  const code = (err as { code?: unknown }).code;
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE';
}
