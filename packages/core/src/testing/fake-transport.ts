/**
 * `FakeTransport`: one end of an in-memory connection (Twisted's
 * `test/iosim.py` `FakeTransport`). What its protocol writes waits in a
 * buffer until an {@link IOPump} (io-pump.ts) delivers it to the other end.
 *
 * Tests: test/testing/io-pump.test.ts, test/types/doubles.test-d.ts
 * @module
 */
import type { IAddress } from '../address.js';
import { ConnectionAborted, ConnectionDone, ConnectionLost } from '../errors.js';
import { Failure } from '../failure.js';
import type {
  IProtocol,
  IPullProducer,
  IPushProducer,
  ITCPTransport,
  WriteData,
} from '../interfaces.js';
import { toBuffer } from '../internal/write-data.js';
import { isHalfCloseable } from '../half-closeable.js';
import {
  checkKeepAliveDelay,
  checkWriteHighWaterMark,
  checkWriteSequence,
} from '../reactor-kit/argument-checks.js';
import { DEFAULT_WRITE_HIGH_WATER_MARK } from '../reactor-kit/base-transport.js';
import { Logger } from '../log.js';
import type { Chunker } from './chunkers.js';
import type { ProducerState } from './string-transport.js';
import { markDisconnected } from '../internal/mark-disconnected.js';

const log = new Logger('torsion.testing.iopump');

/** Options for {@link FakeTransport}. */
export interface FakeTransportOptions {
  /** What `getHost()` returns. */
  hostAddress: IAddress;
  /** What `getPeer()` returns. */
  peerAddress: IAddress;
  /** Which end this is (for log messages and tests). */
  isServer: boolean;
  /**
   * A registered streaming producer is paused when more than this many bytes
   * wait to be pumped, and resumed once the pump has taken them all.
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
 * Calls user code on behalf of one end, applying the pump's error policy.
 * @internal
 */
export let guarded: (side: FakeTransport, settings: PumpSettings, fn: () => void) => void;

/**
 * One end of an in-memory connection. Writes wait in a buffer until an
 * {@link IOPump} delivers them to the other end's protocol.
 *
 * @remarks
 * Nothing moves by itself: bytes, closes and half-closes take effect on the
 * next `pump()`, as a real reactor reports them on a later turn of the loop.
 * - `loseConnection()`: reading stops now; queued bytes are still delivered
 *   (once any producer is unregistered), then both protocols get
 *   `connectionLost(ConnectionDone)`.
 * - `abortConnection()`: queued bytes are dropped; this side gets
 *   `ConnectionAborted`, the peer `ConnectionLost`.
 * - `loseWriteConnection()`: queued bytes are delivered, then a half-closeable
 *   peer gets `readConnectionLost()` (this side `writeConnectionLost()`); a
 *   peer that is not half-closeable closes the connection, as on TCP.
 * - Backpressure: a streaming producer is paused when the buffer holds more
 *   than {@link FakeTransport.highWaterMark} bytes and resumed when the pump
 *   empties it; a pull producer is asked for more whenever it is empty.
 * - `pauseProducing()` on this transport stops delivery *to* its protocol
 *   (bytes wait in the peer's buffer) until `resumeProducing()`.
 */
export class FakeTransport implements ITCPTransport {
  /** The protocol at this end. */
  readonly protocol: IProtocol;
  /** True for the server end. */
  readonly isServer: boolean;
  /** See {@link FakeTransportOptions.highWaterMark}. */
  readonly highWaterMark: number;
  readonly #hostAddress: IAddress;
  readonly #peerAddress: IAddress;

  #outgoing: Buffer[] = [];
  #outgoingBytes = 0;
  #loseRequested = false;
  #aborted = false;
  #failure: unknown = null;
  #failed = false;
  #writeShutdown = false;
  #finSent = false;
  #finReceived = false;
  #disconnected = false;
  #readState: ProducerState = 'producing';
  #producer: IPushProducer | IPullProducer | null = null;
  #streaming = false;
  #producerPaused = false;
  #tcpNoDelay = false;
  #tcpKeepAlive = false;

  /**
   * @param protocol - the protocol at this end; the transport does not call
   *   `makeConnection` itself (see {@link connectedServerAndClient}).
   * @param options - addresses, which end this is, the high-water mark.
   */
  constructor(protocol: IProtocol, options: FakeTransportOptions) {
    this.protocol = protocol;
    this.isServer = options.isServer;
    this.highWaterMark = checkWriteHighWaterMark(
      options.highWaterMark ?? DEFAULT_WRITE_HIGH_WATER_MARK,
    );
    this.#hostAddress = options.hostAddress;
    this.#peerAddress = options.peerAddress;
  }

  // ------------------------------------------------------------ state for tests

  /** True once closing began (`loseConnection`, `abortConnection`, an error) or the connection is gone. */
  get disconnecting(): boolean {
    return this.#loseRequested || this.#aborted || this.#failed || this.#disconnected;
  }

