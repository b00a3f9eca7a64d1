/**
 * `FakeTransport`: one end of an in-memory connection (Twisted's
 * `test/iosim.py` `FakeTransport`). What its protocol writes waits in a
 * buffer until an {@link IOPump} (io-pump.ts) delivers it to the other end.
 * The close requests, the producer/consumer bookkeeping and the half-close
 * dispatch are {@link BaseTransport}'s, as on every real transport, so the
 * double cannot drift from them; this file only moves bytes and close events
 * when the pump says so.
 *
 * Tests: test/testing/io-pump.test.ts
 * @module
 */
import type { INETAddress } from '../address.js';
import { describeType } from '../describe-type.js';
import { ConnectionAborted, ConnectionLost } from '../errors.js';
import { Failure } from '../failure.js';
import type { TLSError } from '../errors.js';
import type { IProtocol, IPullProducer, IPushProducer, WriteData } from '../interfaces.js';
import type { ClientTLSOptions, ServerTLSOptions } from '../tls-options.js';
import { toBuffer } from '../internal/write-data.js';
import { checkWriteHighWaterMark } from '../reactor-kit/argument-checks.js';
import { BaseTransport, DEFAULT_WRITE_HIGH_WATER_MARK } from '../reactor-kit/base-transport.js';
import { Logger } from '../log.js';
import type { Chunker } from './chunkers.js';
import type { ProducerState } from './string-transport.js';

const log = new Logger('torsion.testing.iopump');

/** Options for {@link FakeTransport}. */
export interface FakeTransportOptions {
  /** What `getHost()` returns. */
  hostAddress: INETAddress;
  /** What `getPeer()` returns. */
  peerAddress: INETAddress;
  /** Which end this is (for log messages and tests). */
  isServer: boolean;
  /**
   * The initial {@link BaseTransport.writeHighWaterMark}: above this many
   * bytes waiting to be pumped, a streaming producer is paused (or, with
   * none, delivery to this end stops) until the pump has taken them all.
   * Default 64 KiB, as on the real transports.
   */
  highWaterMark?: number;
}

/**
 * How a pump delivers and what it does with errors; shared by both ends of a connection.
 * @internal
 */
export interface PumpSettings {
  readonly chunker: Chunker | null;
  readonly isolateErrors: boolean;
}

/**
 * Moves bytes and close events across one pair of transports, once (for
 * IOPump). Set by FakeTransport's static block, which can reach its private state.
 * @internal
 */
export let pumpPair: (a: FakeTransport, b: FakeTransport, settings: PumpSettings) => boolean;
/**
 * Gives one end its pump's error policy.
 * @internal
 */
export let joinPump: (side: FakeTransport, settings: PumpSettings) => void;
/**
 * Attaches the protocol (`makeConnection`) and, unless errors are isolated,
 * throws what it threw.
 * @internal
 */
export let startEnd: (side: FakeTransport) => void;
/**
 * Runs a TLS handshake on one end before its protocol is attached;
 * `onHandshake(null)` should attach it with {@link startEnd}.
 * @internal
 */
export let startEndTLS: (
  side: FakeTransport,
  options: ClientTLSOptions | ServerTLSOptions,
  onHandshake: (error: TLSError | null) => void,
) => void;

/**
 * One end of an in-memory connection. Writes wait in a buffer until an
 * {@link IOPump} delivers them to the other end's protocol.
 *
 * @remarks
 * Nothing moves by itself: bytes, closes and half-closes take effect on the
 * next `pump()`, as a real reactor reports them on a later turn of the loop.
 * Everything else behaves as on Torsion's TCP transport, from the same
 * {@link BaseTransport}:
 * - `loseConnection()`: reading stops now; queued bytes are still delivered
 *   (once any producer is unregistered), then both protocols get
 *   `connectionLost(ConnectionDone)`. Writes are accepted until then.
 * - `abortConnection()`: queued bytes are dropped; this side gets
 *   `ConnectionAborted`, the peer `ConnectionLost`.
 * - `loseWriteConnection()`: queued bytes are delivered, then a half-closeable
 *   peer gets `readConnectionLost()` (this side `writeConnectionLost()`); a
 *   peer that is not half-closeable closes the connection, as on TCP. Writes
 *   are accepted until the FIN is sent.
 * - Backpressure: above {@link BaseTransport.writeHighWaterMark} bytes waiting
 *   to be pumped, a streaming producer is paused (with no producer, delivery
 *   to this end stops) until a pump empties the buffer. A pull producer is
 *   asked for data when registered and after each drain that follows a call
 *   in which it wrote; one that wrote nothing is asked again only once
 *   something is written (Twisted's rule).
 * - `pauseProducing()` on this transport stops delivery *to* its protocol
 *   (bytes wait in the peer's buffer) until `resumeProducing()`.
 * - An exception from the protocol or a producer is rethrown from the pump
 *   call, unless the pump isolates errors: then it is logged and aborts this
 *   connection, as on a real transport (the pump's `isolateErrors` option).
 */
