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
import { ConnectionAborted, ConnectionDone, ConnectionLost, Failure, Logger } from '@torsion/core';
import type {
  IAddress,
  IHalfCloseableProtocol,
  IProtocol,
  IPullProducer,
  IPushProducer,
  ITCPTransport,
  WriteData,
} from '@torsion/core';
import { describeType } from './describe-type.js';
import { WriteQueue } from './write-queue.js';

const log = new Logger('torsion.bun');

/**
 * Default write high-water mark in bytes, as core's: above it a streaming
 * producer is paused (or, with no producer, reading stops). Twisted's
 * `bufferSize` and asyncio's default are the same 64 KiB.
 */
export const DEFAULT_WRITE_HIGH_WATER_MARK = 64 * 1024;

/** Told once, after the protocol's `connectionLost` ran, that a transport is gone. */
export interface TransportOwner {
  transportClosed(transport: BunTCPTransport, reason: Failure): void;
}

/** What Bun's `socket.data` holds for Torsion's sockets. */
export type SocketData = object | null;

/** A Bun TCP socket as Torsion uses it. */
export type BunSocket = Socket<SocketData>;

// Pull-producer bookkeeping, as in core: whether the producer wrote during
// its last resumeProducing(), so that one which wrote nothing is not asked
// again in a busy loop.
const PULL_OFF = 0;
const PULL_ASKING = 1;
const PULL_WROTE = 2;
const PULL_IDLE = 3;

/**
 * A TCP connection on Bun. Built by ports and connectors; user code sees it
 * as `ITCPTransport` (`protocol.transport`).
 *
 * @remarks
 * Close sequence: `loseConnection()` stops reading, waits for a registered
 * producer to be unregistered, flushes what was written (including writes
 * made in the same turn), then sends FIN and closes. `abortConnection()`
 * resets at once. The protocol's `connectionLost(reason)` runs exactly
 * once, and nothing calls the protocol after it.
 */
export class BunTCPTransport implements ITCPTransport {
  readonly #socket: BunSocket;
  readonly #protocol: IProtocol;
  readonly #host: IAddress;
  readonly #peer: IAddress;
  readonly #owner: TransportOwner;
  #highWaterMark: number;
  /** Output Bun did not take yet; created on the first partial write. */
  #queue: WriteQueue | null = null;

  /** Why the connection ends, when this side decided first (abort, protocol error, socket error). */
  #reason: Failure | null = null;
  #disconnecting = false;
  /** The FIN was sent, the socket closed, or an abort happened: further writes are dropped. */
  #writeClosed = false;
  /** `loseWriteConnection()` was called. */
  #halfCloseRequested = false;
  /** A deferred {@link BunTCPTransport.#end} is scheduled. */
  #endScheduled = false;
  /** {@link BunTCPTransport.#end} waits for the queue to drain. */
  #endAfterFlush = false;
  /** The peer's FIN arrived. */
  #peerEnded = false;
  /** Bun reported the socket closed. */
  #socketGone = false;
  /** We are inside our own `socket.end()`/`terminate()`, whose `close` arrives synchronously. */
  #inOwnClose = false;
  /** `connectionLost` ran. */
  #lost = false;

  #readPausedByProducer = false;
  #readPausedByBuffer = false;
  /** Whether the Bun socket is paused right now. */
  #socketPaused = false;
  /** The output went above the high-water mark and has not drained since. */
  #overHighWater = false;
  /** A flush notification was requested and has not arrived. */
  #flushPending = false;

  #producer: IPushProducer | IPullProducer | null = null;
  #streaming = false;
  #producerPaused = false;
  #pullState = PULL_OFF;

