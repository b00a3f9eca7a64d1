/**
 * `StringTransport` and `StringTransportWithDisconnection`: transports that
 * record what a protocol writes, so a protocol can be tested by calling its
 * methods directly, without a reactor or a socket (Twisted's
 * `twisted.internet.testing.StringTransport`).
 *
 * Tests: test/testing/string-transport.test.ts, test/testing/memory-reactor-unix.test.ts,
 * test/types/doubles.test-d.ts
 * @module
 */
import { IPv4Address, UNIXAddress } from '../address.js';
import type { IAddress, INETAddress } from '../address.js';
import { ConnectionAborted, ConnectionDone } from '../errors.js';
import { Failure } from '../failure.js';
import type {
  IProtocol,
  IPullProducer,
  IPushProducer,
  IStreamTransport,
  ITCPTransport,
  WriteData,
} from '../interfaces.js';
import { toBuffer } from '../internal/write-data.js';
import { markDisconnected } from '../internal/mark-disconnected.js';
import { checkKeepAliveDelay, checkWriteSequence } from '../reactor-kit/argument-checks.js';

/** Where a transport stands as a producer of reads: paused/resumed/stopped by its consumer. */
export type ProducerState = 'producing' | 'paused' | 'stopped';

/**
 * Options for {@link StringTransport}. For a UNIX-domain transport
 * (`A` is `UNIXAddress`), an address not given defaults to an unnamed one
 * when the other is a UNIX address.
 */
export interface StringTransportOptions<A extends IAddress = INETAddress> {
  /** What `getHost()` returns. Default `IPv4Address('TCP', '127.0.0.1', 12345)`. */
  hostAddress?: A;
  /** What `getPeer()` returns. Default `IPv4Address('TCP', '127.0.0.1', 54321)`. */
  peerAddress?: A;
}

/** The default of an address not given: unnamed beside a UNIX one, else the IPv4 default. */
function defaultAddress<A extends IAddress>(other: A | undefined, port: number): A {
  if (other?.type === 'UNIX') return new UNIXAddress(null) as A;
  return new IPv4Address('TCP', '127.0.0.1', port) as IAddress as A;
}

/**
 * A transport that keeps everything written to it in memory. Hand it to
 * `protocol.makeConnection()`, feed bytes with `protocol.dataReceived()`, and
 * check the reply with {@link StringTransport.value}.
 *
 * @remarks
 * Nothing happens on its own: `loseConnection()` only sets
 * {@link StringTransport.disconnecting} and never calls `connectionLost`
 * (as in Twisted); a test calls `protocol.connectionLost(...)` itself when it
 * wants the protocol to see the end, or uses
 * {@link StringTransportWithDisconnection}. Writes are validated exactly as a
 * real transport validates them (a `TypeError` naming the type for anything
 * but a `Uint8Array` or a string). Writes after `abortConnection()` or
 * `loseWriteConnection()` are dropped, as a real transport drops them; writes
 * after `loseConnection()` are kept, since a real transport still sends them.
 *
 * @example
 * ```ts
 * const transport = new StringTransport();
 * const proto = new Echo();
 * proto.makeConnection(transport);
 * proto.dataReceived(Buffer.from('hi'));
 * expect(transport.value().toString()).to.equal('hi');
 * ```
 */
