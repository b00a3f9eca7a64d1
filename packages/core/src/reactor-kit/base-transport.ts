/**
 * `BaseTransport`: what every reactor's TCP transport shares, as Twisted's
 * `abstract.FileDescriptor`: the close requests (`loseConnection`,
 * `loseWriteConnection`, `abortConnection`), the producer/consumer
 * bookkeeping (streaming and pull producers, the write high-water mark,
 * pausing reads while the output backs up and no producer is registered),
 * and fault isolation for producer and protocol callbacks. A concrete
 * transport only does I/O: it writes, reports how much output is buffered,
 * pauses and resumes its reads, tells the base when its output has drained,
 * and sends the FIN or the reset when asked.
 *
 * It is also every transport's TLS (`ITLSTransport`): `startTLS()` puts a
 * TLS engine (internal/tls-engine.ts, Node's TLS in memory) between the
 * protocol and the transport's bytes, and a TLS port or connector can run
 * the handshake before any protocol is attached
 * ({@link BaseTransport.startTLSHandshake}). The subclass keeps moving raw
 * bytes; the few places where TLS changes what it does are listed on the
 * class.
 *
 * Tests: test/tcp-producer.integration.test.ts, test/tcp.integration.test.ts,
 * test/testing/simulated/simulated-transport.test.ts,
 * test/testing/io-pump.test.ts (FakeTransport), test/tls-start.integration.test.ts,
 * test/testing/simulated/simulated-tls.test.ts, test/testing/io-pump-tls.test.ts,
 * and the conformance suite (@torsion/reactor-conformance) on every reactor
 * @module
 */
import type { IAddress, INETAddress } from '../address.js';
import { ConnectionDone, ConnectionLost, type TLSError } from '../errors.js';
import { Failure } from '../failure.js';
import type {
  IProtocol,
  IPullProducer,
  IPushProducer,
  IHandshakeListener,
  ITLSStartingListener,
  IStreamTransport,
  ITLSTransport,
  TLSCipher,
  TLSPeerCertificate,
  WriteData,
} from '../interfaces.js';
import { checkTLSOptions, type ClientTLSOptions, type ServerTLSOptions } from '../tls-options.js';
import { markDisconnected } from '../internal/mark-disconnected.js';
import {
  REAL_TIME_CLOCK,
  TLS_HALF_CLOSE_SUPPORTED,
  TLSEngine,
  type HandshakeClock,
  type TLSEngineOwner,
} from '../internal/tls-engine.js';
import { describeType } from '../describe-type.js';
import { isHalfCloseable } from '../half-closeable.js';
import { Logger } from '../log.js';
import {
  checkKeepAliveDelay,
  checkWriteData,
  checkWriteHighWaterMark,
  checkWriteSequence,
} from './argument-checks.js';

/**
 * Default write high-water mark in bytes: above it a streaming producer is
 * paused (or, with no producer, reading stops). Twisted's `bufferSize` and
 * asyncio's default are the same 64 KiB.
 */
export const DEFAULT_WRITE_HIGH_WATER_MARK = 64 * 1024;

// Pull-producer bookkeeping: whether the producer wrote during its last
// resumeProducing(), so that one which wrote nothing is not asked again in a
// busy loop (Twisted asks it again only once something was written).
const PULL_OFF = 0;
const PULL_ASKING = 1;
const PULL_WROTE = 2;
const PULL_IDLE = 3;

const tlsLog = new Logger('torsion.tls');

export {
  /**
   * Whether `startTLS()` connections (and every connection on the TLS
   * engine) can half-close on this runtime: true on Node, false on Bun.
   * A reactor states it as a capability; where false,
   * `loseWriteConnection()` under TLS closes the connection (with a warning)
   * instead of waiting for ever.
   */
  TLS_HALF_CLOSE_SUPPORTED,
  type HandshakeClock,
};

/**
 * Called once when a handshake started with `startTLSHandshake` ends: `null`
 * when it finished, the classified {@link TLSError} when it failed. A port or
 * connector waits for it before any protocol is attached.
 */
export type HandshakeCallback = (error: TLSError | null) => void;

/**
 * A connection's TLS: the engine and what the transport keeps about it. Made
 * by `startTLS()`, so a plaintext connection pays one field for TLS, not five.
 */
interface TLSSession {
  engine: TLSEngine;
  /** Told of the handshake's outcome when TLS started before the protocol was attached. */
  onHandshake: HandshakeCallback | null;
  /** Plaintext that arrived before the protocol was attached (right after the handshake). */
  early: Buffer[] | null;
  /** The handshake or the TLS stream failed: why the connection ends. */
  failure: Failure | null;
  /** `loseConnection()` was called during the handshake: it takes effect once the handshake is over. */
  closeAfterHandshake: boolean;
}

/**
 * What most connections never use, in one record made on first use: a
 * producer, TLS, a write high-water mark other than the default, and the
 * reason the connection ends. An idle plaintext connection then pays one
 * field for the four: JavaScriptCore rounds an object up to 80 bytes for
 * eight fields but 112 for nine to twelve, and V8 pays 8 bytes a field.
 */
interface TransportRare {
  producer: IPushProducer | IPullProducer | null;
  tls: TLSSession | null;
  highWaterMark: number;
  reason: Failure | null;
}

