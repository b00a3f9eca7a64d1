/**
 * `TCPTransport`: one connected `net.Socket` seen through Twisted's
 * ITCPTransport. This is where Node's sharp edges are absorbed: every socket
 * has an `'error'` listener, writes after close are silent no-ops instead of
 * ERR_STREAM_WRITE_AFTER_END, the FIN is sent when *we* decide (the socket is
 * created with `allowHalfOpen`), output is bounded by default, and an
 * exception thrown by the protocol costs only its own connection. Producers,
 * flow control and close requests are {@link BaseTransport}'s; this file only
 * drives the socket.
 *
 * Output: a write goes straight to the socket when nothing is waiting, except
 * that small writes after the first of a turn are collected in a
 * {@link WriteQueue} and handed over as one write at the end of the turn, and
 * everything written while Node still holds unsent bytes waits in the queue
 * until the socket has flushed. Node keeps an object per `socket.write()`,
 * several hundred bytes for a two-byte write: without this a peer that sends
 * empty lines to a line echo and never reads made each connection hold
 * megabytes for 64 KiB of output.
 *
 * After `startTLS()` the socket carries ciphertext from BaseTransport's TLS
 * engine, through the same output path (so plaintext still queued goes out
 * before it); `write()` pays one check for it.
 *
 * Tests: test/tcp.integration.test.ts, test/tcp-producer.integration.test.ts,
 * test/tcp-half-close.integration.test.ts, test/tcp-shared-read.integration.test.ts
 * @module
 */
import type { Socket } from 'node:net';
import type { IAddress, INETAddress } from '../address.js';
import { BaseTransport, DEFAULT_WRITE_HIGH_WATER_MARK } from '../reactor-kit/base-transport.js';
import { ConnectionAborted, ConnectionLost } from '../errors.js';
import { Failure } from '../failure.js';
import type { IProtocol, WriteData } from '../interfaces.js';
import { Logger } from '../log.js';
import { describeType } from '../describe-type.js';
import { COALESCE_BELOW, WriteQueue, type ByteSink } from '../reactor-kit/write-queue.js';

const log = new Logger('torsion.tcp');

/** Told once, after the protocol's `connectionLost` ran, that a transport is gone. */
export interface TransportOwner {
  transportClosed(transport: TCPTransport<IAddress>, reason: Failure): void;
}

// Listeners are shared functions, not per-connection closures (the socket is
// `this`), which keeps idle connections small; the socket points back to its
// transport through this key.
const kTransport = Symbol('torsion.transport');
interface TransportSocket extends Socket {
  [kTransport]?: TCPTransport<IAddress>;
}

const EMPTY = Buffer.alloc(0);

/**
 * The read buffer shared by every socket whose port's factory opted in
 * (`readsIntoSharedBuffer`): Node reads into it (`net.Socket`'s `onread`
 * option) instead of allocating a buffer per read. Reads run one at a time
 * on the one JavaScript thread and `dataReceived` consumes each before the
 * next, so one buffer serves the whole process.
 */
const SHARED_READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** True when `data` is a view of the shared read buffer (it must be copied to outlive the call). */
function isSharedReadBuffer(data: WriteData): data is Uint8Array {
  return typeof data !== 'string' && data.buffer === SHARED_READ_BUFFER.buffer;
}

/**
 * Where bytes of the shared read buffer are copied to be written to an idle
 * socket. Node almost always hands such a write to the kernel at once, and
 * then nothing refers to the copy any more: the next one reuses it, so
 * writing back what was read costs a `memcpy` and no allocation. A write
 * that Node has to keep (the kernel's buffer was full) keeps this buffer,
 * and a new one takes its place. Allocating a copy per write instead (64 KiB
 * outside Node's pool, fresh pages, and the GC's external-memory accounting)
 * took half the CPU of a 100 KiB echo.
 */
let writeScratch = Buffer.allocUnsafeSlow(SHARED_READ_BUFFER.byteLength);