export class FakeTransport extends BaseTransport {
  readonly #protocol: IProtocol;
  /** True for the server end. */
  readonly isServer: boolean;

  #outgoing: Buffer[] = [];
  #outgoingBytes = 0;
  /** Why the connection ends in a reset (an abort or an isolated error); `null` for a clean close. */
  #resetReason: Failure | null = null;
  #aborted = false;
  #finSent = false;
  #finReceived = false;
  /** Under TLS: the FIN may go (close_notify was queued, or TLS failed). */
  #rawEnded = false;
  /** `makeConnection` ran (not yet, while a TLS handshake runs first). */
  #started = false;
  #isolateErrors = false;
  /** The first exception from user code since the last pump call, for that call to rethrow. */
  #pendingError: { readonly error: unknown } | null = null;
  #tcpNoDelay = false;
  #tcpKeepAlive = false;

  /**
   * @param protocol - the protocol at this end; the transport does not call
   *   `makeConnection` itself (see {@link connectedServerAndClient}).
   * @param options - addresses, which end this is, the high-water mark.
   * @throws RangeError if `highWaterMark` is not an integer >= 0.
   */
  constructor(protocol: IProtocol, options: FakeTransportOptions) {
    super(
      options.hostAddress,
      options.peerAddress,
      checkWriteHighWaterMark(options.highWaterMark ?? DEFAULT_WRITE_HIGH_WATER_MARK),
    );
    this.#protocol = protocol;
    this.isServer = options.isServer;
  }

  // ------------------------------------------------------------ state for tests

  /**
   * The write high-water mark.
   * @deprecated Use {@link BaseTransport.writeHighWaterMark}, which every transport has.
   */
  get highWaterMark(): number {
    return this.writeHighWaterMark;
  }

  /** The protocol at this end (even before `makeConnection` ran). */
  override get protocol(): IProtocol {
    return this.#protocol;
  }

  /** True once this end's protocol got `connectionLost`. */
  get disconnected(): boolean {
    return this.lost;
  }

  /** True once `abortConnection()` was called. */
  get aborted(): boolean {
    return this.#aborted;
  }

  /** True once `loseWriteConnection()` was called. */
  get writeDisconnected(): boolean {
    return this.halfCloseRequested;
  }

  /** True once the peer's FIN arrived (it called `loseWriteConnection()`). */
  get readDisconnected(): boolean {
    return this.#finReceived;
  }

  /** Bytes written here and not yet delivered to the peer (the same as `writeBufferSize`). */
  get bufferedBytes(): number {
    return this.#outgoingBytes;
  }

  /** Bytes written here and not yet delivered to the peer. */
  get writeBufferSize(): number {
    return this.#outgoingBytes + this.tlsBufferedBytes;
  }

  /** The registered producer, or `null`. */
  get producer(): IPushProducer | IPullProducer | null {
    return this.registeredProducer;
  }

  /** Whether the registered producer is streaming; `null` when none is registered. */
  get streaming(): boolean | null {
    return this.registeredProducer === null ? null : this.producerStreaming;
  }

  /**
   * Whether delivery to this end's protocol is on (`'producing'`), held back
   * (`'paused'`: by `pauseProducing()`, or by this end's own output above the
   * high-water mark), or over for good (`'stopped'`: the connection is
   * closing or gone).
   */
  get producerState(): ProducerState {
    if (this.lost || this.closeRequested) return 'stopped';
    return this.readPaused ? 'paused' : 'producing';
  }

  // ------------------------------------------------------------ ITransport