// BaseTransport's #bits: bits 0–11 (bits 16–31 are the subclass's, see subclassBits).
const B_LOST = 1;
const B_CLOSE_REQUESTED = 2;
const B_HALF_CLOSE_REQUESTED = 4;
const B_WRITE_CLOSED = 8;
const B_READ_PAUSED_BY_PRODUCER = 16;
const B_READ_PAUSED_BY_BUFFER = 32;
const B_OVER_HIGH_WATER = 64;
const B_DRAIN_AWAITED = 128;
const B_STREAMING = 256;
const B_PRODUCER_PAUSED = 512;
/** Where the `PULL_*` state sits in the bits (two of them). */
const B_PULL_SHIFT = 10;
const B_PULL_MASK = 3 << B_PULL_SHIFT;

/**
 * The shared half of an `ITCPTransport` (and, with `A` = `UNIXAddress`, of an
 * `IUNIXTransport`). Extend it to write a reactor's transport; see "Writing a
 * reactor" in docs/reactors.md.
 *
 * `A` is the type of `getHost()`/`getPeer()`. The TCP option members stay on
 * every transport: a UNIX transport only records them (there is no Nagle or
 * keep-alive on a UNIX socket), so one class carries the whole stream
 * machinery whatever the address family, and a TCP transport is still an
 * `ITLSTransport`.
 *
 * @remarks
 * What the subclass provides:
 * - the I/O members of `ITCPTransport` (`write`, `writeSequence`, the TCP
 *   options) and {@link BaseTransport.writeBufferSize};
 * - {@link BaseTransport.pauseReading} / {@link BaseTransport.resumeReading},
 *   called whenever a reason to hold reads back appears or goes away;
 * - {@link BaseTransport.notifyWhenDrained}: call
 *   {@link BaseTransport.writeBufferDrained} once the output is empty;
 * - {@link BaseTransport.scheduleEnd}: send the FIN soon (on a later turn, so
 *   writes made right after `loseConnection()` still go out) unless
 *   {@link BaseTransport.producerHoldsClose};
 * - {@link BaseTransport.abort}: reset the connection now.
 *
 * After each write it calls {@link BaseTransport.afterWrite}, and when the
 * connection is gone it calls {@link BaseTransport.connectionEnded} (or, for
 * an end of its own, sets {@link BaseTransport.lost} and calls
 * {@link BaseTransport.notifyConnectionLost}). Nothing here allocates on the
 * write or read path. Exceptions from user code go to
 * {@link BaseTransport.protocolFailed} (the connection can still be aborted)
 * or {@link BaseTransport.lostCallbackFailed} (it is gone); a test double
 * may override them to hand the exception to the test instead.
 *
 * TLS. Once {@link BaseTransport.tlsStarted} is true, the protocol's bytes
 * go through the TLS engine and the subclass's own bytes are ciphertext:
 * - `write()`: after the usual checks, call {@link BaseTransport.writeTLS}
 *   instead of sending, and add {@link BaseTransport.tlsBufferedBytes} to
 *   `writeBufferSize`;
 * - bytes read: give them to {@link BaseTransport.receiveTLS} instead of
 *   `dataReceived`; the peer's FIN to {@link BaseTransport.receiveTLSEnd}
 *   instead of running {@link BaseTransport.peerEnded} (the engine runs it
 *   once the peer's close_notify, and everything before it, was delivered);
 * - where the FIN would be sent after a close request, call
 *   {@link BaseTransport.endTLS} instead (close_notify after everything
 *   written).
 *
 * And it provides the four hooks the engine drives:
 * {@link BaseTransport.attachedProtocol}, {@link BaseTransport.writeRaw}
 * (ciphertext out, behind whatever was written before, even plaintext still
 * queued: that is what keeps bytes written before `startTLS()` ahead of the
 * ClientHello), {@link BaseTransport.endRaw} (the FIN once close_notify is
 * out, or after a TLS failure) and {@link BaseTransport.peerEnded}. A
 * transport whose clock is not real time overrides
 * {@link BaseTransport.handshakeClock}. While a handshake runs, reads are
 * never held back by the output or a producer (the handshake needs the
 * peer's answers): {@link BaseTransport.readPaused} says false, and only the
 * delivery of plaintext to the protocol waits. A failed handshake or TLS
 * stream ends the connection, after the ciphertext already produced (an
 * alert), with the TLSError as the reason ({@link BaseTransport.closeReason}).
 */