  // Bun turns Nagle's algorithm off on every socket it creates.
  #noDelay = true;
  #keepAlive = false;

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
    host: IAddress,
    peer: IAddress,
    owner: TransportOwner,
    highWaterMark: number = DEFAULT_WRITE_HIGH_WATER_MARK,
  ) {
    this.#socket = socket;
    this.#protocol = protocol;
    this.#host = host;
    this.#peer = peer;
    this.#owner = owner;
    this.#highWaterMark = highWaterMark;
    socket.data = this;
  }

  /**
   * Attaches the protocol: calls `protocol.makeConnection(this)`. An
   * exception there (usually from `connectionMade`) is logged and aborts the
   * connection, as on Node.
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
   * Sends bytes to the peer; strings are sent as UTF-8. Whatever Bun does
   * not take at once is queued and sent on `drain`, in order. Silently
   * ignored once the write side is closed (after the FIN, an abort, or an
   * error).
   * @throws TypeError if `data` is neither a Uint8Array nor a string.
   */
  write(data: WriteData): void {
    if (typeof data !== 'string' && !(data instanceof Uint8Array)) {
      throw new TypeError(`write() takes a Uint8Array or a string, not ${describeType(data)}`);
    }
    if (this.#writeClosed) return;
    this.#send(data);
    if (this.#pullState !== PULL_OFF) this.#pullWrote();
  }

  /**
   * Writes each item in order, as one batch: with nothing queued, the items
   * are joined into one send. Every item is checked first, so a bad item
   * writes nothing.
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
    const [first] = items;
    if (items.length === 1 && first !== undefined) {
      this.#send(first);
    } else {
      // Bun has no writev: one send of the joined bytes beats one per item.
      this.#send(Buffer.concat(items.map(toBytes)));
    }
    if (this.#pullState !== PULL_OFF) this.#pullWrote();
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
    this.#updateReading();
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

  /**
   * Closes now with a TCP RST (`socket.terminate()`), dropping unsent data;
   * `connectionLost` receives ConnectionAborted on a later turn.
   */
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
    if (!(initialDelaySeconds >= 0) || initialDelaySeconds === Infinity) {
      throw new RangeError(
        `setTcpKeepAlive() needs a finite delay >= 0 seconds, got ${String(initialDelaySeconds)}`,
      );
    }
    this.#keepAlive = enabled;
    if (!this.#socketGone) {
      this.#socket.setKeepAlive(enabled, Math.round(initialDelaySeconds * 1000));
    }
  }

  /** Whether keep-alive probes are enabled. */
  getTcpKeepAlive(): boolean {
    return this.#keepAlive;
  }

  /**
   * Output bytes queued above which a streaming producer is paused (or, with
   * no producer, reading from the peer stops until the queue drains).
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
    if (!this.#overHighWater && !this.#writeClosed && this.writeBufferSize > bytes) {
      this.#bufferFull();
    }
  }

  /**
   * Bytes written but not yet accepted by the kernel: what Bun's
   * `socket.write()` returned short of. Flow control keeps it near
   * {@link BunTCPTransport.writeHighWaterMark}.
   */
  get writeBufferSize(): number {
    return this.#queue?.size ?? 0;
  }

  // ------------------------------------------------------------ producer (our reads)

  /** Stops reading from the peer until `resumeProducing()`. */
  pauseProducing(): void {
    if (this.#lost) return;
    this.#readPausedByProducer = true;
    this.#updateReading();
  }

  /** Resumes reading, unless the output buffer or a close still holds it back. */
  resumeProducing(): void {
    if (this.#lost) return;
    this.#readPausedByProducer = false;
    this.#updateReading();
  }

  /** As in Twisted: the consumer is going away, so the connection is closed (`loseConnection`). */
  stopProducing(): void {
    this.loseConnection();
  }

  // ------------------------------------------------------------ consumer (our writes)

  /**
   * Attaches a producer of outgoing data. A streaming producer is paused when
   * the output queue goes above the high-water mark and resumed when it has
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
      this.#updateReading();
    }
    if (this.#disconnecting || this.#halfCloseRequested) this.#scheduleEnd();
  }

  /** @returns a short description for logs. */
  toString(): string {
    return `BunTCPTransport(${describeType(this.#protocol)}, peer=${this.#peer.toString()})`;
  }

  // ------------------------------------------------------------ writing

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
        if (written >= data.length && written >= Buffer.byteLength(data)) return;
        rest = Buffer.from(data, 'utf8').subarray(written);
      } else {
        if (written >= data.byteLength) return;
        rest = data.subarray(written);
      }
      queue ??= this.#queue = new WriteQueue();
      queue.push(rest);
    } else {
      queue.push(toBytes(data));
    }
    if (queue.size > this.#highWaterMark && !this.#overHighWater) this.#bufferFull();
  }

  /** Bun refused a write (the socket is closing): drop output; `close` follows. */
  #writeRefused(): void {
    this.#writeClosed = true;
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
    if (this.#flushPending) this.#flushed();
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
      this.#updateReading();
    }
    this.#awaitFlush();
  }

  /** Arranges for {@link BunTCPTransport.#flushed} to run once the queue is empty. */
  #awaitFlush(): void {
    if (this.#flushPending || this.#writeClosed || this.#lost) return;
    this.#flushPending = true;
    // With a backlog, `drain` empties the queue and calls #flushed.
    if (this.writeBufferSize === 0) setImmediate(BunTCPTransport.#flushedSoon, this);
  }

  #flushed(): void {
    this.#flushPending = false;
    if (this.#lost || this.#socketGone) return;
    if (this.writeBufferSize > 0) {
      // More was queued since the notification was requested: wait again if anyone cares.
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
      this.#updateReading();
    }
  }

  /** Asks the pull producer for more; see PULL_* for why its writes are tracked. */
  #pull(): void {
    const producer = this.#producer;
    if (producer === null || this.#streaming || this.#lost) return;
    this.#pullState = PULL_ASKING;
    this.#callProducer(producer, 'resumeProducing');
    // The producer may have unregistered itself or closed the connection meanwhile.
    if (this.#producer !== producer || this.#gone()) return;
    if (this.#pullWroteMeanwhile()) {
      this.#pullState = PULL_OFF;
      this.#awaitFlush();
    } else {
      this.#pullState = PULL_IDLE;
    }
  }

  /** Read through a method: the producer call in between may have changed it. */
  #pullWroteMeanwhile(): boolean {
    return this.#pullState === PULL_WROTE;
  }

  /** Whether the socket or the connection is gone (read after calls that may close it). */
  #gone(): boolean {
    return this.#socketGone || this.#lost;
  }

  #pullWrote(): void {
    if (this.#pullState === PULL_ASKING) {
      this.#pullState = PULL_WROTE;
    } else if (this.#pullState === PULL_IDLE) {
      this.#pullState = PULL_OFF;
      this.#awaitFlush();
    }
  }

  // ------------------------------------------------------------ reading

  /** Pauses or resumes Bun's reads to match every reason to hold them back. */
  #updateReading(): void {
    if (this.#socketGone) return;
    const paused = this.#readPausedByProducer || this.#readPausedByBuffer || this.#disconnecting;
    if (paused === this.#socketPaused) return;
    this.#socketPaused = paused;
    if (paused) this.#socket.pause();
    else this.#socket.resume();
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

  /** The peer sent FIN. */
  #readEnded(): void {
    if (this.#peerEnded) return;
    this.#peerEnded = true;
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

  // ------------------------------------------------------------ closing

  /** Logs an exception thrown by protocol (or producer) code and aborts the connection. */
  #protocolFailed(where: string, err: unknown): void {
    log.failure(
      `Unhandled error in ${describeType(this.#protocol)}.${where}; aborting the connection`,
      err,
      { peer: this.#peer.toString(), host: this.#host.toString() },
    );
    if (this.#lost) return;
    this.#abort(
      new Failure(new ConnectionLost(`The protocol raised an error in ${where}`, { cause: err })),
    );
  }

  #abort(reason: Failure | null): void {
    if (this.#lost) return;
    this.#disconnecting = true;
    this.#writeClosed = true;
    this.#queue?.clear();
    if (this.#socketGone) return;
    this.#reason ??= reason ?? new Failure(new ConnectionAborted());
    this.#inOwnClose = true;
    try {
      this.#socket.terminate();
    } finally {
      this.#inOwnClose = false;
    }
  }

  /**
   * True while a registered producer holds back the FIN (Twisted's rule). A
   * transport registered as the producer of its own output (an echo pausing
   * its reads while its writes back up) never does: once reading stops it
   * has nothing left to produce.
   */
  get #producerHoldsClose(): boolean {
    return this.#producer !== null && this.#producer !== this;
  }

  /** Ends the write side soon, once no producer holds it back. */
  #scheduleEnd(): void {
    if (this.#endScheduled || this.#producerHoldsClose || this.#socketGone) return;
    this.#endScheduled = true;
    // Deferred to the check phase so writes made right after loseConnection()
    // (same callback, or promise continuations) are still delivered, as in Twisted.
    setImmediate(BunTCPTransport.#endSoon, this);
  }

  #end(): void {
    this.#endScheduled = false;
    if (this.#socketGone || this.#producerHoldsClose) return;
    if (this.writeBufferSize > 0) {
      this.#endAfterFlush = true;
      return;
    }
    const socket = this.#socket;
    if (this.#disconnecting) {
      // Everything is flushed: FIN and close. Bun's end() closes the whole
      // socket and reports it before returning.
      this.#writeClosed = true;
      this.#inOwnClose = true;
      try {
        socket.end();
      } finally {
        this.#inOwnClose = false;
      }
      return;
    }
    if (this.#writeClosed) return;
    // loseWriteConnection(): FIN, keep reading.
    this.#writeClosed = true;
    socket.shutdown();
    const protocol = this.#protocol as Partial<IHalfCloseableProtocol>;
    if (typeof protocol.writeConnectionLost === 'function') {
      try {
        protocol.writeConnectionLost();
      } catch (err) {
        this.#protocolFailed('writeConnectionLost', err);
      }
    }
  }

  /** Bun's `close`: the socket is gone, cleanly or with `error`. */
  #socketClosed(error: Error | undefined): void {
    if (this.#socketGone) return;
    this.#socketGone = true;
    this.#writeClosed = true;
    if (error !== undefined) {
      this.#reason ??= new Failure(
        new ConnectionLost(`Connection lost: ${error.message}`, { cause: error }),
      );
    }
    if (this.#inOwnClose) {
      // Never call the protocol from inside its own abortConnection().
      setImmediate(BunTCPTransport.#lostSoon, this);
      return;
    }
    if (
      error === undefined &&
      !this.#peerEnded &&
      this.#halfCloseRequested &&
      !this.#disconnecting
    ) {
      // After our shutdown(), Bun reports the peer's FIN as `close` without
      // `end`; a half-closeable protocol still hears readConnectionLost first.
      this.#readEnded();
    }
    this.#connectionLost();
  }

  /** Bun's `error`: a socket-level failure; `close` follows. */
  #socketError(error: Error): void {
    this.#writeClosed = true;
    this.#reason ??= new Failure(
      new ConnectionLost(`Connection lost: ${error.message}`, { cause: error }),
    );
  }

  #connectionLost(): void {
    if (this.#lost) return;
    this.#lost = true;
    this.#writeClosed = true;
    this.#queue = null;
    const reason = this.#reason ?? new Failure(new ConnectionDone());
    const protocol = this.#protocol;
    if ('connected' in protocol) (protocol as { connected: unknown }).connected = false;
    const producer = this.#producer;
    if (producer !== null) {
      this.#producer = null;
      this.#callProducer(producer, 'stopProducing');
    }
    try {
      protocol.connectionLost(reason);
    } catch (err) {
      log.failure(`Unhandled error in ${describeType(protocol)}.connectionLost`, err, {
        peer: this.#peer.toString(),
      });
    }
    this.#socket.data = null;
    this.#owner.transportClosed(this, reason);
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
        log.failure('Socket error', error, { peer: transport.#peer.toString() }, 'warn');
        transport.#socketError(error);
      } else {
        log.failure('Socket error', error, {}, 'warn');
      }
    },
  };

  static #endSoon(transport: BunTCPTransport): void {
    transport.#end();
  }

  static #flushedSoon(transport: BunTCPTransport): void {
    transport.#flushed();
  }

  static #lostSoon(transport: BunTCPTransport): void {
    transport.#connectionLost();
  }
}

function toBytes(data: WriteData): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}
