/**
 * `BunTCPTransport`: one connected Bun socket seen through Twisted's
 * ITCPTransport, with the semantics of core's Node transport. What Bun's
 * native socket API leaves to its user is done here:
 *
 * - `socket.write()` sends directly and returns how many bytes the kernel
 *   took. The rest goes into a {@link WriteQueue} that is flushed on
 *   `drain`, so nothing is lost and `writeBufferSize` measures the backlog
 *   that flow control acts on.
 * - `socket.end()` closes the whole socket (and calls `close` before it
 *   returns); the FIN of a half-close is `socket.shutdown()`. The close
 *   that *we* start therefore reaches the protocol on a later turn, never
 *   from inside the user's own `abortConnection()`.
 * - Handlers are shared objects (one set per process); the transport lives
 *   on `socket.data`.
 *
 * Tests: test/transport.bun.test.ts, test/partial-writes.bun.test.ts,
 * test/half-close.bun.test.ts, test/fault-isolation.bun.test.ts
 * @module
 */
import type { Socket, SocketHandler } from 'bun';
import {
  ConnectionAborted,
  ConnectionLost,
  describeType,
  Failure,
  Logger,
  ServerTLSOptions,
} from '@torsion/core';
import {
  BaseTransport,
  DEFAULT_WRITE_HIGH_WATER_MARK,
  WriteQueue,
} from '@torsion/core/reactor-kit';
import type { ClientTLSOptions, IAddress, INETAddress, IProtocol, WriteData } from '@torsion/core';
import { BUN_TLS_LIMITS, checkBunCanServe } from './bun-tls-options.js';

const log = new Logger('torsion.bun');

/** Told once, after the protocol's `connectionLost` ran, that a transport is gone. */
export interface TransportOwner {
  transportClosed(transport: BunTCPTransport<IAddress>, reason: Failure): void;
}

/** What Bun's `socket.data` holds for Torsion's sockets. */
export type SocketData = object | null;

/** A Bun TCP socket as Torsion uses it. */
export type BunSocket = Socket<SocketData>;

// BunTCPTransport's #bits (one per state; see the accessors).
const T_END_SCHEDULED = 1;
const T_END_AFTER_FLUSH = 2;
const T_FIN_SENT = 4;
const T_PEER_ENDED = 8;
const T_SOCKET_GONE = 16;
const T_IN_OWN_CLOSE = 32;
const T_SOCKET_PAUSED = 64;
const T_NO_DELAY = 128;
const T_KEEP_ALIVE = 256;

/**
 * A TCP connection on Bun, or a UNIX-domain one (`A` is `UNIXAddress`: the
 * stream contract is the same, and Bun's Nagle and keep-alive calls are
 * harmless no-ops on a UNIX socket). Built by ports and connectors; user
 * code sees it as `ITCPTransport` or `IUNIXTransport` (`protocol.transport`).
 *
 * @remarks
 * Close sequence: `loseConnection()` stops reading, waits for a registered
 * producer to be unregistered, flushes what was written (including writes
 * made in the same turn), then sends FIN and closes. `abortConnection()`
 * resets at once. The protocol's `connectionLost(reason)` runs exactly
 * once, and nothing calls the protocol after it.
 */
export class BunTCPTransport<A extends IAddress = INETAddress> extends BaseTransport<A> {
  readonly #socket: BunSocket;
  readonly #protocol: IProtocol;
  readonly #owner: TransportOwner;
  /** Output Bun did not take yet; created on the first short write. */
  #queue: WriteQueue | null = null;