// TCPTransport's #flags.
/** A deferred `socket.end()` is scheduled. */
const F_END_SCHEDULED = 1;
/** The FIN waits until everything written, before and after the close request, is flushed. */
const F_END_AFTER_FLUSH = 2;
/** A hand-over of the queue is scheduled for the end of this turn. */
const F_HAND_OVER_SCHEDULED = 4;
/** An empty write is queued behind the socket's output, to learn when it has flushed. */
const F_FLUSH_AWAITED = 8;
/** setTcpNoDelay(true) was called last. */
const F_NO_DELAY = 16;
/** setTcpKeepAlive(true) was called last. */
const F_KEEP_ALIVE = 32;

/**
 * Node's own `'end'` listener on every `net.Socket` (`onReadableStreamEnd`:
 * with `allowHalfOpen` it does nothing). A transport takes its place with a
 * listener that calls it first, so the event keeps one listener instead of
 * an array of two on every connection. Found by name on the first socket;
 * `null` when this Node has no such listener.
 */
let nodeEndListener: ((this: Socket) => void) | null | undefined;

/** Removes Node's `'end'` listener from `socket` if it is the only one; true if it did. */
function takeNodeEndListener(socket: Socket): boolean {
  if (nodeEndListener === null || socket.listenerCount('end') !== 1) return false;
  if (nodeEndListener === undefined) {
    const only = socket.rawListeners('end')[0] as (this: Socket) => void;
    nodeEndListener = only.name === 'onReadableStreamEnd' ? only : null;
    if (nodeEndListener === null) return false;
  }
  // Without listing the listeners (an array per connection): a listener
  // that is not Node's stays, and the count says so.
  socket.removeListener('end', nodeEndListener);
  return socket.listenerCount('end') === 0;
}

/** Whether Node holds bytes of `socket`'s output it has not handed to the kernel. */
function heldByNode(socket: Socket): boolean {
  return socket.writableLength !== 0;
}

/** True for writes worth copying into the queue rather than handing to Node one by one. */
function isSmall(data: WriteData): boolean {
  return (typeof data === 'string' ? data.length : data.byteLength) < COALESCE_BELOW;
}

// The sink a queue is flushed into: the socket being handed over to. Node
// takes every byte (it buffers what the kernel does not), so one shared
// object serves every transport without a per-connection closure.
let sinkSocket: Socket | null = null;
const SOCKET_SINK: ByteSink = {
  write(data: Uint8Array, byteOffset: number, byteLength: number): number {
    if (sinkSocket === null) return -1;
    sinkSocket.write(
      byteOffset === 0 && byteLength === data.byteLength
        ? data
        : data.subarray(byteOffset, byteOffset + byteLength),
    );
    return byteLength;
  },
};

/**
 * A connection over a `net.Socket`. Built by ports and connectors; user code
 * sees it as `ITCPTransport` (`protocol.transport`). `A` is its address type:
 * a UNIX-domain connection is the same socket machinery with `UNIXAddress`es
 * (`UNIXTransport`, internal/unix-transport.ts).
 *
 * @remarks
 * Close sequence: `loseConnection()` stops reading, waits for a registered
 * producer to be unregistered, sends FIN once everything written so far is
 * flushed, then closes. `abortConnection()` sends RST at once. The protocol's
 * `connectionLost(reason)` runs exactly once, on the socket's `'close'`, and
 * nothing calls the protocol after it.
 */
export class TCPTransport<A extends IAddress = INETAddress> extends BaseTransport<A> {
  readonly #socket: TransportSocket;
  readonly #protocol: IProtocol;
  readonly #owner: TransportOwner;