export abstract class BaseTransport<A extends IAddress = INETAddress>
  implements IStreamTransport, Omit<ITLSTransport, 'getHost' | 'getPeer'>
{
  readonly #host: A;
  readonly #peer: A;
  /** The rarely used state ({@link TransportRare}), made on first use. */
  #rare: TransportRare | null = null;

  /**
   * Every boolean of the connection's state, one bit each (the `B_*`
   * constants), behind the accessors below: one field instead of ten keeps
   * an idle connection smaller.
   */
  #bits = 0;

  /**
   * Sixteen bits of the state field for a subclass's own flags (bits 0–15 of
   * this value), so that a transport keeps one state field, not two.
   */
  protected get subclassBits(): number {
    return this.#bits >>> 16;
  }
  protected set subclassBits(bits: number) {
    this.#bits = (this.#bits & 0xffff) | ((bits & 0xffff) << 16);
  }

  #rareState(): TransportRare {
    return (this.#rare ??= {
      producer: null,
      tls: null,
      highWaterMark: DEFAULT_WRITE_HIGH_WATER_MARK,
      reason: null,
    });
  }

  get #highWaterMark(): number {
    return this.#rare === null ? DEFAULT_WRITE_HIGH_WATER_MARK : this.#rare.highWaterMark;
  }
  set #highWaterMark(bytes: number) {
    if (bytes !== DEFAULT_WRITE_HIGH_WATER_MARK || this.#rare !== null) {
      this.#rareState().highWaterMark = bytes;
    }
  }

  /**
   * Why the connection ends, when this side decided first (an abort, a
   * protocol or socket error), as recorded by
   * {@link BaseTransport.recordReason}; `null` if nothing was recorded.
   */
  protected get recordedReason(): Failure | null {
    return this.#rare === null ? null : this.#rare.reason;
  }

  /**
   * Records why the connection ends, unless a reason was recorded before:
   * the first one wins. `make` runs only when it does, so a later error or
   * abort does not pay for a Failure (and its stack) that is dropped.
   */
  protected recordReason(make: () => Failure): void {
    if (this.recordedReason === null) this.#rareState().reason = make();
  }

  /** `connectionLost` ran (or is running): nothing calls the protocol or the producer after it. */
  protected get lost(): boolean {
    return (this.#bits & B_LOST) !== 0;
  }
  protected set lost(on: boolean) {
    this.#bits = on ? this.#bits | B_LOST : this.#bits & ~B_LOST;
  }

  /** `loseConnection()` or an abort was requested: reading stops, the connection closes. */
  protected get closeRequested(): boolean {
    return (this.#bits & B_CLOSE_REQUESTED) !== 0;
  }
  protected set closeRequested(on: boolean) {
    this.#bits = on ? this.#bits | B_CLOSE_REQUESTED : this.#bits & ~B_CLOSE_REQUESTED;
  }

  /** `loseWriteConnection()` was called. */
  protected get halfCloseRequested(): boolean {
    return (this.#bits & B_HALF_CLOSE_REQUESTED) !== 0;
  }
  protected set halfCloseRequested(on: boolean) {
    this.#bits = on ? this.#bits | B_HALF_CLOSE_REQUESTED : this.#bits & ~B_HALF_CLOSE_REQUESTED;
  }

  /** The FIN was queued, or an abort or error happened: further writes are dropped. */
  protected get writeClosed(): boolean {
    return (this.#bits & B_WRITE_CLOSED) !== 0;
  }
  protected set writeClosed(on: boolean) {
    this.#bits = on ? this.#bits | B_WRITE_CLOSED : this.#bits & ~B_WRITE_CLOSED;
  }

  /** A streaming producer paused reading. */
  get #readPausedByProducer(): boolean {
    return (this.#bits & B_READ_PAUSED_BY_PRODUCER) !== 0;
  }
  set #readPausedByProducer(on: boolean) {
    this.#bits = on
      ? this.#bits | B_READ_PAUSED_BY_PRODUCER
      : this.#bits & ~B_READ_PAUSED_BY_PRODUCER;
  }

  /** Reading paused while the output is above the high-water mark and no producer is registered. */
  get #readPausedByBuffer(): boolean {
    return (this.#bits & B_READ_PAUSED_BY_BUFFER) !== 0;
  }
  set #readPausedByBuffer(on: boolean) {
    this.#bits = on ? this.#bits | B_READ_PAUSED_BY_BUFFER : this.#bits & ~B_READ_PAUSED_BY_BUFFER;
  }

  /** The output went above the high-water mark and has not drained since. */
  get #overHighWater(): boolean {
    return (this.#bits & B_OVER_HIGH_WATER) !== 0;
  }
  set #overHighWater(on: boolean) {
    this.#bits = on ? this.#bits | B_OVER_HIGH_WATER : this.#bits & ~B_OVER_HIGH_WATER;
  }

  /** A drain notification was requested and has not arrived. */
  get #drainAwaited(): boolean {
    return (this.#bits & B_DRAIN_AWAITED) !== 0;
  }
  set #drainAwaited(on: boolean) {
    this.#bits = on ? this.#bits | B_DRAIN_AWAITED : this.#bits & ~B_DRAIN_AWAITED;
  }

  /** The registered producer is a push (streaming) producer. */
  get #streaming(): boolean {
    return (this.#bits & B_STREAMING) !== 0;
  }
  set #streaming(on: boolean) {
    this.#bits = on ? this.#bits | B_STREAMING : this.#bits & ~B_STREAMING;
  }

  /** The registered producer was told to pause. */
  get #producerPaused(): boolean {
    return (this.#bits & B_PRODUCER_PAUSED) !== 0;
  }
  set #producerPaused(on: boolean) {
    this.#bits = on ? this.#bits | B_PRODUCER_PAUSED : this.#bits & ~B_PRODUCER_PAUSED;
  }

  get #producer(): IPushProducer | IPullProducer | null {
    return this.#rare === null ? null : this.#rare.producer;
  }
  set #producer(producer: IPushProducer | IPullProducer | null) {
    if (producer !== null || this.#rare !== null) this.#rareState().producer = producer;
  }

  /** A pull producer's `PULL_*` state, in two of the bits rather than a field of its own. */
  get #pullState(): number {
    return (this.#bits & B_PULL_MASK) >> B_PULL_SHIFT;
  }
  set #pullState(state: number) {
    this.#bits = (this.#bits & ~B_PULL_MASK) | (state << B_PULL_SHIFT);
  }

  /** The TLS layer and its state, once `startTLS()` (or a TLS port or connector) started it. */
  get #tls(): TLSSession | null {
    return this.#rare === null ? null : this.#rare.tls;
  }
  set #tls(session: TLSSession | null) {
    if (session !== null || this.#rare !== null) this.#rareState().tls = session;
  }

  /**
   * @param host - this end's address, captured now so it survives the close.
   * @param peer - the remote address, likewise.
   * @param highWaterMark - write high-water mark in bytes (validated by the reactor).
   */
  protected constructor(host: A, peer: A, highWaterMark: number) {
    this.#host = host;
    this.#peer = peer;
    this.#highWaterMark = highWaterMark;
  }

  // ------------------------------------------------------------ for the subclass to provide

  /** Where exceptions from user code are logged (the reactor's namespace). */
  protected abstract get log(): Logger;

  /** The protocol's type name, for log messages. */
  protected abstract protocolName(): string;

  /** Stops reading from the peer (a producer, the output buffer or a close holds reads back). */
  protected abstract pauseReading(): void;

  /**
   * A reason to hold reads back went away: resume reading unless
   * {@link BaseTransport.readPaused} or {@link BaseTransport.closeRequested}
   * still holds them back.
   */
  protected abstract resumeReading(): void;

  /**
   * Arrange for {@link BaseTransport.writeBufferDrained} to be called once
   * {@link BaseTransport.writeBufferSize} is 0 (on a later turn if it is 0
   * now). A transport that reports every drain anyway may do nothing.
   */
  protected abstract notifyWhenDrained(): void;

  /** Ends the write side soon (FIN, or the full close after `loseConnection()`), once no producer holds it back. */
  protected abstract scheduleEnd(): void;

  /**
   * Resets the connection now, dropping unsent data; `connectionLost` later
   * gets `reason` (or ConnectionAborted when `null`) unless another reason
   * was recorded first.
   */
  protected abstract abort(reason: Failure | null): void;

  /** Bytes written and not yet handed to the network; flow control keeps it near {@link BaseTransport.writeHighWaterMark}. */
  abstract get writeBufferSize(): number;

  /** See `ITransport.write`. */
  abstract write(data: WriteData): void;
  /** See `ITransport.writeSequence`. */
  abstract writeSequence(data: Iterable<WriteData>): void;
  /** See {@link ITLSTransport.setTcpNoDelay}. */
  abstract setTcpNoDelay(enabled: boolean): void;
  /** See {@link ITLSTransport.getTcpNoDelay}. */
  abstract getTcpNoDelay(): boolean;
  /** See {@link ITLSTransport.setTcpKeepAlive}. */
  abstract setTcpKeepAlive(enabled: boolean, initialDelaySeconds?: number): void;
  /** See {@link ITLSTransport.getTcpKeepAlive}. */
  abstract getTcpKeepAlive(): boolean;

  // ------------------------------------------------------------ for the subclass to provide: TLS

  /** The protocol attached to this transport, or `null` before one is (a TLS port's handshake). */
  protected abstract get attachedProtocol(): IProtocol | null;

  /**
   * The protocol this transport delivers to, as Twisted's
   * `transport.protocol`: how a server that walks its port's
   * `connections()` (a graceful drain) reaches each protocol. `null` while a
   * TLS port's handshake runs, before the protocol is attached.
   */
  get protocol(): IProtocol | null {
    return this.attachedProtocol;
  }

  /**
   * Sends bytes as they are (ciphertext, under TLS) after everything sent
   * before, without the flow-control bookkeeping of `write()`
   * ({@link BaseTransport.writeTLS} does it).
   */
  protected abstract writeRaw(data: Buffer): void;

  /**
   * Sends the FIN once everything given to {@link BaseTransport.writeRaw}
   * is out (even when {@link BaseTransport.writeClosed} is set), then goes
   * on as after the FIN of a plaintext close: a full close
   * ({@link BaseTransport.closeRequested}) closes the connection, a
   * half-close tells the protocol `writeConnectionLost()`. Under TLS it runs
   * once our close_notify was handed to `writeRaw`.
   */
  protected abstract endRaw(): void;

  /**
   * The peer ended its stream: its FIN in plaintext; under TLS, its
   * close_notify (or FIN) once everything before it was delivered. What the
   * transport did on the peer's FIN before TLS existed.
   */
  protected abstract peerEnded(): void;

  /** Schedules the handshake timeout; a transport in virtual time overrides it. */
  protected get handshakeClock(): HandshakeClock {
    return REAL_TIME_CLOCK;
  }

  // ------------------------------------------------------------ ITransport

  /**
   * Closes the connection cleanly: stops reading now, waits until any
   * registered producer is unregistered, flushes what was written (including
   * writes made right after this call, in the same turn), sends FIN and
   * closes. `connectionLost` then receives ConnectionDone unless something
   * failed on the way.
   */
  loseConnection(): void {
    if (this.closeRequested || this.lost) return;
    if (this.#handshaking()) {
      // What was written must wait for the handshake, which needs the
      // peer's answers: close once it is over (a failure closes anyway).
      if (this.#tls !== null) this.#tls.closeAfterHandshake = true;
      return;
    }
    this.closeRequested = true;
    this.pauseReading();
    this.#tls?.engine.pause();
    this.scheduleEnd();
  }

  /**
   * Half-closes: sends FIN once everything written so far is flushed (and any
   * producer unregistered) but keeps reading. A half-closeable protocol's
   * `writeConnectionLost()` runs once the FIN is out.
   */
  loseWriteConnection(): void {
    if (this.halfCloseRequested || this.closeRequested || this.lost) return;
    if (this.#tls !== null && !TLS_HALF_CLOSE_SUPPORTED) {
      // The TLS engine of this runtime cannot report the peer's end while our
      // side is closed: a half-close would wait for ever, so close instead.
      tlsLog.warn('TLS half-close is not supported on this runtime; closing the connection', {
        peer: this.#peer.toString(),
      });
      this.loseConnection();
      return;
    }
    this.halfCloseRequested = true;
    this.scheduleEnd();
  }

  /** Closes now with a reset, dropping unsent data; `connectionLost` receives ConnectionAborted. */
  abortConnection(): void {
    this.abort(null);
  }

  /** This end's address (still valid after the close). */
  getHost(): A {
    return this.#host;
  }

  /** The peer's address (still valid after the close). */
  getPeer(): A {
    return this.#peer;
  }

  /** True once `loseConnection()` or `abortConnection()` was called, or the connection is gone. */
  get disconnecting(): boolean {
    return this.closeRequested || this.lost || this.#tls?.closeAfterHandshake === true;
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
    this.#highWaterMark = checkWriteHighWaterMark(bytes);
    if (!this.#overHighWater && !this.writeClosed && this.writeBufferSize > bytes) {
      this.#bufferFull();
    }
  }

  // ------------------------------------------------------------ ITLSTransport

  /**
   * Switches this plaintext connection to TLS (see `ITLSTransport.startTLS`).
   * @throws Error if TLS was already started or the connection is closing.
   * @throws TypeError if `options` were not made by `serverTLSOptions()` or `optionsForClientTLS()`.
   */
  startTLS(options: ClientTLSOptions | ServerTLSOptions): void {
    checkTLSOptions(options);
    if (this.#tls !== null) throw new Error('startTLS() was already called on this connection');
    if (this.closeRequested || this.halfCloseRequested || this.writeClosed || this.lost) {
      throw new Error('startTLS() needs an open connection; this one is closing or closed');
    }
    this.#startEngine(options);
    // Bytes the protocol holds but has not handled arrived in plaintext after
    // the switch was asked for: it drops them now (STARTTLS injection).
    const protocol = this.attachedProtocol;
    if (
      protocol !== null &&
      typeof (protocol as Partial<ITLSStartingListener>).tlsStarting === 'function'
    ) {
      try {
        (protocol as unknown as ITLSStartingListener).tlsStarting();
      } catch (err) {
        this.protocolFailed('tlsStarting', err);
      }
    }
  }

  /** True once a TLS handshake on this connection has completed (always false in plaintext). */
  get secure(): boolean {
    return this.#tls?.engine.handshakeCompleted ?? false;
  }

  /** The peer's certificate; `null` before the handshake, in plaintext, or when the peer sent none. */
  getPeerCertificate(): TLSPeerCertificate | null {
    return this.#tls?.engine.getPeerCertificate() ?? null;
  }

  /** The ALPN protocol both sides agreed on; `null` if none (or in plaintext). */
  get negotiatedProtocol(): string | null {
    return this.#tls?.engine.negotiatedProtocol ?? null;
  }

  /** The cipher suite; `null` before the handshake or in plaintext. */
  getCipher(): TLSCipher | null {
    return this.#tls?.engine.getCipher() ?? null;
  }

  /** `'TLSv1.2'` or `'TLSv1.3'`; `null` before the handshake or in plaintext. */
  getTLSVersion(): string | null {
    return this.#tls?.engine.getTLSVersion() ?? null;
  }

  // ------------------------------------------------------------ producer (our reads)

  /** Stops reading from the peer until `resumeProducing()`. */
  pauseProducing(): void {
    if (this.lost) return;
    this.#readPausedByProducer = true;
    this.#pauseReads();
  }

  /** Resumes reading, unless the output buffer or a close still holds it back. */
  resumeProducing(): void {
    if (this.lost) return;
    this.#readPausedByProducer = false;
    this.resumeReading();
    this.#resumeTLSReading();
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
    if (this.lost) {
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
    if (this.lost) return;
    // Without a producer to pause, default backpressure takes over.
    if (this.#overHighWater && !this.#readPausedByBuffer) {
      this.#readPausedByBuffer = true;
      this.#pauseReads();
    }
    if (this.closeRequested || this.halfCloseRequested) this.scheduleEnd();
  }

  // ------------------------------------------------------------ for the subclass to call

  /**
   * True while a producer or the output buffer holds reads back (a close is
   * the subclass's to check). Never during a TLS handshake: it needs the
   * peer's answer to make progress (and its plaintext delivery is held back
   * instead).
   */
  protected get readPaused(): boolean {
    return (this.#readPausedByProducer || this.#readPausedByBuffer) && !this.#handshaking();
  }

  /** The registered producer of outgoing data, or `null` (for a transport that reports it to tests). */
  protected get registeredProducer(): IPushProducer | IPullProducer | null {
    return this.#producer;
  }

  /** Whether {@link BaseTransport.registeredProducer} is a streaming producer (false when none is registered). */
  protected get producerStreaming(): boolean {
    return this.#producer !== null && this.#streaming;
  }

  /** True between {@link BaseTransport.notifyWhenDrained} and the {@link BaseTransport.writeBufferDrained} it asked for. */
  protected get drainAwaited(): boolean {
    return this.#drainAwaited;
  }

  /**
   * True while a registered producer holds back the FIN (Twisted's rule: a
   * close waits until the producer is unregistered). A transport registered as
   * the producer of its own output (an echo that pauses its reads when its
   * writes back up) never holds it back: it has nothing left to produce once
   * reading stops, so waiting for it would only wait for the peer to give up.
   */
  protected get producerHoldsClose(): boolean {
    return this.#producer !== null && this.#producer !== this;
  }

  /**
   * Checks what `write()` was given, so every transport rejects the same
   * values with the same message.
   * @throws TypeError naming the type unless `data` is a Uint8Array or a string.
   */
  protected checkWriteData(data: unknown): asserts data is WriteData {
    checkWriteData(data);
  }

  /**
   * The items of a `writeSequence()` argument, every one checked first so a
   * bad item writes nothing.
   * @throws TypeError if an item is neither a Uint8Array nor a string.
   */
  protected writeSequenceItems(data: Iterable<WriteData>): WriteData[] {
    return checkWriteSequence(data);
  }

  /**
   * Checks `setTcpKeepAlive()`'s delay.
   * @throws RangeError if `initialDelaySeconds` is negative or not finite.
   */
  protected checkKeepAliveDelay(initialDelaySeconds: number): void {
    checkKeepAliveDelay(initialDelaySeconds);
  }

  /**
   * Call after every accepted write, with the bytes now buffered: tells a
   * pull producer's bookkeeping it wrote, and holds back whoever fills the
   * buffer once it is above the high-water mark.
   */
  protected afterWrite(bufferedBytes: number): void {
    if (this.#pullState !== PULL_OFF) this.#pullWrote();
    if (bufferedBytes > this.#highWaterMark && !this.#overHighWater) this.#bufferFull();
  }

  /**
   * The output buffer is empty (or was, when the notification was asked
   * for): resumes a paused streaming producer, asks a pull producer for more,
   * and lets reading resume.
   */
  protected writeBufferDrained(): void {
    this.#drainAwaited = false;
    if (this.lost) return;
    if (this.writeBufferSize > 0) {
      // More was written since the notification was requested: wait again if anyone cares.
      const pullWaiting =
        this.#producer !== null && !this.#streaming && this.#pullState === PULL_OFF;
      if (this.#overHighWater || pullWaiting) this.#awaitDrain();
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
      this.resumeReading();
      this.#resumeTLSReading();
    }
  }

  /**
   * Attaches the protocol: `protocol.makeConnection(this)`. An exception there
   * (usually from `connectionMade`) is logged and aborts the connection;
   * unlike Twisted, the connection is not left open.
   */
  protected attachProtocol(protocol: IProtocol): void {
    try {
      protocol.makeConnection(this);
    } catch (err) {
      this.protocolFailed('makeConnection/connectionMade', err);
    }
  }

  /** Logs an exception thrown by protocol (or producer) code and aborts the connection. */
  protected protocolFailed(where: string, err: unknown): void {
    this.log.failure(
      `Unhandled error in ${this.protocolName()}.${where}; aborting the connection`,
      err,
      { peer: this.#peer.toString(), host: this.#host.toString() },
    );
    if (this.lost) return;
    this.abort(
      new Failure(new ConnectionLost(`The protocol raised an error in ${where}`, { cause: err })),
    );
  }

  /**
   * Logs an exception thrown by a callback that runs when there is no
   * connection left to abort: `connectionLost`, a producer's
   * `stopProducing`, or a producer called after the loss.
   */
  protected lostCallbackFailed(where: string, err: unknown): void {
    this.log.failure(`Unhandled error in ${where}`, err, { peer: this.#peer.toString() });
  }

  /**
   * The peer sent its FIN. A half-closeable protocol (see `isHalfCloseable`)
   * hears `readConnectionLost()` and may go on writing; for any other, the
   * connection is closed cleanly, flushing what it wrote
   * (`loseConnection()`), unless `closeOtherwise` is false (the transport
   * closes it itself, e.g. because its own FIN is already out). Nothing
   * happens once the connection is lost or its close was asked for.
   * @returns whether the protocol is half-closeable.
   */
  protected readConnectionLost(protocol: IProtocol, closeOtherwise = true): boolean {
    if (this.lost || this.closeRequested) return false;
    if (!isHalfCloseable(protocol)) {
      if (closeOtherwise) this.loseConnection();
      return false;
    }
    try {
      protocol.readConnectionLost();
    } catch (err) {
      this.protocolFailed('readConnectionLost', err);
    }
    return true;
  }

  /**
   * This side's FIN is out after `loseWriteConnection()`: a half-closeable
   * protocol hears `writeConnectionLost()`; an exception from it costs the
   * connection.
   */
  protected writeConnectionLost(protocol: IProtocol): void {
    if (this.lost || !isHalfCloseable(protocol)) return;
    try {
      protocol.writeConnectionLost();
    } catch (err) {
      this.protocolFailed('writeConnectionLost', err);
    }
  }

  /**
   * Tells the protocol the connection is gone: clears its `connected` flag,
   * stops a registered producer, then calls `connectionLost(reason)`; an
   * exception from either is logged. Set {@link BaseTransport.lost} first.
   */
  protected notifyConnectionLost(protocol: IProtocol, reason: Failure): void {
    this.releaseTLS();
    markDisconnected(protocol);
    const producer = this.#producer;
    if (producer !== null) {
      this.#producer = null;
      this.#callProducer(producer, 'stopProducing');
    }
    try {
      protocol.connectionLost(reason);
    } catch (err) {
      this.lostCallbackFailed(`${describeType(protocol)}.connectionLost`, err);
    }
  }

  /**
   * The connection is gone: the end every socket transport shares. Marks it
   * {@link BaseTransport.lost} and closed for writing, tells the protocol
   * ({@link BaseTransport.notifyConnectionLost}) with `recordedReason` (an
   * error or an abort seen on the way) or, for a clean close, ConnectionDone,
   * then tells `owner` (the port or connector) with the same reason. Does
   * nothing if the connection was already lost, so a transport may call it
   * from every path that sees the socket go. Drop the output queue first:
   * nothing can be written any more.
   */
  protected connectionEnded<T extends BaseTransport<IAddress>>(
    this: T,
    protocol: IProtocol,
    recordedReason: Failure | null,
    owner: { transportClosed(transport: T, reason: Failure): void },
  ): void {
    if (this.lost) return;
    this.lost = true;
    this.writeClosed = true;
    const reason = this.closeReason(recordedReason);
    this.notifyConnectionLost(protocol, reason);
    owner.transportClosed(this, reason);
  }

  // ------------------------------------------------------------ TLS, for the subclass to call

  /** True once TLS was started: reads, writes and the FIN go through the TLS engine. */
  protected get tlsStarted(): boolean {
    return this.#tls !== null;
  }

  /** Plaintext written and not yet encrypted; add it to {@link BaseTransport.writeBufferSize}. */
  protected get tlsBufferedBytes(): number {
    return this.#tls === null ? 0 : this.#tls.engine.bufferedBytes;
  }

  /**
   * `write()` under TLS (call it instead of sending when
   * {@link BaseTransport.tlsStarted}, once `data` is checked and
   * {@link BaseTransport.writeClosed} is false): encrypts `data` and does
   * the flow-control bookkeeping.
   */
  protected writeTLS(data: WriteData): void {
    const tls = this.#tls;
    if (tls === null) return;
    if ((typeof data === 'string' ? data.length : data.byteLength) === 0) return;
    tls.engine.write(data);
    this.afterWrite(this.writeBufferSize);
  }

  /** Bytes from the peer, under TLS: ciphertext for the engine. */
  protected receiveTLS(data: Uint8Array): void {
    this.#tls?.engine.receive(data);
  }

  /** The peer's FIN, under TLS: the engine reports the end ({@link BaseTransport.peerEnded}) once it delivered what came before. */
  protected receiveTLSEnd(): void {
    this.#tls?.engine.receiveEnd();
  }

  /**
   * Under TLS, where the subclass would send its FIN: sends close_notify
   * after every byte written; {@link BaseTransport.endRaw} follows once it
   * is out. Sets {@link BaseTransport.writeClosed}.
   */
  protected endTLS(): void {
    this.writeClosed = true;
    this.#tls?.engine.end();
  }

  /**
   * Starts TLS before any protocol is attached, for a TLS port or connector
   * (listenSSL, connectSSL): the handshake runs, then `onHandshake(null)` is
   * called, which attaches the protocol (`attachProtocol`); the protocol's
   * `handshakeCompleted()` follows, then any plaintext that arrived with the
   * handshake. On failure `onHandshake(error)` is called and the connection
   * is closed (after the ciphertext already produced, such as an alert);
   * its end reports the TLSError as the reason
   * ({@link BaseTransport.closeReason}).
   * @throws Error if TLS was already started.
   */
  protected startTLSHandshake(
    options: ClientTLSOptions | ServerTLSOptions,
    onHandshake: HandshakeCallback,
  ): void {
    if (this.#tls !== null) throw new Error('TLS was already started on this connection');
    this.#startEngine(options, onHandshake);
  }

  /**
   * Why the connection ended: the reason the subclass recorded (an abort, an
   * error), else a TLS failure, else ConnectionDone.
   */
  protected closeReason(recordedReason: Failure | null): Failure {
    return recordedReason ?? this.#tls?.failure ?? new Failure(new ConnectionDone());
  }

  /** Drops the TLS engine's state (the connection is gone); safe to call more than once. */
  protected releaseTLS(): void {
    const tls = this.#tls;
    if (tls === null) return;
    tls.engine.destroy();
    tls.onHandshake = null;
    tls.early = null;
  }

  // ------------------------------------------------------------ internals

  #startEngine(
    options: ClientTLSOptions | ServerTLSOptions,
    onHandshake: HandshakeCallback | null = null,
  ): void {
    const owner: TLSEngineOwner = {
      tlsSend: (data) => {
        this.#tlsSend(data);
      },
      tlsReceived: (data) => {
        this.#tlsReceived(data);
      },
      tlsHandshakeCompleted: () => {
        this.#tlsHandshakeCompleted();
      },
      tlsFailed: (error, duringHandshake) => {
        this.#tlsFailed(error, duringHandshake);
      },
      tlsReadEnded: () => {
        if (!this.lost) this.peerEnded();
      },
      tlsWriteEnded: () => {
        if (!this.lost) this.endRaw();
      },
      tlsDrained: () => {
        this.#tlsDrained();
      },
    };
    // Only the first flight can leave while the engine is being made (tlsSend,
    // which needs no session); the peer's answers come on later turns.
    const tls = new TLSEngine(options, owner, this.#peer.toString(), this.handshakeClock);
    this.#tls = {
      engine: tls,
      onHandshake,
      early: null,
      failure: null,
      closeAfterHandshake: false,
    };
    if (this.#readPausedByProducer || this.#readPausedByBuffer || this.closeRequested) {
      tls.pause();
      // The handshake reads even while our output is backed up (readPaused).
      if (!this.closeRequested) this.resumeReading();
    }
  }

  /** A TLS handshake is running: the transport reads whatever holds reads back. */
  #handshaking(): boolean {
    const tls = this.#tls;
    return tls !== null && !tls.engine.handshakeCompleted && !tls.engine.dead;
  }

  /** Holds reads back: the socket's (unless a handshake needs them) and TLS plaintext delivery. */
  #pauseReads(): void {
    if (!this.#handshaking()) this.pauseReading();
    this.#tls?.engine.pause();
  }

  /** `lost`, read again after a callback that may have changed it. */
  #gone(): boolean {
    return this.lost;
  }

  #resumeTLSReading(): void {
    if (this.#tls === null || this.closeRequested) return;
    if (!this.#readPausedByProducer && !this.#readPausedByBuffer) this.#tls.engine.resume();
  }

  #tlsSend(data: Buffer): void {
    if (this.lost) return;
    this.writeRaw(data);
    // Ciphertext can grow the buffer (a handshake flight, a key update) without a write().
    if (this.writeBufferSize > this.#highWaterMark && !this.#overHighWater) this.#bufferFull();
  }

  #tlsReceived(data: Buffer): void {
    if (this.lost || this.closeRequested) return;
    const protocol = this.attachedProtocol;
    const tls = this.#tls;
    if (tls !== null && (protocol === null || tls.onHandshake !== null)) {
      (tls.early ??= []).push(data);
      return;
    }
    if (protocol === null) return;
    try {
      protocol.dataReceived(data);
    } catch (err) {
      this.protocolFailed('dataReceived', err);
    }
  }

  #tlsHandshakeCompleted(): void {
    if (this.lost) return;
    // What held reads back during the handshake holds them back again.
    if (this.readPaused) this.pauseReading();
    const tls = this.#tls;
    if (tls === null) return;
    const onHandshake = tls.onHandshake;
    if (onHandshake !== null) {
      tls.onHandshake = null;
      onHandshake(null);
    }
    const protocol = this.attachedProtocol;
    // The callback may have closed the connection.
    if (protocol !== null && !this.#gone()) {
      if (typeof (protocol as Partial<IHandshakeListener>).handshakeCompleted === 'function') {
        try {
          (protocol as unknown as IHandshakeListener).handshakeCompleted();
        } catch (err) {
          this.protocolFailed('handshakeCompleted', err);
        }
      }
      const early = tls.early;
      tls.early = null;
      if (early !== null) for (const data of early) this.#tlsReceived(data);
    }
    if (tls.closeAfterHandshake) {
      tls.closeAfterHandshake = false;
      this.loseConnection();
    }
  }

  #tlsFailed(error: TLSError, duringHandshake: boolean): void {
    if (this.lost) return;
    const tls = this.#tls;
    if (tls === null) return;
    tls.failure ??= new Failure(error);
    const onHandshake = tls.onHandshake;
    tls.onHandshake = null;
    tls.early = null;
    if (onHandshake !== null) onHandshake(error);
    if (this.#gone()) return;
    if (!duringHandshake) {
      tlsLog.info('TLS connection failed', { peer: this.#peer.toString(), code: error.code });
    }
    // Close after what the engine already produced (an alert for the peer),
    // without waiting for a producer: the connection is unusable.
    this.closeRequested = true;
    this.writeClosed = true;
    this.pauseReading();
    this.endRaw();
  }

  #tlsDrained(): void {
    if (!this.#drainAwaited || this.lost) return;
    if (this.writeBufferSize === 0) this.writeBufferDrained();
    else this.notifyWhenDrained();
  }

  #callProducer(
    producer: IPushProducer | IPullProducer,
    method: 'pauseProducing' | 'resumeProducing' | 'stopProducing',
  ): void {
    try {
      if (method === 'pauseProducing') (producer as IPushProducer).pauseProducing();
      else producer[method]();
    } catch (err) {
      if (method === 'stopProducing' || this.lost) {
        this.lostCallbackFailed(`${describeType(producer)}.${method}`, err);
      } else {
        this.protocolFailed(`${describeType(producer)}.${method}`, err);
      }
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
      this.#pauseReads();
    }
    this.#awaitDrain();
  }

  #awaitDrain(): void {
    if (this.#drainAwaited || this.writeClosed || this.lost) return;
    this.#drainAwaited = true;
    // Plaintext still in the TLS engine: its drain (#tlsDrained) asks the subclass.
    if (this.#tls !== null && this.#tls.engine.bufferedBytes > 0) return;
    this.notifyWhenDrained();
  }

  /** Asks the pull producer for more; see PULL_* for why its writes are tracked. */
  #pull(): void {
    const producer = this.#producer;
    if (producer === null || this.#streaming || this.lost) return;
    this.#pullState = PULL_ASKING;
    this.#callProducer(producer, 'resumeProducing');
    this.#afterPull(producer);
  }

  #afterPull(producer: IPushProducer | IPullProducer): void {
    // The producer may have unregistered itself or closed the connection meanwhile.
    if (this.#producer !== producer || this.lost) return;
    if (this.#pullState === PULL_WROTE) {
      this.#pullState = PULL_OFF;
      this.#awaitDrain();
    } else {
      this.#pullState = PULL_IDLE;
    }
  }

  #pullWrote(): void {
    if (this.#pullState === PULL_ASKING) {
      this.#pullState = PULL_WROTE;
    } else if (this.#pullState === PULL_IDLE) {
      this.#pullState = PULL_OFF;
      this.#awaitDrain();
    }
  }
}