export class StringTransport<A extends IAddress = INETAddress>
  implements IStreamTransport, Omit<ITCPTransport, 'getHost' | 'getPeer'>
{
  #written: Buffer[] = [];
  #disconnecting = false;
  #aborted = false;
  #writeDisconnected = false;
  #producer: IPushProducer | IPullProducer | null = null;
  #streaming: boolean | null = null;
  #producerState: ProducerState = 'producing';
  #tcpNoDelay = false;
  #tcpKeepAlive = false;
  #tcpKeepAliveInitialDelay: number | null = null;
  #hostAddress: A;
  #peerAddress: A;

  /**
   * @param options - the addresses `getHost()` and `getPeer()` report (a
   *   UNIX-domain transport: `new StringTransport<UNIXAddress>({ peerAddress })`).
   */
  constructor(options: NoInfer<StringTransportOptions<A>> = {}) {
    this.#hostAddress = options.hostAddress ?? defaultAddress(options.peerAddress, 12345);
    this.#peerAddress = options.peerAddress ?? defaultAddress(options.hostAddress, 54321);
  }

  // ------------------------------------------------------------ test inspection

  /**
   * Everything written since the transport was made or last {@link StringTransport.clear}ed.
   * Not a transport method: for tests only.
   */
  value(): Buffer {
    if (this.#written.length > 1) this.#written = [Buffer.concat(this.#written)];
    return Buffer.from(this.#written[0] ?? Buffer.alloc(0));
  }

  /** Forgets what was written so far. Not a transport method: for tests only. */
  clear(): void {
    this.#written = [];
  }

  /** True once `loseConnection()` or `abortConnection()` was called. */
  get disconnecting(): boolean {
    return this.#disconnecting;
  }

  /** True once `abortConnection()` was called. */
  get aborted(): boolean {
    return this.#aborted;
  }

  /** True once `loseWriteConnection()` was called. */
  get writeDisconnected(): boolean {
    return this.#writeDisconnected;
  }

  /** The registered producer, or `null`. */
  get producer(): IPushProducer | IPullProducer | null {
    return this.#producer;
  }

  /** Whether the registered producer is streaming (push); `null` when none is registered. */
  get streaming(): boolean | null {
    return this.#streaming;
  }

  /**
   * This transport's own state as a producer of reads, as set by
   * `pauseProducing()`, `resumeProducing()` and `stopProducing()`.
   */
  get producerState(): ProducerState {
    return this.#producerState;
  }

  /** The idle delay passed to the last `setTcpKeepAlive(true, delay)`, or `null`. */
  get tcpKeepAliveInitialDelay(): number | null {
    return this.#tcpKeepAliveInitialDelay;
  }

  // ------------------------------------------------------------ ITransport

  /**
   * Records `data`.
   * @throws TypeError if `data` is neither a Uint8Array nor a string.
   */
  write(data: WriteData): void {
    const bytes = toBuffer(data);
    if (this.#aborted || this.#writeDisconnected) return;
    if (bytes.length > 0) this.#written.push(Buffer.from(bytes));
  }

  /**
   * Records each item in order.
   * @throws TypeError if an item is neither a Uint8Array nor a string (nothing is recorded then).
   */
  writeSequence(data: Iterable<WriteData>): void {
    // Validate everything first so a bad item leaves no partial write behind.
    for (const item of checkWriteSequence(data)) this.write(item);
  }

  /** Sets {@link StringTransport.disconnecting}; does not call `connectionLost`. */
  loseConnection(): void {
    this.#disconnecting = true;
  }

  /** What this transport was constructed with (default 127.0.0.1:12345). */
  getHost(): A {
    return this.#hostAddress;
  }

  /** What this transport was constructed with (default 127.0.0.1:54321). */
  getPeer(): A {
    return this.#peerAddress;
  }

  // ------------------------------------------------------------ ITCPTransport

  /** Sets {@link StringTransport.disconnecting} and {@link StringTransport.aborted}. */
  abortConnection(): void {
    this.#disconnecting = true;
    this.#aborted = true;
  }

  /** Sets {@link StringTransport.writeDisconnected}; later writes are dropped. */
  loseWriteConnection(): void {
    this.#writeDisconnected = true;
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
    this.#tcpKeepAliveInitialDelay = enabled ? (initialDelaySeconds ?? 0) : null;
  }

  /** The last value given to `setTcpKeepAlive` (default false). */
  getTcpKeepAlive(): boolean {
    return this.#tcpKeepAlive;
  }

  // ------------------------------------------------------------ IConsumer

  /**
   * Records the producer. It is never paused or resumed by this transport:
   * the test drives it.
   * @throws Error if a producer is already registered.
   */
  registerProducer(producer: IPushProducer | IPullProducer, streaming: boolean): void {
    if (this.#producer !== null) {
      throw new Error('Cannot register a producer: one is already registered');
    }
    this.#producer = producer;
    this.#streaming = streaming;
  }

  /** Forgets the producer. */
  unregisterProducer(): void {
    this.#producer = null;
    this.#streaming = null;
  }

  // ------------------------------------------------------------ IPushProducer

  /** Sets {@link StringTransport.producerState} to `'paused'`. @throws Error once stopped. */
  pauseProducing(): void {
    this.#checkNotStopped('pause');
    this.#producerState = 'paused';
  }

  /** Sets {@link StringTransport.producerState} to `'producing'`. @throws Error once stopped. */
  resumeProducing(): void {
    this.#checkNotStopped('resume');
    this.#producerState = 'producing';
  }

  /** Sets {@link StringTransport.producerState} to `'stopped'` (for good). */
  stopProducing(): void {
    this.#producerState = 'stopped';
  }

  // A stopped producer being resumed is a bug in the code under test: say so loudly.
  #checkNotStopped(action: string): void {
    if (this.#producerState === 'stopped') {
      throw new Error(`Cannot ${action} a stopped producer`);
    }
  }
}

/** Options for {@link StringTransportWithDisconnection}. */
export interface StringTransportWithDisconnectionOptions extends StringTransportOptions {
  /** The protocol told when the connection is lost; can also be set later. */
  protocol?: IProtocol;
}

/**
 * A {@link StringTransport} whose `loseConnection()` also tells the protocol:
 * it calls `protocol.connectionLost(Failure(ConnectionDone))`, and
 * `abortConnection()` calls it with a `ConnectionAborted`. Either way the
 * protocol hears about it once, even if it closes again from inside
 * `connectionLost`.
 *
 * @remarks
 * The protocol is told at once, not after a flush: everything written is
 * already in {@link StringTransport.value}. Set {@link StringTransportWithDisconnection.protocol}
 * before closing; with no protocol, closing behaves as on a plain StringTransport.
 */
export class StringTransportWithDisconnection extends StringTransport {
  /** The protocol whose `connectionLost` is called. */
  protocol: IProtocol | null;
  #connected = true;

  /** @param options - addresses and the protocol to notify. */
  constructor(options: StringTransportWithDisconnectionOptions = {}) {
    super(options);
    this.protocol = options.protocol ?? null;
  }

  /** True until the protocol was told the connection is lost. */
  get connected(): boolean {
    return this.#connected;
  }

  /** Sets `disconnecting` and calls `protocol.connectionLost(ConnectionDone)` the first time. */
  override loseConnection(): void {
    super.loseConnection();
    this.#tellProtocol(new ConnectionDone('Bye.'));
  }

  /** Sets `disconnecting`/`aborted` and calls `protocol.connectionLost(ConnectionAborted)` the first time. */
  override abortConnection(): void {
    super.abortConnection();
    this.#tellProtocol(new ConnectionAborted());
  }

  #tellProtocol(error: Error): void {
    if (!this.#connected || this.protocol === null) return;
    // Cleared first so a protocol that closes again from connectionLost is not told twice.
    this.#connected = false;
    markDisconnected(this.protocol);
    this.protocol.connectionLost(new Failure(error));
  }
}