  /**
   * The states below, as bits (`T_*`) of BaseTransport's state field
   * ({@link BaseTransport.subclassBits}): an idle connection keeps one number
   * instead of nine fields, and shares it with the base class.
   */
  get #bits(): number {
    return this.subclassBits;
  }
  set #bits(bits: number) {
    this.subclassBits = bits;
  }

  /** A deferred {@link BunTCPTransport.#end} is scheduled. */
  get #endScheduled(): boolean {
    return (this.#bits & T_END_SCHEDULED) !== 0;
  }
  set #endScheduled(on: boolean) {
    this.#bits = on ? this.#bits | T_END_SCHEDULED : this.#bits & ~T_END_SCHEDULED;
  }

  /** {@link BunTCPTransport.#end} waits for the queue to drain. */
  get #endAfterFlush(): boolean {
    return (this.#bits & T_END_AFTER_FLUSH) !== 0;
  }
  set #endAfterFlush(on: boolean) {
    this.#bits = on ? this.#bits | T_END_AFTER_FLUSH : this.#bits & ~T_END_AFTER_FLUSH;
  }

  /** `loseWriteConnection()` sent our FIN (`socket.shutdown()`). */
  get #finSent(): boolean {
    return (this.#bits & T_FIN_SENT) !== 0;
  }
  set #finSent(on: boolean) {
    this.#bits = on ? this.#bits | T_FIN_SENT : this.#bits & ~T_FIN_SENT;
  }

  /** The peer's FIN arrived. */
  get #peerEnded(): boolean {
    return (this.#bits & T_PEER_ENDED) !== 0;
  }
  set #peerEnded(on: boolean) {
    this.#bits = on ? this.#bits | T_PEER_ENDED : this.#bits & ~T_PEER_ENDED;
  }

  /** Bun reported the socket closed. */
  get #socketGone(): boolean {
    return (this.#bits & T_SOCKET_GONE) !== 0;
  }
  set #socketGone(on: boolean) {
    this.#bits = on ? this.#bits | T_SOCKET_GONE : this.#bits & ~T_SOCKET_GONE;
  }

  /** We are inside our own `socket.end()`/`terminate()`, whose `close` arrives synchronously. */
  get #inOwnClose(): boolean {
    return (this.#bits & T_IN_OWN_CLOSE) !== 0;
  }
  set #inOwnClose(on: boolean) {
    this.#bits = on ? this.#bits | T_IN_OWN_CLOSE : this.#bits & ~T_IN_OWN_CLOSE;
  }

  /** Whether the Bun socket is paused right now. */
  get #socketPaused(): boolean {
    return (this.#bits & T_SOCKET_PAUSED) !== 0;
  }
  set #socketPaused(on: boolean) {
    this.#bits = on ? this.#bits | T_SOCKET_PAUSED : this.#bits & ~T_SOCKET_PAUSED;
  }

  /** setTcpNoDelay(true) was called last, or never called (Bun turns Nagle's algorithm off on every socket it creates). */
  get #noDelay(): boolean {
    return (this.#bits & T_NO_DELAY) !== 0;
  }
  set #noDelay(on: boolean) {
    this.#bits = on ? this.#bits | T_NO_DELAY : this.#bits & ~T_NO_DELAY;
  }

  /** setTcpKeepAlive(true) was called last. */
  get #keepAlive(): boolean {
    return (this.#bits & T_KEEP_ALIVE) !== 0;
  }
  set #keepAlive(on: boolean) {
    this.#bits = on ? this.#bits | T_KEEP_ALIVE : this.#bits & ~T_KEEP_ALIVE;
  }

  /**
   * @param socket - an open Bun socket created with `allowHalfOpen: true`.
   * @param protocol - the protocol to drive; {@link BunTCPTransport.start} attaches it.
   * @param host - this end's address, captured now so it survives the close.
   * @param peer - the remote address, likewise.
   * @param owner - told when the connection is gone.
   * @param highWaterMark - write high-water mark in bytes.
   */
  constructor(
    socket: BunSocket,
    protocol: IProtocol,
    host: A,
    peer: A,
    owner: TransportOwner,
    highWaterMark: number = DEFAULT_WRITE_HIGH_WATER_MARK,
  ) {
    super(host, peer, highWaterMark);
    this.#socket = socket;
    this.#protocol = protocol;
    this.#owner = owner;
    this.#bits = T_NO_DELAY;
    socket.data = this;
  }

  /**
   * Attaches the protocol: calls `protocol.makeConnection(this)`. An
   * exception there (usually from `connectionMade`) is logged and aborts the
   * connection, as on Node.
   * @internal
   */
  start(): void {
    this.attachProtocol(this.#protocol);
  }

  // ------------------------------------------------------------ writing

  /**
   * Sends bytes to the peer; strings are sent as UTF-8. Whatever Bun does
   * not take at once is queued and sent on `drain`, in order. Silently
   * ignored once the write side is closed (after the FIN, an abort, or an
   * error).
   * @throws TypeError if `data` is neither a Uint8Array nor a string.
   */
  write(data: WriteData): void {
    this.checkWriteData(data);
    if (this.writeClosed) return;
    if (this.tlsStarted) {
      this.writeTLS(data);
      return;
    }
    this.#send(data);
  }

  /**
   * Writes each item in order, as one batch: with nothing queued, the items
   * are joined into one send. Every item is checked first, so a bad item
   * writes nothing.
   * @throws TypeError if an item is neither a Uint8Array nor a string.
   */
  writeSequence(data: Iterable<WriteData>): void {
    const items = this.writeSequenceItems(data);
    if (this.writeClosed || items.length === 0) return;
    if (this.tlsStarted) {
      for (const item of items) this.writeTLS(item);
      return;
    }
    const [first] = items;
    if (items.length === 1 && first !== undefined) {
      this.#send(first);
    } else {
      // Bun has no writev: one send of the joined bytes beats one per item.
      this.#send(Buffer.concat(items.map(toBytes)));
    }
  }

  /**
   * Bytes written but not yet accepted by the kernel: what Bun's
   * `socket.write()` returned short of. Flow control keeps it near
   * {@link BaseTransport.writeHighWaterMark}.
   */
  get writeBufferSize(): number {
    return (this.#queue?.size ?? 0) + this.tlsBufferedBytes;
  }

  /**
   * Switches to TLS (see BaseTransport). Server options with SNI
   * certificates are refused: Bun's `node:tls` would ignore them and always
   * present the main certificate (capability `tlsSNI`, see docs/reactor-bun.md).
   * @throws Error naming the capability, for SNI certificates.
   */
  override startTLS(options: ClientTLSOptions | ServerTLSOptions): void {
    if (options instanceof ServerTLSOptions) checkBunCanServe(options);
    super.startTLS(options);
  }

  /**
   * Half-closes (see BaseTransport). Not after `startTLS()`: there the TLS
   * runs in Bun's `node:tls`, which cannot half-close (capability
   * `tlsHalfClose`, see docs/reactor-bun.md).
   * @throws Error naming the limitation, after `startTLS()`.
   */
  override loseWriteConnection(): void {
    if (this.tlsStarted && !this.disconnecting) throw new Error(BUN_TLS_LIMITS.tlsHalfClose);
    super.loseWriteConnection();
  }

  /** Turns Nagle's algorithm off (`true`) or on. Bun's default, kept here, is off (no delay). */
  setTcpNoDelay(enabled: boolean): void {
    this.#noDelay = enabled;
    if (!this.#socketGone) this.#socket.setNoDelay(enabled);
  }

  /** Whether Nagle's algorithm is off. */
  getTcpNoDelay(): boolean {
    return this.#noDelay;
  }

  /**
   * Enables or disables TCP keep-alive probes.
   * @param initialDelaySeconds - idle time before the first probe; 0 (default) keeps the OS setting.
   * @throws RangeError if `initialDelaySeconds` is negative or not finite.
   */
  setTcpKeepAlive(enabled: boolean, initialDelaySeconds = 0): void {
    this.checkKeepAliveDelay(initialDelaySeconds);
    this.#keepAlive = enabled;
    if (!this.#socketGone) {
      this.#socket.setKeepAlive(enabled, Math.round(initialDelaySeconds * 1000));
    }
  }

  /** Whether keep-alive probes are enabled. */
  getTcpKeepAlive(): boolean {
    return this.#keepAlive;
  }

  /** @returns a short description for logs. */
  override toString(): string {
    return `BunTCPTransport(${this.protocolName()}, peer=${this.getPeer().toString()})`;
  }

  /** Writes now if nothing is queued, and queues what Bun did not take. */
  #send(data: WriteData): void {
    let queue = this.#queue;
    if (queue === null || queue.empty) {
      const written = this.#socket.write(data);
      if (written < 0) {
        this.#writeRefused();
        return;
      }
      let rest: Uint8Array;
      if (typeof data === 'string') {
        // Bun counts UTF-8 bytes; encode only when the send was short.
        if (written >= data.length && written >= Buffer.byteLength(data)) {
          this.afterWrite(0);
          return;
        }
        rest = Buffer.from(data, 'utf8').subarray(written);
      } else {
        if (written >= data.byteLength) {
          this.afterWrite(0);
          return;
        }
        rest = data.subarray(written);
      }
      queue ??= this.#queue = new WriteQueue();
      queue.push(rest);
    } else {
      queue.push(data);
    }
    this.afterWrite(queue.size);
  }

  /** Bun refused a write (the socket is closing): drop output; `close` follows. */
  #writeRefused(): void {
    this.writeClosed = true;
    this.#queue?.clear();
  }

  /** Bun's `drain`: the socket is writable again. */
  #drained(): void {
    if (this.#socketGone) return;
    const queue = this.#queue;
    if (queue !== null && queue.size > 0) {
      if (!queue.flushTo(this.#socket)) {
        this.#writeRefused();
        return;
      }
      if (queue.size > 0) return;
    }
    if (this.#endAfterFlush) {
      this.#endAfterFlush = false;
      this.#end();
      if (this.#gone()) return;
    }
    if (this.drainAwaited) this.writeBufferDrained();
  }

  // ------------------------------------------------------------ for BaseTransport

  /** Where exceptions from user code are logged. */
  protected get log(): Logger {
    return log;
  }

  /** The protocol's type name, for log messages. */
  protected protocolName(): string {
    return describeType(this.#protocol);
  }

  /** The protocol this transport drives. */
  protected get attachedProtocol(): IProtocol {
    return this.#protocol;
  }

  /** Ciphertext after `startTLS()`: sent (or queued) behind what was written before. */
  protected writeRaw(data: Buffer): void {
    if (!this.#socketGone) this.#send(data);
  }

  /** Our close_notify is out (or TLS failed): the FIN (or the close) after the queue. */
  protected endRaw(): void {
    this.#end();
  }

  /** The peer's end of the stream (under TLS, its close_notify). */
  protected peerEnded(): void {
    this.readConnectionLost(this.#protocol);
  }

  /** A reason to hold reads back appeared. */
  protected pauseReading(): void {
    this.#updateReading();
  }

  /** A reason to hold reads back went away. */
  protected resumeReading(): void {
    this.#updateReading();
  }

  /** `drain` reports the queue emptying; an empty queue is reported on the next turn. */
  protected notifyWhenDrained(): void {
    if (this.writeBufferSize === 0) setImmediate(BunTCPTransport.#drainedSoon, this);
  }

  /** Ends the write side soon, once no producer holds it back. */
  protected scheduleEnd(): void {
    if (this.#endScheduled || this.producerHoldsClose || this.#socketGone) return;
    this.#endScheduled = true;
    // Deferred to the check phase so writes made right after loseConnection()
    // (same callback, or promise continuations) are still delivered, as in Twisted.
    setImmediate(BunTCPTransport.#endSoon, this);
  }

  /** Resets the connection now (`socket.terminate()`); `connectionLost` follows on a later turn. */
  protected abort(reason: Failure | null): void {
    if (this.lost) return;
    this.closeRequested = true;
    this.writeClosed = true;
    this.#queue?.clear();
    if (this.#socketGone) return;
    this.recordReason(() => reason ?? new Failure(new ConnectionAborted()));
    this.#inOwnClose = true;
    try {
      this.#socket.terminate();
    } finally {
      this.#inOwnClose = false;
    }
  }

  // ------------------------------------------------------------ reading and closing

  /** Whether the socket or the connection is gone (read after calls that may close it). */
  #gone(): boolean {
    return this.#socketGone || this.lost;
  }

  /** Pauses or resumes Bun's reads to match every reason to hold them back. */
  #updateReading(): void {
    if (this.#socketGone) return;
    const paused = this.readPaused || this.closeRequested;
    if (paused === this.#socketPaused) return;
    this.#socketPaused = paused;
    if (paused) this.#socket.pause();
    else this.#socket.resume();
  }

  #deliver(data: Buffer): void {
    // Reading stops at loseConnection()/abort; drop anything already in flight.
    if (this.closeRequested || this.lost) return;
    if (this.tlsStarted) {
      this.receiveTLS(data);
      return;
    }
    try {
      this.#protocol.dataReceived(data);
    } catch (err) {
      this.protocolFailed('dataReceived', err);
    }
  }

  /** The peer sent FIN. */
  #readEnded(): void {
    if (this.#peerEnded) return;
    this.#peerEnded = true;
    if (this.tlsStarted) this.receiveTLSEnd();
    else this.peerEnded();
  }

  #end(): void {
    this.#endScheduled = false;
    if (this.#socketGone || this.producerHoldsClose) return;
    if (this.tlsStarted && !this.writeClosed) {
      // close_notify after everything written; endRaw() comes back here for the FIN.
      this.endTLS();
      return;
    }
    if (this.writeBufferSize > 0) {
      // As Twisted: writes are still accepted until everything is flushed,
      // then the FIN goes out (#drained calls back here).
      this.#endAfterFlush = true;
      return;
    }
    const socket = this.#socket;
    if (this.closeRequested) {
      // Everything is flushed: FIN and close. Bun's end() closes the whole
      // socket and reports it before returning.
      this.writeClosed = true;
      this.#inOwnClose = true;
      try {
        socket.end();
      } finally {
        this.#inOwnClose = false;
      }
      return;
    }
    if (this.#finSent) return;
    // loseWriteConnection(): FIN, keep reading.
    this.#finSent = true;
    this.writeClosed = true;
    socket.shutdown();
    this.writeConnectionLost(this.#protocol);
  }

  /** Bun's `close`: the socket is gone, cleanly or with `error`. */
  #socketClosed(error: Error | undefined): void {
    if (this.#socketGone) return;
    this.#socketGone = true;
    this.writeClosed = true;
    if (error !== undefined) this.recordReason(() => this.failureFor(error));
    if (this.#inOwnClose) {
      // Never call the protocol from inside its own abortConnection().
      setImmediate(BunTCPTransport.#lostSoon, this);
      return;
    }
    if (
      error === undefined &&
      !this.#peerEnded &&
      this.halfCloseRequested &&
      !this.closeRequested
    ) {
      // After our shutdown(), Bun reports the peer's FIN as `close` without
      // `end`; a half-closeable protocol still hears readConnectionLost first.
      this.#readEnded();
    }
    this.#connectionLost();
  }

  /** Bun's `error`: a socket-level failure; `close` follows. */
  #socketError(error: Error): void {
    this.writeClosed = true;
    this.recordReason(() => this.failureFor(error));
  }

  /** Why a socket error ends the connection (a TLS transport names TLS failures as such). */
  protected failureFor(error: Error): Failure {
    return new Failure(new ConnectionLost(`Connection lost: ${error.message}`, { cause: error }));
  }

  #connectionLost(): void {
    if (this.lost) return;
    this.#queue = null;
    // The socket is closed and reports nothing more; unhooking it now, before
    // the protocol hears of the loss, is the same as after.
    this.#socket.data = null;
    this.connectionEnded(this.#protocol, this.recordedReason, this.#owner);
  }

  // ------------------------------------------------------------ Bun's handlers (shared)

  /**
   * Bun's socket handlers for an open connection, shared by every socket
   * (ports and connectors add their own `open`).
   * @internal
   */
  static readonly handlers: Required<
    Pick<SocketHandler<SocketData>, 'data' | 'drain' | 'end' | 'close' | 'error'>
  > = {
    data(socket, data) {
      const transport = socket.data;
      if (transport instanceof BunTCPTransport) transport.#deliver(data);
    },
    drain(socket) {
      const transport = socket.data;
      if (transport instanceof BunTCPTransport) transport.#drained();
    },
    end(socket) {
      const transport = socket.data;
      if (transport instanceof BunTCPTransport) transport.#readEnded();
    },
    close(socket, error) {
      const transport = socket.data;
      if (transport instanceof BunTCPTransport) transport.#socketClosed(error);
    },
    error(socket, error) {
      const transport = socket.data;
      if (transport instanceof BunTCPTransport) {
        const peer = (transport as BunTCPTransport<IAddress>).getPeer();
        log.failure('Socket error', error, { peer: peer.toString() }, 'warn');
        transport.#socketError(error);
      } else {
        log.failure('Socket error', error, {}, 'warn');
      }
    },
  };

  static #endSoon(transport: BunTCPTransport<IAddress>): void {
    transport.#end();
  }

  static #drainedSoon(transport: BunTCPTransport<IAddress>): void {
    transport.writeBufferDrained();
  }

  static #lostSoon(transport: BunTCPTransport<IAddress>): void {
    transport.#connectionLost();
  }
}

function toBytes(data: WriteData): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}
