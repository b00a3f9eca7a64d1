/**
 * `TCPTransport`: one connected `net.Socket` seen through Twisted's
 * ITCPTransport. This is where Node's sharp edges are absorbed: every socket
 * has an `'error'` listener, writes after close are silent no-ops instead of
 * ERR_STREAM_WRITE_AFTER_END, the FIN is sent when *we* decide (the socket is
 * created with `allowHalfOpen`), output is bounded by default, and an
 * exception thrown by the protocol costs only its own connection.
 *
 * Tests: test/tcp.integration.test.ts, test/tcp-producer.integration.test.ts,
 * test/tcp-half-close.integration.test.ts
 * @module
 */
import type { Socket } from 'node:net';
import type { IAddress } from '../address.js';
import { ConnectionAborted, ConnectionDone, ConnectionLost } from '../errors.js';
import { Failure } from '../failure.js';
import type {
  IHalfCloseableProtocol,
  IProtocol,
  IPullProducer,
  IPushProducer,
  ITCPTransport,
  WriteData,
} from '../interfaces.js';
import { Logger } from '../log.js';
import { describeType } from './write-data.js';
import { markDisconnected } from './mark-disconnected.js';

const log = new Logger('torsion.tcp');

/**
 * Default write high-water mark in bytes: above it a streaming producer is
 * paused (or, with no producer, reading stops). Twisted's `bufferSize` and
 * asyncio's default are the same 64 KiB.
 */
export const DEFAULT_WRITE_HIGH_WATER_MARK = 64 * 1024;

/** Told once, after the protocol's `connectionLost` ran, that a transport is gone. */
export interface TransportOwner {
  transportClosed(transport: TCPTransport, reason: Failure): void;
}

// Listeners are shared functions, not per-connection closures (the socket is
// `this`), which keeps idle connections small; the socket points back to its
// transport through this key.
const kTransport = Symbol('torsion.transport');
interface TransportSocket extends Socket {
  [kTransport]?: TCPTransport;
}

const EMPTY = Buffer.alloc(0);

// Pull-producer bookkeeping: whether the producer wrote during its last
// resumeProducing(), so that one which wrote nothing is not asked again in a
// busy loop (Twisted asks it again only once something was written).
const PULL_OFF = 0;
const PULL_ASKING = 1;
const PULL_WROTE = 2;
const PULL_IDLE = 3;

/**
 * A TCP connection. Built by ports and connectors; user code sees it as
 * `ITCPTransport` (`protocol.transport`).
 *
 * @remarks
 * Close sequence: `loseConnection()` stops reading, waits for a registered
 * producer to be unregistered, sends FIN once everything written so far is
 * flushed, then closes. `abortConnection()` sends RST at once. The protocol's
 * `connectionLost(reason)` runs exactly once, on the socket's `'close'`, and
 * nothing calls the protocol after it.
 */
export class TCPTransport implements ITCPTransport {
  readonly #socket: TransportSocket;
  readonly #protocol: IProtocol;
  readonly #host: IAddress;
  readonly #peer: IAddress;
  readonly #owner: TransportOwner;
  #highWaterMark: number;

  /** Why the connection ends, when this side decided first (abort, protocol error, socket error). */
  #reason: Failure | null = null;
  #disconnecting = false;
  /** `end()`, abort or an error happened: further writes are dropped. */
  #writeClosed = false;
  /** `loseWriteConnection()` was called. */
  #halfCloseRequested = false;
  /** A deferred `socket.end()` is scheduled. */
  #endScheduled = false;
  /** `'close'` arrived and `connectionLost` ran. */
  #lost = false;

  #readPausedByProducer = false;
  #readPausedByBuffer = false;
  /** The output went above the high-water mark and has not drained since. */
  #overHighWater = false;
  /** A drain/flush notification was requested and has not arrived. */
  #flushPending = false;
  #flushCallback: ((err?: Error | null) => void) | null = null;

  #producer: IPushProducer | IPullProducer | null = null;
  #streaming = false;
  #producerPaused = false;
  #pullState = PULL_OFF;