  /**
   * Queues `data` for the peer. Accepted until the FIN is sent (after
   * `loseConnection()` or `loseWriteConnection()` that is once everything
   * queued was pumped), as a real transport accepts it; ignored once aborted
   * or gone.
   * @throws TypeError if `data` is neither a Uint8Array nor a string.
   */
  write(data: WriteData): void {
    const bytes = toBuffer(data);
    if (this.writeClosed || bytes.length === 0) return;
    if (this.tlsStarted) {
      this.writeTLS(bytes);
      return;
    }
    // Copied: the caller may reuse its array before the pump runs.
    this.#outgoing.push(Buffer.from(bytes));
    this.#outgoingBytes += bytes.length;
    this.afterWrite(this.#outgoingBytes);
  }

  /**
   * Queues each item in order.
   * @throws TypeError if an item is neither a Uint8Array nor a string (nothing is queued then).
   */
  writeSequence(data: Iterable<WriteData>): void {
    for (const item of this.writeSequenceItems(data)) this.write(item);
  }

  // ------------------------------------------------------------ ITCPTransport

  /** Remembers the setting; `getTcpNoDelay()` reads it back. */
  setTcpNoDelay(enabled: boolean): void {
    this.#tcpNoDelay = enabled;
  }

  /** The last value given to `setTcpNoDelay` (default false). */
  getTcpNoDelay(): boolean {
    return this.#tcpNoDelay;
  }

  /**
   * Remembers the setting; `getTcpKeepAlive()` reads it back.
   * @throws RangeError if `initialDelaySeconds` is negative or not finite, as on a real transport.
   */
  setTcpKeepAlive(enabled: boolean, initialDelaySeconds = 0): void {
    this.checkKeepAliveDelay(initialDelaySeconds);
    this.#tcpKeepAlive = enabled;
  }

  /** The last value given to `setTcpKeepAlive` (default false). */
  getTcpKeepAlive(): boolean {
    return this.#tcpKeepAlive;
  }

  // ------------------------------------------------------------ BaseTransport's I/O

  /** The `torsion.testing.iopump` logger (used when the pump isolates errors). */
  protected get log(): Logger {
    return log;
  }

  /** The protocol's type name. */
  protected protocolName(): string {
    return describeType(this.protocol);
  }

  /** The protocol, once `makeConnection` ran. */
  protected get attachedProtocol(): IProtocol | null {
    return this.#started ? this.protocol : null;
  }

  /** Ciphertext under TLS: queued for the pump behind what was written before. */
  protected writeRaw(data: Buffer): void {
    if (this.lost || this.#finSent) return;
    this.#outgoing.push(Buffer.from(data));
    this.#outgoingBytes += data.length;
  }

  /** Under TLS: close_notify is queued (or TLS failed); the pump sends the FIN once it is delivered. */
  protected endRaw(): void {
    this.#rawEnded = true;
  }

  /** The peer's end arrived (under TLS, its close_notify). */
  protected peerEnded(): void {
    this.readConnectionLost(this.protocol);
  }

  /** Nothing to do: the pump checks {@link BaseTransport.readPaused} before each delivery. */
  protected pauseReading(): void {}

  /** Nothing to do: the next pump delivers again. */
  protected resumeReading(): void {}

  /** Nothing to do: the pump reports every time it empties the buffer. */
  protected notifyWhenDrained(): void {}

  /** Nothing to do: a pump sends the FIN once the buffer is empty and no producer holds it back. */
  protected scheduleEnd(): void {}

  /** Drops queued bytes; the next pump reports the reset to both ends. */
  protected abort(reason: Failure | null): void {
    if (this.lost) return;
    if (reason === null) this.#aborted = true;
    this.closeRequested = true;
    this.writeClosed = true;
    this.#resetReason ??= reason ?? new Failure(new ConnectionAborted());
    this.#dropOutgoing();
  }

  /**
   * Unless the pump isolates errors, keeps the exception for the pump call to
   * rethrow, so the test fails at its cause; otherwise logs it and aborts
   * the connection, as a real transport does.
   */
  protected override protocolFailed(where: string, err: unknown): void {
    if (this.#isolateErrors) super.protocolFailed(where, err);
    else this.#pendingError ??= { error: err };
  }

  /** As {@link FakeTransport.protocolFailed}: rethrown from the pump call unless errors are isolated, then logged. */
  protected override lostCallbackFailed(where: string, err: unknown): void {
    if (this.#isolateErrors) super.lostCallbackFailed(where, err);
    else this.#pendingError ??= { error: err };
  }

  // ------------------------------------------------------------ pumping

  #isReading(): boolean {
    return !this.lost && !this.closeRequested && !this.readPaused;
  }

  #dropOutgoing(): void {
    this.#outgoing = [];
    this.#outgoingBytes = 0;
  }

  #takeOutgoing(): Buffer {
    const data = Buffer.concat(this.#outgoing);
    this.#dropOutgoing();
    return data;
  }

  #putBack(data: Buffer): void {
    // After a reset the bytes are gone, as on TCP.
    if (data.length === 0 || this.writeClosed) return;
    this.#outgoing.unshift(data);
    this.#outgoingBytes += data.length;
  }

  static #deliver(from: FakeTransport, to: FakeTransport, settings: PumpSettings): boolean {
    if (from.#outgoingBytes === 0 || !to.#isReading()) return false;
    const data = from.#takeOutgoing();
    const pieces = settings.chunker === null ? [data] : settings.chunker(data);
    let moved = false;
    for (const [i, piece] of pieces.entries()) {
      if (piece.length === 0) continue;
      if (!to.#isReading() || to.#pendingError !== null) {
        // Paused, or the test is about to hear of an error: the rest waits.
        // Closed: it waits too, and is dropped with the connection.
        from.#putBack(Buffer.concat(pieces.slice(i)));
        break;
      }
      moved = true;
      if (to.tlsStarted) {
        to.receiveTLS(piece);
        continue;
      }
      try {
        to.protocol.dataReceived(piece);
      } catch (err) {
        to.protocolFailed('dataReceived', err);
      }
    }
    if (from.#outgoingBytes === 0) from.writeBufferDrained();
    return moved;
  }

  static #finish(
    first: FakeTransport,
    firstReason: Failure,
    second: FakeTransport,
    secondReason: Failure,
  ): void {
    for (const side of [first, second]) {
      side.lost = true;
      side.closeRequested = true;
      side.writeClosed = true;
      side.#dropOutgoing();
    }
    // Both ends are told even if the first one throws (the base catches it);
    // an end whose TLS handshake failed before its protocol was attached is not.
    for (const [side, reason] of [
      [first, firstReason],
      [second, secondReason],
    ] as const) {
      if (side.#started) side.notifyConnectionLost(side.protocol, reason);
      else side.releaseTLS();
    }
  }

  // Settles at most one close event for `side`; true if one happened.
  static #settle(side: FakeTransport, peer: FakeTransport): boolean {
    if (side.lost) return false;
    const reset = side.#resetReason;
    if (reset !== null) {
      FakeTransport.#finish(side, reset, peer, new Failure(new ConnectionLost()));
      return true;
    }
    if (side.writeBufferSize > 0 || side.producerHoldsClose) return false;
    const done = (): boolean => {
      FakeTransport.#finish(side, side.closeReason(null), peer, peer.closeReason(null));
      return true;
    };
    const ending = side.closeRequested || (side.halfCloseRequested && !side.#finSent);
    if (ending && side.tlsStarted && !side.#rawEnded) {
      // close_notify first (the engine queues it on a later tick); the FIN once it is delivered.
      if (side.writeClosed) return false;
      side.endTLS();
      return true;
    }
    if (side.closeRequested) return done();
    if (side.halfCloseRequested && !side.#finSent) {
      side.#finSent = true;
      side.writeClosed = true;
      peer.#finReceived = true;
      // The peer had half-closed already: with both directions closed, the connection is done.
      if (peer.#finSent) return done();
      side.writeConnectionLost(side.protocol);
      // A peer that cannot half-close treats the FIN as the end (loseConnection()).
      // Under TLS the peer's engine reported the close_notify already (peerEnded).
      if (peer.tlsStarted) peer.receiveTLSEnd();
      else peer.readConnectionLost(peer.protocol);
      return true;
    }
    return false;
  }

  static #throwPending(a: FakeTransport, b: FakeTransport): void {
    const pending = a.#pendingError ?? b.#pendingError;
    a.#pendingError = null;
    b.#pendingError = null;
    if (pending !== null) throw pending.error;
  }

  static {
    pumpPair = (a, b, settings) => {
      // An error from a call the test made itself (registerProducer, say) surfaces here.
      FakeTransport.#throwPending(a, b);
      const movedAB = FakeTransport.#deliver(a, b, settings);
      FakeTransport.#throwPending(a, b);
      const movedBA = FakeTransport.#deliver(b, a, settings);
      FakeTransport.#throwPending(a, b);
      if (movedAB || movedBA) return true;
      const settled = FakeTransport.#settle(a, b) || FakeTransport.#settle(b, a);
      FakeTransport.#throwPending(a, b);
      return settled;
    };
    joinPump = (side, settings) => {
      side.#isolateErrors = settings.isolateErrors;
    };
    startEndTLS = (side, options, onHandshake) => {
      side.startTLSHandshake(options, onHandshake);
    };
    startEnd = (side) => {
      side.#started = true;
      side.attachProtocol(side.protocol);
      FakeTransport.#throwPending(side, side);
    };
  }
}