  /** True once this end's protocol got `connectionLost`. */
  get disconnected(): boolean {
    return this.#disconnected;
  }

  /** True once `abortConnection()` was called. */
  get aborted(): boolean {
    return this.#aborted;
  }

  /** True once `loseWriteConnection()` was called. */
  get writeDisconnected(): boolean {
    return this.#writeShutdown;
  }

  /** True once the peer's FIN arrived (it called `loseWriteConnection()`). */
  get readDisconnected(): boolean {
    return this.#finReceived;
  }

  /** Bytes written here and not yet delivered to the peer. */
  get bufferedBytes(): number {
    return this.#outgoingBytes;
  }

  /** The registered producer, or `null`. */
  get producer(): IPushProducer | IPullProducer | null {
    return this.#producer;
  }

  /** Whether the registered producer is streaming; `null` when none is registered. */
  get streaming(): boolean | null {
    return this.#producer === null ? null : this.#streaming;
  }

  /** Whether delivery to this end's protocol is on (`'producing'`), paused, or stopped. */
  get producerState(): ProducerState {
    return this.#readState;
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
    if (this.#aborted || this.#failed || this.#finSent || this.#disconnected) return;
    if (bytes.length === 0) return;
    // Copied: the caller may reuse its array before the pump runs.
    this.#outgoing.push(Buffer.from(bytes));
    this.#outgoingBytes += bytes.length;
    if (
      this.#producer !== null &&
      this.#streaming &&
      !this.#producerPaused &&
      this.#outgoingBytes > this.highWaterMark
    ) {
      this.#producerPaused = true;
      (this.#producer as IPushProducer).pauseProducing();
    }
  }

  /**
   * Queues each item in order.
   * @throws TypeError if an item is neither a Uint8Array nor a string (nothing is queued then).
   */
  writeSequence(data: Iterable<WriteData>): void {
    const items = checkWriteSequence(data).map((item) => toBuffer(item));
    for (const item of items) this.write(item);
  }

  /** Stops delivery to this end and closes once queued bytes are pumped. */
  loseConnection(): void {
    this.#loseRequested = true;
  }

  /** This end's address. */
  getHost(): IAddress {
    return this.#hostAddress;
  }

  /** The other end's address. */
  getPeer(): IAddress {
    return this.#peerAddress;
  }

  // ------------------------------------------------------------ ITCPTransport

  /** Drops queued bytes; the next pump reports ConnectionAborted here and ConnectionLost to the peer. */
  abortConnection(): void {
    if (this.#disconnected) return;
    this.#aborted = true;
    this.#dropOutgoing();
  }

  /** Sends FIN (on a later pump) once queued bytes are delivered; reading continues. */
  loseWriteConnection(): void {
    this.#writeShutdown = true;
  }

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
  setTcpKeepAlive(enabled: boolean, initialDelaySeconds?: number): void {
    checkKeepAliveDelay(initialDelaySeconds ?? 0);
    this.#tcpKeepAlive = enabled;
  }

  /** The last value given to `setTcpKeepAlive` (default false). */
  getTcpKeepAlive(): boolean {
    return this.#tcpKeepAlive;
  }

  // ------------------------------------------------------------ IConsumer

  /**
   * Attaches a producer. A pull producer is asked for data at once, then each
   * time a pump empties the buffer. A producer registered after the
   * connection is gone is stopped at once.
   * @throws Error if a producer is already registered.
   */
  registerProducer(producer: IPushProducer | IPullProducer, streaming: boolean): void {
    if (this.#producer !== null) {
      throw new Error('Cannot register a producer: one is already registered');
    }
    if (this.#disconnected) {
      producer.stopProducing();
      return;
    }
    this.#producer = producer;
    this.#streaming = streaming;
    this.#producerPaused = false;
    if (!streaming) producer.resumeProducing();
  }

  /** Detaches the producer; a pending `loseConnection()` can then complete. */
  unregisterProducer(): void {
    this.#producer = null;
    this.#streaming = false;
    this.#producerPaused = false;
  }

  // ------------------------------------------------------------ IPushProducer (reads)

  /** Holds bytes for this end in the peer's buffer until {@link FakeTransport.resumeProducing}. */
  pauseProducing(): void {
    if (this.#readState === 'producing') this.#readState = 'paused';
  }

  /** Lets the pump deliver to this end again. */
  resumeProducing(): void {
    if (this.#readState === 'paused') this.#readState = 'producing';
  }

  /** Stops reading for good and closes, as Twisted's transports do. */
  stopProducing(): void {
    this.#readState = 'stopped';
    this.loseConnection();
  }

  // ------------------------------------------------------------ pumping

  #isReading(): boolean {
    return (
      this.#readState === 'producing' &&
      !this.#loseRequested &&
      !this.#aborted &&
      !this.#failed &&
      !this.#disconnected
    );
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
    if (data.length === 0) return;
    this.#outgoing.unshift(data);
    this.#outgoingBytes += data.length;
  }

  #fail(error: unknown): void {
    if (this.#disconnected || this.#failed) return;
    this.#failed = true;
    this.#failure = error;
    this.#dropOutgoing();
  }

  // The buffer drained: wake whichever producer is waiting for that.
  #drained(settings: PumpSettings): void {
    const producer = this.#producer;
    if (producer === null || this.#outgoingBytes > 0) return;
    if (this.#streaming) {
      if (this.#producerPaused) {
        this.#producerPaused = false;
        guarded(this, settings, () => (producer as IPushProducer).resumeProducing());
      }
    } else if (!this.#loseRequested && !this.#writeShutdown) {
      guarded(this, settings, () => producer.resumeProducing());
    }
  }

  static #deliver(from: FakeTransport, to: FakeTransport, settings: PumpSettings): boolean {
    if (from.#outgoingBytes === 0 || !to.#isReading()) return false;
    const data = from.#takeOutgoing();
    const pieces = settings.chunker === null ? [data] : settings.chunker(data);
    let moved = false;
    for (const [i, piece] of pieces.entries()) {
      if (piece.length === 0) continue;
      if (!to.#isReading()) {
        // Paused: the rest waits. Closed: it waits too, and is dropped with the connection.
        from.#putBack(Buffer.concat(pieces.slice(i)));
        break;
      }
      moved = true;
      try {
        guarded(to, settings, () => to.protocol.dataReceived(piece));
      } catch (err) {
        from.#putBack(Buffer.concat(pieces.slice(i + 1)));
        throw err;
      }
    }
    from.#drained(settings);
    return moved;
  }

  static #finish(
    first: FakeTransport,
    firstReason: Error,
    second: FakeTransport,
    secondReason: Error,
    settings: PumpSettings,
  ): void {
    for (const side of [first, second]) {
      side.#disconnected = true;
      side.#readState = 'stopped';
      side.#dropOutgoing();
    }
    const errors: unknown[] = [];
    const attempt = (fn: () => void): void => {
      try {
        fn();
      } catch (err) {
        errors.push(err);
      }
    };
    for (const [side, reason] of [
      [first, firstReason],
      [second, secondReason],
    ] as const) {
      const producer = side.#producer;
      if (producer !== null) {
        side.unregisterProducer();
        attempt(() => guarded(side, settings, () => producer.stopProducing()));
      }
      attempt(() =>
        guarded(side, settings, () => {
          markDisconnected(side.protocol);
          side.protocol.connectionLost(new Failure(reason));
        }),
      );
    }
    // Both ends were told before the first error surfaces, so state stays whole.
    if (errors.length > 0) throw errors[0];
  }

  // Settles at most one close event for `side`; true if one happened.
  static #settle(side: FakeTransport, peer: FakeTransport, settings: PumpSettings): boolean {
    if (side.#disconnected) return false;
    if (side.#failed) {
      const cause = side.#failure;
      const reason = new ConnectionLost(
        'The protocol raised an error; the connection was aborted',
        {
          cause,
        },
      );
      FakeTransport.#finish(side, reason, peer, new ConnectionLost(), settings);
      return true;
    }
    if (side.#aborted) {
      FakeTransport.#finish(side, new ConnectionAborted(), peer, new ConnectionLost(), settings);
      return true;
    }
    const flushed = side.#outgoingBytes === 0 && side.#producer === null;
    if (side.#loseRequested && flushed) {
      FakeTransport.#finish(side, new ConnectionDone(), peer, new ConnectionDone(), settings);
      return true;
    }
    if (side.#writeShutdown && !side.#finSent && flushed) {
      side.#finSent = true;
      peer.#finReceived = true;
      if (peer.#finSent) {
        FakeTransport.#finish(side, new ConnectionDone(), peer, new ConnectionDone(), settings);
        return true;
      }
      const local = side.protocol;
      if (isHalfCloseable(local)) {
        guarded(side, settings, () => {
          local.writeConnectionLost();
        });
      }
      const remote = peer.protocol;
      if (isHalfCloseable(remote)) {
        guarded(peer, settings, () => {
          remote.readConnectionLost();
        });
      } else {
        // A protocol that cannot half-close treats the peer's FIN as the end.
        peer.#loseRequested = true;
      }
      return true;
    }
    return false;
  }

  static {
    pumpPair = (a, b, settings) => {
      const movedAB = FakeTransport.#deliver(a, b, settings);
      const movedBA = FakeTransport.#deliver(b, a, settings);
      if (movedAB || movedBA) return true;
      return FakeTransport.#settle(a, b, settings) || FakeTransport.#settle(b, a, settings);
    };
    guarded = (side, settings, fn) => {
      try {
        fn();
      } catch (err) {
        if (!settings.isolateErrors) throw err;
        log.failure('Unhandled error in protocol code; aborting the connection', err, {
          side: side.isServer ? 'server' : 'client',
        });
        side.#fail(err);
      }
    };
  }
}