  #noDelay = false;
  #keepAlive = false;

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
    host: IAddress,
    peer: IAddress,
    owner: TransportOwner,
    highWaterMark: number = DEFAULT_WRITE_HIGH_WATER_MARK,
  ) {
    const s = socket as TransportSocket;
    this.#socket = s;
    this.#protocol = protocol;
    this.#host = host;
    this.#peer = peer;
    this.#owner = owner;
    this.#highWaterMark = highWaterMark;
    s[kTransport] = this;
    // 'error' first: from here on no socket error can become an uncaught exception.
    s.on('error', TCPTransport.#onSocketError);
    s.on('close', TCPTransport.#onSocketClose);
    s.on('end', TCPTransport.#onSocketEnd);
    s.on('finish', TCPTransport.#onSocketFinish);
    s.on('drain', TCPTransport.#onSocketDrain);
    s.on('data', TCPTransport.#onSocketData);
  }

  /**
   * Attaches the protocol: calls `protocol.makeConnection(this)`. An exception
   * there (usually from `connectionMade`) is logged and aborts the connection;
   * unlike Twisted, the connection is not left open.
   * @internal
   */
  start(): void {
    try {
      this.#protocol.makeConnection(this);
    } catch (err) {
      this.#protocolFailed('makeConnection/connectionMade', err);
    }
  }

  // ------------------------------------------------------------ ITransport

  /**
   * Queues bytes for the peer. Strings are sent as UTF-8. Silently ignored
   * once the write side is closed (after the FIN was queued, an abort, or an error).
   * @throws TypeError if `data` is neither a Uint8Array nor a string.
   */
  write(data: WriteData): void {
    if (typeof data !== 'string' && !(data instanceof Uint8Array)) {
      throw new TypeError(`write() takes a Uint8Array or a string, not ${describeType(data)}`);
    }
    if (this.#writeClosed) return;
    const socket = this.#socket;
    socket.write(data);
    if (this.#pullState !== PULL_OFF) this.#pullWrote();
    if (socket.writableLength > this.#highWaterMark && !this.#overHighWater) this.#bufferFull();
  }

  /**
   * Writes each item in order, as one batch (a single `writev` where possible).
   * Every item is checked first, so a bad item writes nothing.
   * @throws TypeError if an item is neither a Uint8Array nor a string.
   */
  writeSequence(data: Iterable<WriteData>): void {
    const items = Array.from(data);
    for (const item of items) {
      if (typeof item !== 'string' && !(item instanceof Uint8Array)) {
        throw new TypeError(
          `writeSequence() items must be Uint8Array or string, not ${describeType(item)}`,
        );
      }
    }
    if (this.#writeClosed || items.length === 0) return;
    const socket = this.#socket;
    socket.cork();
    for (const item of items) this.write(item);
    socket.uncork();
  }

  /**
   * Closes the connection cleanly: stops reading now, waits until any
   * registered producer is unregistered, flushes what was written (including
   * writes made right after this call, in the same turn of the event loop),
   * sends FIN and closes. `connectionLost` then receives ConnectionDone
   * unless something failed on the way.
   */
  loseConnection(): void {
    if (this.#disconnecting || this.#lost) return;
    this.#disconnecting = true;
    this.#socket.pause();
    this.#scheduleEnd();
  }

  /** This end's address (still valid after the close). */
  getHost(): IAddress {
    return this.#host;
  }

  /** The peer's address (still valid after the close). */
  getPeer(): IAddress {
    return this.#peer;
  }

  /** True once `loseConnection()` or `abortConnection()` was called, or the connection is gone. */
  get disconnecting(): boolean {
    return this.#disconnecting || this.#lost;
  }

  // ------------------------------------------------------------ ITCPTransport

  /** Closes now with a TCP RST, dropping unsent data; `connectionLost` receives ConnectionAborted. */
  abortConnection(): void {
    this.#abort(null);
  }

  /**
   * Half-closes: sends FIN once everything written so far is flushed (and any
   * producer unregistered) but keeps reading. A half-closeable protocol's
   * `writeConnectionLost()` runs once the FIN is out.
   */
  loseWriteConnection(): void {
    if (this.#halfCloseRequested || this.#disconnecting || this.#lost) return;
    this.#halfCloseRequested = true;
    this.#scheduleEnd();
  }

  /** Turns Nagle's algorithm off (`true`) or on. Node's default, kept here, is Nagle on. */
  setTcpNoDelay(enabled: boolean): void {
    this.#noDelay = enabled;
    if (!this.#lost) this.#socket.setNoDelay(enabled);
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
    if (!(initialDelaySeconds >= 0) || initialDelaySeconds === Infinity) {
      throw new RangeError(
        `setTcpKeepAlive() needs a finite delay >= 0 seconds, got ${String(initialDelaySeconds)}`,
      );
    }
    this.#keepAlive = enabled;
    if (!this.#lost) this.#socket.setKeepAlive(enabled, Math.round(initialDelaySeconds * 1000));
  }

  /** Whether keep-alive probes are enabled. */
  getTcpKeepAlive(): boolean {
    return this.#keepAlive;
  }

  /**
   * Output bytes buffered above which a streaming producer is paused (or, with
   * no producer, reading from the peer stops until the buffer drains).
   * @throws RangeError on set if not an integer >= 0.
   */
  get writeHighWaterMark(): number {
    return this.#highWaterMark;
  }

  set writeHighWaterMark(bytes: number) {
    if (!Number.isSafeInteger(bytes) || bytes < 0) {
      throw new RangeError(`writeHighWaterMark must be an integer >= 0, got ${String(bytes)}`);
    }
    this.#highWaterMark = bytes;
    const socket = this.#socket;
    if (!this.#overHighWater && !this.#writeClosed && socket.writableLength > bytes) {
      this.#bufferFull();
    }
  }

  /**
   * Bytes written but not yet handed to the kernel (Node's `writableLength`).
   * Flow control keeps it near {@link TCPTransport.writeHighWaterMark}.
   */
  get writeBufferSize(): number {
    return this.#socket.writableLength;
  }

  // ------------------------------------------------------------ producer (our reads)

  /** Stops reading from the peer until `resumeProducing()`. */
  pauseProducing(): void {
    if (this.#lost) return;
    this.#readPausedByProducer = true;
    this.#socket.pause();
  }

  /** Resumes reading, unless the output buffer or a close still holds it back. */
  resumeProducing(): void {
    if (this.#lost) return;
    this.#readPausedByProducer = false;
    if (!this.#readPausedByBuffer && !this.#disconnecting) this.#socket.resume();
  }

  /** As in Twisted: the consumer is going away, so the connection is closed (`loseConnection`). */
  stopProducing(): void {
    this.loseConnection();
  }

  // ------------------------------------------------------------ consumer (our writes)

  /**
   * Attaches a producer of outgoing data. A streaming producer is paused when
   * the output buffer goes above the high-water mark and resumed when it has
   * drained; a pull producer is asked for data now and each time it drains.
   * On a closed connection the producer is told `stopProducing()` at once.
   * @throws Error if a producer is already registered.
   */
  registerProducer(producer: IPushProducer | IPullProducer, streaming: boolean): void {
    if (this.#producer !== null) {
      throw new Error(
        `Cannot register producer ${describeType(producer)}: ${describeType(this.#producer)} is already registered`,
      );
    }
    if (this.#lost) {
      this.#callProducer(producer, 'stopProducing');
      return;
    }
    this.#producer = producer;
    this.#streaming = streaming;
    this.#producerPaused = false;
    if (streaming) {
      if (this.#overHighWater) {
        this.#producerPaused = true;
        this.#callProducer(producer, 'pauseProducing');
      }
    } else {
      this.#pull();
    }
  }

  /** Detaches the producer; a pending `loseConnection()` or `loseWriteConnection()` may now proceed. */
  unregisterProducer(): void {
    if (this.#producer === null) return;
    this.#producer = null;
    this.#producerPaused = false;
    this.#pullState = PULL_OFF;
    if (this.#lost) return;
    // Without a producer to pause, default backpressure takes over.
    if (this.#overHighWater && !this.#readPausedByBuffer) {
      this.#readPausedByBuffer = true;
      this.#socket.pause();
    }
    if (this.#disconnecting || this.#halfCloseRequested) this.#scheduleEnd();
  }

  /** @returns a short description for logs. */
  toString(): string {
    return `TCPTransport(${this.#protocolName()}, peer=${this.#peer.toString()})`;
  }

  // ------------------------------------------------------------ internals

  #protocolName(): string {
    return describeType(this.#protocol);
  }

  /** Logs an exception thrown by protocol (or producer) code and aborts the connection. */
  #protocolFailed(where: string, err: unknown): void {
    log.failure(
      `Unhandled error in ${this.#protocolName()}.${where}; aborting the connection`,
      err,
      { peer: this.#peer.toString(), host: this.#host.toString() },
    );
    if (this.#lost) return;
    this.#abort(
      new Failure(
        new ConnectionLost(`The protocol raised an error in ${where}`, {
          cause: err,
        }),
      ),
    );
  }

  #abort(reason: Failure | null): void {
    if (this.#lost) return;
    this.#disconnecting = true;
    this.#writeClosed = true;
    const socket = this.#socket;
    if (socket.destroyed) return;
    this.#reason ??= reason ?? new Failure(new ConnectionAborted());
    socket.resetAndDestroy();
  }

  #callProducer(
    producer: IPushProducer | IPullProducer,
    method: 'pauseProducing' | 'resumeProducing' | 'stopProducing',
  ): void {
    try {
      if (method === 'pauseProducing') (producer as IPushProducer).pauseProducing();
      else producer[method]();
    } catch (err) {
      if (method === 'stopProducing' || this.#lost) {
        log.failure(`Unhandled error in ${describeType(producer)}.${method}`, err, {
          peer: this.#peer.toString(),
        });
      } else {
        this.#protocolFailed(`${describeType(producer)}.${method}`, err);
      }
    }
  }

  /**
   * True while a registered producer holds back the FIN (Twisted's rule: a
   * close waits until the producer is unregistered). A transport registered as
   * the producer of its own output (an echo that pauses its reads when its
   * writes back up) never holds it back: it has nothing left to produce once
   * reading stops, so waiting for it would only wait for the peer to give up.
   */
  get #producerHoldsClose(): boolean {
    return this.#producer !== null && this.#producer !== this;
  }

  /** Ends the write side soon, once no producer holds it back. */
  #scheduleEnd(): void {
    if (this.#endScheduled || this.#producerHoldsClose || this.#lost) return;
    this.#endScheduled = true;
    // Deferred to the check phase so writes made right after loseConnection()
    // (same callback, or promise continuations) are still delivered, as in Twisted.
    setImmediate(TCPTransport.#endSoon, this);
  }

  #end(): void {
    this.#endScheduled = false;
    if (this.#lost || this.#producerHoldsClose) return;
    const socket = this.#socket;
    if (!this.#writeClosed) {
      this.#writeClosed = true;
      socket.end();
    } else if (this.#disconnecting && socket.writableFinished && !socket.destroyed) {
      // loseConnection() after a completed loseWriteConnection(): nothing left to send.
      socket.destroy();
    }
  }

  /** Output went above the high-water mark: hold back whoever fills it. */
  #bufferFull(): void {
    this.#overHighWater = true;
    const producer = this.#producer;
    if (producer !== null) {
      if (this.#streaming && !this.#producerPaused) {
        this.#producerPaused = true;
        this.#callProducer(producer, 'pauseProducing');
      }
    } else if (!this.#readPausedByBuffer) {
      this.#readPausedByBuffer = true;
      this.#socket.pause();
    }
    this.#awaitFlush();
  }

  /** Arranges for {@link TCPTransport.#flushed} to run once the output buffer is empty. */
  #awaitFlush(): void {
    if (this.#flushPending || this.#writeClosed || this.#lost) return;
    this.#flushPending = true;
    const socket = this.#socket;
    if (socket.writableLength === 0) {
      setImmediate(TCPTransport.#flushedSoon, this);
    } else if (!socket.writableNeedDrain) {
      // Below Node's own high-water mark no 'drain' will come; an empty
      // write's callback runs once everything queued before it was flushed.
      this.#flushCallback ??= () => {
        this.#flushed();
      };
      socket.write(EMPTY, this.#flushCallback);
    }
    // Otherwise Node emits 'drain' when its buffer empties.
  }

  #flushed(): void {
    this.#flushPending = false;
    const socket = this.#socket;
    if (this.#lost || socket.destroyed) return;
    if (socket.writableLength > 0) {
      // More was written since the notification was requested: wait again if anyone cares.
      const pullWaiting =
        this.#producer !== null && !this.#streaming && this.#pullState === PULL_OFF;
      if (this.#overHighWater || pullWaiting) this.#awaitFlush();
      return;
    }
    this.#overHighWater = false;
    const producer = this.#producer;
    if (producer !== null) {
      if (this.#streaming) {
        if (this.#producerPaused) {
          this.#producerPaused = false;
          this.#callProducer(producer, 'resumeProducing');
        }
      } else if (this.#pullState === PULL_OFF) {
        this.#pull();
      }
    }
    if (this.#readPausedByBuffer) {
      this.#readPausedByBuffer = false;
      if (!this.#readPausedByProducer && !this.#disconnecting) socket.resume();
    }
  }

  /** Asks the pull producer for more; see PULL_* for why its writes are tracked. */
  #pull(): void {
    const producer = this.#producer;
    if (producer === null || this.#streaming || this.#lost) return;
    this.#pullState = PULL_ASKING;
    this.#callProducer(producer, 'resumeProducing');
    this.#afterPull(producer);
  }

  #afterPull(producer: IPushProducer | IPullProducer): void {
    // The producer may have unregistered itself or closed the connection meanwhile.
    if (this.#producer !== producer || this.#lost) return;
    if (this.#pullState === PULL_WROTE) {
      this.#pullState = PULL_OFF;
      this.#awaitFlush();
    } else {
      this.#pullState = PULL_IDLE;
    }
  }

  #pullWrote(): void {
    if (this.#pullState === PULL_ASKING) {
      this.#pullState = PULL_WROTE;
    } else if (this.#pullState === PULL_IDLE) {
      this.#pullState = PULL_OFF;
      this.#awaitFlush();
    }
  }

  #deliver(data: Buffer): void {
    // Reading stops at loseConnection()/abort; drop anything already in flight.
    if (this.#disconnecting || this.#lost) return;
    try {
      this.#protocol.dataReceived(data);
    } catch (err) {
      this.#protocolFailed('dataReceived', err);
    }
  }

  #peerEnded(): void {
    if (this.#lost || this.#disconnecting) return;
    const protocol = this.#protocol as Partial<IHalfCloseableProtocol>;
    if (typeof protocol.readConnectionLost === 'function') {
      try {
        protocol.readConnectionLost();
      } catch (err) {
        this.#protocolFailed('readConnectionLost', err);
      }
    } else {
      // Not half-closeable: finish cleanly, flushing what the protocol wrote.
      this.loseConnection();
    }
  }

  #writeFinished(): void {
    if (this.#lost) return;
    if (this.#disconnecting) {
      // Full close: FIN is out and everything was flushed.
      this.#socket.destroy();
      return;
    }
    const protocol = this.#protocol as Partial<IHalfCloseableProtocol>;
    if (typeof protocol.writeConnectionLost === 'function') {
      try {
        protocol.writeConnectionLost();
      } catch (err) {
        this.#protocolFailed('writeConnectionLost', err);
      }
    }
  }

  #socketError(err: Error): void {
    this.#writeClosed = true;
    this.#reason ??= new Failure(
      new ConnectionLost(`Connection lost: ${err.message}`, { cause: err }),
    );
  }

  #closed(): void {
    if (this.#lost) return;
    this.#lost = true;
    this.#writeClosed = true;
    const reason = this.#reason ?? new Failure(new ConnectionDone());
    const protocol = this.#protocol;
    markDisconnected(protocol);
    const producer = this.#producer;
    if (producer !== null) {
      this.#producer = null;
      this.#callProducer(producer, 'stopProducing');
    }
    try {
      protocol.connectionLost(reason);
    } catch (err) {
      log.failure(`Unhandled error in ${this.#protocolName()}.connectionLost`, err, {
        peer: this.#peer.toString(),
      });
    }
    this.#owner.transportClosed(this, reason);
  }

  // Shared listeners: `this` is the socket.
  static #onSocketData(this: TransportSocket, data: Buffer): void {
    const transport = this[kTransport];
    if (transport !== undefined) transport.#deliver(data);
  }

  static #onSocketEnd(this: TransportSocket): void {
    const transport = this[kTransport];
    if (transport !== undefined) transport.#peerEnded();
  }

  static #onSocketFinish(this: TransportSocket): void {
    const transport = this[kTransport];
    if (transport !== undefined) transport.#writeFinished();
  }

  static #onSocketDrain(this: TransportSocket): void {
    const transport = this[kTransport];
    if (transport !== undefined) transport.#flushed();
  }

  static #onSocketError(this: TransportSocket, err: Error): void {
    const transport = this[kTransport];
    if (transport !== undefined) transport.#socketError(err);
  }

  static #onSocketClose(this: TransportSocket): void {
    const transport = this[kTransport];
    if (transport !== undefined) transport.#closed();
  }

  static #endSoon(transport: TCPTransport): void {
    transport.#end();
  }

  static #flushedSoon(transport: TCPTransport): void {
    transport.#flushed();
  }
}