  /**
   * The `F_*` bits below, kept in BaseTransport's state field
   * ({@link BaseTransport.subclassBits}): idle connections stay small.
   */
  get #flags(): number {
    return this.subclassBits;
  }
  set #flags(flags: number) {
    this.subclassBits = flags;
  }
  /** Output held back from the socket (see the module comment); made on first need. */
  #queue: WriteQueue | null = null;
  #flushCallback: ((err?: Error | null) => void) | null = null;

  /**
   * @param socket - a connected socket created with `allowHalfOpen: true`.
   * @param protocol - the protocol to drive; {@link TCPTransport.start} attaches it.
   * @param host - this end's address, captured now so it survives the close.
   * @param peer - the remote address, likewise.
   * @param owner - told when the connection is gone.
   * @param highWaterMark - write high-water mark in bytes.
   */
  constructor(
    socket: Socket,
    protocol: IProtocol,
    host: A,
    peer: A,
    owner: TransportOwner,
    highWaterMark: number = DEFAULT_WRITE_HIGH_WATER_MARK,
  ) {
    super(host, peer, highWaterMark);
    const s = socket as TransportSocket;
    this.#socket = s;
    this.#protocol = protocol;
    this.#owner = owner;
    s[kTransport] = this;
    // 'error' first: from here on no socket error can become an uncaught exception.
    s.on('error', TCPTransport.#onSocketError);
    s.on('close', TCPTransport.#onSocketClose);
    s.on(
      'end',
      takeNodeEndListener(s) ? TCPTransport.#onSocketEndAfterNode : TCPTransport.#onSocketEnd,
    );
    s.on('finish', TCPTransport.#onSocketFinish);
    s.on('data', TCPTransport.#onSocketData);
  }

  /**
   * Attaches the protocol: calls `protocol.makeConnection(this)`. An exception
   * there (usually from `connectionMade`) is logged and aborts the connection;
   * unlike Twisted, the connection is not left open.
   * @internal
   */
  start(): void {
    this.attachProtocol(this.#protocol);
  }

  // ------------------------------------------------------------ ITransport

  /**
   * Queues bytes for the peer. Strings are sent as UTF-8. Accepted until
   * the FIN is sent, which `loseConnection()` delays until everything written
   * has been flushed (as in Twisted); silently ignored after that, after an
   * abort, or after an error.
   * @throws TypeError if `data` is neither a Uint8Array nor a string.
   */
  write(data: WriteData): void {
    this.checkWriteData(data);
    if (this.writeClosed) return;
    // Bytes of the shared read buffer (a protocol writing back what it
    // received) are overwritten by the next read, while Node may still hold
    // them unsent: copy them.
    if (isSharedReadBuffer(data)) {
      this.#writeSharedRead(data);
      return;
    }
    if (this.tlsStarted) {
      this.writeTLS(data);
      return;
    }
    this.afterWrite(this.#send(data));
  }

  /**
   * Writes each item in order, as one batch (a single `writev` where possible).
   * Every item is checked first, so a bad item writes nothing.
   * @throws TypeError if an item is neither a Uint8Array nor a string.
   */
  writeSequence(data: Iterable<WriteData>): void {
    const items = this.writeSequenceItems(data);
    if (this.writeClosed || items.length === 0) return;
    const socket = this.#socket;
    socket.cork();
    for (const item of items) this.write(item);
    socket.uncork();
  }

  // ------------------------------------------------------------ ITCPTransport

  /** Turns Nagle's algorithm off (`true`) or on. Node's default, kept here, is Nagle on. */
  setTcpNoDelay(enabled: boolean): void {
    this.#setFlag(F_NO_DELAY, enabled);
    if (!this.lost) this.#socket.setNoDelay(enabled);
  }

  /** Whether Nagle's algorithm is off. */
  getTcpNoDelay(): boolean {
    return (this.#flags & F_NO_DELAY) !== 0;
  }

  /**
   * Enables or disables TCP keep-alive probes.
   * @param initialDelaySeconds - idle time before the first probe; 0 (default) keeps the OS setting.
   * @throws RangeError if `initialDelaySeconds` is negative or not finite.
   */
  setTcpKeepAlive(enabled: boolean, initialDelaySeconds = 0): void {
    this.checkKeepAliveDelay(initialDelaySeconds);
    this.#setFlag(F_KEEP_ALIVE, enabled);
    if (!this.lost) this.#socket.setKeepAlive(enabled, Math.round(initialDelaySeconds * 1000));
  }

  /** Whether keep-alive probes are enabled. */
  getTcpKeepAlive(): boolean {
    return (this.#flags & F_KEEP_ALIVE) !== 0;
  }

  /**
   * Bytes written but not yet handed to the kernel (Node's `writableLength`
   * and what waits in the queue). Flow control keeps it near
   * {@link BaseTransport.writeHighWaterMark}.
   */
  get writeBufferSize(): number {
    return this.#socket.writableLength + (this.#queue?.size ?? 0) + this.tlsBufferedBytes;
  }

  /** @returns a short description for logs. */
  override toString(): string {
    return `TCPTransport(${this.protocolName()}, peer=${this.getPeer().toString()})`;
  }

  // ------------------------------------------------------------ BaseTransport's I/O

  protected get log(): Logger {
    return log;
  }

  protected protocolName(): string {
    return describeType(this.#protocol);
  }

  protected pauseReading(): void {
    this.#socket.pause();
  }

  protected resumeReading(): void {
    if (!this.readPaused && !this.closeRequested) this.#socket.resume();
  }

  protected notifyWhenDrained(): void {
    if (this.writeBufferSize === 0) {
      setImmediate(TCPTransport.#flushedSoon, this);
    } else {
      this.#awaitSocketFlush();
    }
  }

  protected abort(reason: Failure | null): void {
    if (this.lost) return;
    this.closeRequested = true;
    this.writeClosed = true;
    this.#queue?.clear();
    const socket = this.#socket;
    if (socket.destroyed) return;
    this.recordReason(() => reason ?? new Failure(new ConnectionAborted()));
    this.resetSocket();
  }

  /** The socket, for a subclass that drives it differently (a UNIX socket has no reset). */
  protected get socket(): Socket {
    return this.#socket;
  }

  /**
   * Closes the connection with a reset (RST) and destroys the socket. A
   * transport over a socket whose handle is not the TCP one (a TLS socket)
   * resets the TCP socket underneath instead.
   */
  protected resetSocket(): void {
    this.#socket.resetAndDestroy();
  }

  /** The reason `connectionLost` gets for a socket error (unless another was recorded first). */
  protected socketErrorReason(err: Error): Failure {
    return new Failure(new ConnectionLost(`Connection lost: ${err.message}`, { cause: err }));
  }

  protected get attachedProtocol(): IProtocol {
    return this.#protocol;
  }

  /** Ciphertext under TLS: sent after everything before it, whatever `writeClosed` says. */
  protected writeRaw(data: Buffer): void {
    const socket = this.#socket;
    if (socket.destroyed || socket.writableEnded) return;
    this.#send(data);
  }

  /** Our close_notify is out (or a TLS failure closes): everything queued, then the FIN. */
  protected endRaw(): void {
    const socket = this.#socket;
    if (socket.destroyed || socket.writableEnded) return;
    this.writeClosed = true;
    const queue = this.#queue;
    if (queue !== null && !queue.empty) {
      socket.cork();
      sinkSocket = socket;
      queue.flushTo(SOCKET_SINK);
      sinkSocket = null;
      socket.uncork();
    }
    socket.end();
  }

  protected peerEnded(): void {
    this.readConnectionLost(this.#protocol);
  }

  protected scheduleEnd(): void {
    if ((this.#flags & F_END_SCHEDULED) !== 0 || this.producerHoldsClose || this.lost) return;
    this.#flags |= F_END_SCHEDULED;
    // Deferred to the check phase so writes made right after loseConnection()
    // (same callback, or promise continuations) are still delivered, as in Twisted.
    setImmediate(TCPTransport.#endSoon, this);
  }

  // ------------------------------------------------------------ internals

  /**
   * Sends `data` now or queues it (see the module comment).
   * @returns the bytes now buffered, for the flow-control bookkeeping.
   */
  #send(data: WriteData): number {
    const socket = this.#socket;
    const queue = this.#queue;
    if (queue === null || queue.empty) {
      const small = isSmall(data);
      // Large writes go straight out; so does the first small write of a turn
      // (a reply costs no more than before), while the ones after it are collected.
      if (!small || ((this.#flags & F_HAND_OVER_SCHEDULED) === 0 && socket.writableLength === 0)) {
        if (small) this.#scheduleHandOver();
        socket.write(data);
        return socket.writableLength;
      }
    }
    (this.#queue ??= new WriteQueue()).push(data);
    this.#scheduleHandOver();
    return this.writeBufferSize;
  }

  /**
   * Writes a copy of bytes of the shared read buffer: into the reused
   * {@link writeScratch} when the socket is idle (Node then writes it
   * before returning, as a rule), otherwise into a buffer of its own, since
   * it will wait.
   */
  #writeSharedRead(data: Uint8Array): void {
    const socket = this.#socket;
    if (
      this.tlsStarted ||
      socket.writableLength !== 0 ||
      socket.writableCorked !== 0 ||
      (this.#queue !== null && !this.#queue.empty)
    ) {
      // The engine, Node's buffer or the queue keeps it.
      const copy = Buffer.allocUnsafe(data.byteLength);
      copy.set(data);
      if (this.tlsStarted) this.writeTLS(copy);
      else this.afterWrite(this.#send(copy));
      return;
    }
    const scratch = writeScratch;
    scratch.set(data);
    const buffered = this.#send(scratch.subarray(0, data.byteLength));
    // Node kept (part of) it unsent: it is that write's now. (A small write
    // that went to the queue was copied there.) Before afterWrite(), whose
    // flow control may call a producer that writes again.
    if (heldByNode(socket)) {
      writeScratch = Buffer.allocUnsafeSlow(SHARED_READ_BUFFER.byteLength);
    }
    this.afterWrite(buffered);
  }

  #end(): void {
    this.#flags &= ~F_END_SCHEDULED;
    if (this.lost || this.producerHoldsClose) return;
    const socket = this.#socket;
    if (!this.writeClosed) {
      if (this.tlsStarted) {
        // close_notify after everything written; endRaw() sends the FIN after it.
        this.endTLS();
        return;
      }
      if (this.writeBufferSize > 0) {
        // As Twisted: writes are still accepted until everything is flushed,
        // then the FIN goes out (#socketFlushed calls back here).
        this.#flags |= F_END_AFTER_FLUSH;
        this.#handOver();
        this.#awaitSocketFlush();
        return;
      }
      this.writeClosed = true;
      socket.end();
    } else if (this.closeRequested && socket.writableFinished && !socket.destroyed) {
      // loseConnection() after a completed loseWriteConnection(): nothing left to send.
      socket.destroy();
    }
  }

  #flushed(): void {
    // A destroyed socket will not drain; its 'close' follows.
    if (this.#socket.destroyed) return;
    this.writeBufferDrained();
  }

  #scheduleHandOver(): void {
    if ((this.#flags & F_HAND_OVER_SCHEDULED) !== 0) return;
    this.#flags |= F_HAND_OVER_SCHEDULED;
    process.nextTick(TCPTransport.#handOverSoon, this);
  }

  /**
   * Gives the queued output to the socket, as one batch, once Node holds
   * nothing unsent; until then it waits for the socket to flush.
   */
  #handOver(): void {
    const queue = this.#queue;
    const socket = this.#socket;
    if (queue === null || queue.empty || this.lost || socket.destroyed) return;
    if (socket.writableLength > 0) {
      this.#awaitSocketFlush();
      return;
    }
    socket.cork();
    sinkSocket = socket;
    queue.flushTo(SOCKET_SINK);
    sinkSocket = null;
    socket.uncork();
  }

  /** Asks to be told (#socketFlushed) once everything handed to the socket so far is flushed. */
  #awaitSocketFlush(): void {
    if (
      (this.#flags & F_FLUSH_AWAITED) !== 0 ||
      this.#socket.destroyed ||
      this.#socket.writableEnded
    )
      return;
    this.#flags |= F_FLUSH_AWAITED;
    // An empty write's callback runs once everything queued before it was
    // flushed, whether or not Node's own high-water mark was reached (it
    // emits 'drain' only then).
    this.#flushCallback ??= () => {
      this.#socketFlushed();
    };
    this.#socket.write(EMPTY, this.#flushCallback);
  }

  #socketFlushed(): void {
    this.#flags &= ~F_FLUSH_AWAITED;
    if (this.lost || this.#socket.destroyed) return;
    this.#handOver();
    // What the socket and the queue hold; plaintext still in the TLS engine
    // is reported by the engine's own drain (BaseTransport).
    if (this.#socket.writableLength + (this.#queue?.size ?? 0) > 0) {
      this.#awaitSocketFlush();
      return;
    }
    if ((this.#flags & F_END_AFTER_FLUSH) !== 0) {
      this.#flags &= ~F_END_AFTER_FLUSH;
      this.#end();
    }
    if (this.drainAwaited) this.writeBufferDrained();
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

  #peerFin(): void {
    if (this.tlsStarted) this.receiveTLSEnd();
    else this.peerEnded();
  }

  #writeFinished(): void {
    if (this.lost) return;
    if (this.closeRequested) {
      // Full close: FIN is out and everything was flushed.
      this.#socket.destroy();
      return;
    }
    this.writeConnectionLost(this.#protocol);
  }

  #socketError(err: Error): void {
    // A reason already recorded means an abort (or an earlier error) is
    // ending the connection, and the socket closes by itself.
    const ending = this.recordedReason !== null;
    this.writeClosed = true;
    this.#queue?.clear();
    this.recordReason(() => this.socketErrorReason(err));
    // A TLS socket reports an error it received after the handshake (an
    // alert, a bad record) without destroying itself; a plain one is already
    // destroyed by now. Not during an abort: destroying a TLS socket while
    // the TCP socket under it is being reset has crashed Node.
    if (!ending && !this.#socket.destroyed) this.#socket.destroy();
  }

  #setFlag(flag: number, on: boolean): void {
    this.#flags = on ? this.#flags | flag : this.#flags & ~flag;
  }

  #closed(): void {
    if (this.lost) return;
    this.#queue = null;
    this.connectionEnded(this.#protocol, this.recordedReason, this.#owner);
  }

  /**
   * The `onread` option for sockets that read into the shared buffer; the
   * callback delivers to the socket's transport (`this` is the socket).
   * @internal
   */
  static readonly sharedRead = {
    buffer: SHARED_READ_BUFFER,
    callback(this: TransportSocket, nread: number, buffer: Uint8Array): boolean {
      const transport = this[kTransport];
      if (transport === undefined) return true;
      const data = (buffer as Buffer).subarray(0, nread);
      if (transport.tlsStarted) {
        // The TLS engine may keep what it is given.
        transport.#deliver(Buffer.from(data));
      } else {
        transport.#deliver(data);
      }
      return true;
    },
  };

  // Shared listeners: `this` is the socket.
  static #onSocketData(this: TransportSocket, data: Buffer): void {
    const transport = this[kTransport];
    if (transport !== undefined) transport.#deliver(data);
  }

  static #onSocketEnd(this: TransportSocket): void {
    const transport = this[kTransport];
    if (transport !== undefined) transport.#peerFin();
  }

  static #onSocketEndAfterNode(this: TransportSocket): void {
    nodeEndListener?.call(this);
    const transport = this[kTransport];
    if (transport !== undefined) transport.#peerFin();
  }

  static #onSocketFinish(this: TransportSocket): void {
    const transport = this[kTransport];
    if (transport !== undefined) transport.#writeFinished();
  }

  static #onSocketError(this: TransportSocket, err: Error): void {
    const transport = this[kTransport];
    if (transport !== undefined) transport.#socketError(err);
  }

  static #onSocketClose(this: TransportSocket): void {
    const transport = this[kTransport];
    if (transport !== undefined) transport.#closed();
  }

  static #endSoon(transport: TCPTransport<IAddress>): void {
    transport.#end();
  }

  static #flushedSoon(transport: TCPTransport<IAddress>): void {
    transport.#flushed();
  }

  static #handOverSoon(transport: TCPTransport<IAddress>): void {
    transport.#flags &= ~F_HAND_OVER_SCHEDULED;
    transport.#handOver();
  }
}
