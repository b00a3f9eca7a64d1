/**
 * `ThrottlingFactory`: read and write limits in bytes per second, per
 * connection and in total, enforced by pausing reads and the protocols'
 * producers — nothing is buffered here, so memory stays bounded by the
 * limits plus one chunk.
 *
 * Tests: test/throttling.test.ts, test/throttling.integration.test.ts
 * @module
 */
import {
  getReactor,
  type IAddress,
  type IDelayedCall,
  type IProtocol,
  type IProtocolFactory,
  type IPullProducer,
  type IPushProducer,
  type IReactorTime,
  type WriteData,
} from '@torsion/core';

import { ProtocolWrapper } from './protocol-wrapper.js';
import { WrappingFactory } from './wrapping-factory.js';

/** Options for {@link ThrottlingFactory}; every limit is optional (null: none). */
export interface ThrottlingOptions {
  /** Bytes per second read, all connections together. */
  readLimit?: number | null;
  /** Bytes per second written, all connections together. */
  writeLimit?: number | null;
  /** Bytes per second read, each connection. */
  readLimitPerConnection?: number | null;
  /** Bytes per second written, each connection. */
  writeLimitPerConnection?: number | null;
  /** Seconds between re-evaluations. Default 1 (Twisted's). */
  interval?: number;
  /** The clock; the installed reactor by default. */
  clock?: IReactorTime;
}

/**
 * A leaky bucket: bytes go in, `limit` bytes per second drain out; over
 * while it holds a second's worth or more.
 */
class ByteBucket {
  level = 0;
  constructor(readonly limit: number | null) {}
  add(bytes: number): void {
    if (this.limit !== null) this.level += bytes;
  }
  drain(seconds: number): void {
    if (this.limit !== null) this.level = Math.max(0, this.level - this.limit * seconds);
  }
  get over(): boolean {
    return this.limit !== null && this.level >= this.limit;
  }
}

function checkLimit(field: string, value: number | null | undefined): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(
      `ThrottlingFactory ${field} must be a finite number above 0 or null; got ${String(value)}`,
    );
  }
  return value;
}

/**
 * The wrapper {@link ThrottlingFactory} puts around each protocol. It pauses
 * the real transport's reads while a read limit is exceeded, and the
 * protocol's producer (and its reads, which usually drive its writes) while
 * a write limit is; a pause the protocol or the transport asked for is kept
 * apart, so lifting a throttle never resumes what someone else paused.
 */
export class ThrottlingProtocol extends ProtocolWrapper {
  readonly #readBucket: ByteBucket;
  readonly #writeBucket: ByteBucket;
  #protocolPausedReads = false;
  #readsPaused = false;
  #readThrottled = false;
  #writeThrottled = false;
  #producer: IPushProducer | IPullProducer | null = null;
  #streaming = false;
  #transportPausedProducer = false;
  #producerPaused = false;
  #pullWanted = false;

  constructor(
    readonly throttler: ThrottlingFactory,
    wrapped: IProtocol,
  ) {
    super(throttler, wrapped);
    this.#readBucket = new ByteBucket(throttler.readLimitPerConnection);
    this.#writeBucket = new ByteBucket(throttler.writeLimitPerConnection);
  }

  /** Whether this connection read a second's worth or more at its own limit. */
  get readOver(): boolean {
    return this.#readBucket.over;
  }

  /** Whether this connection wrote a second's worth or more at its own limit. */
  get writeOver(): boolean {
    return this.#writeBucket.over;
  }

  /** Lets `seconds` of allowance drain from this connection's accounts. */
  drainBuckets(seconds: number): void {
    this.#readBucket.drain(seconds);
    this.#writeBucket.drain(seconds);
  }

  override dataReceived(data: Buffer): void {
    this.#readBucket.add(data.length);
    this.throttler.registerRead(data.length);
    this.throttler.evaluate(this);
    super.dataReceived(data);
  }

  override write(data: WriteData): void {
    const length = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    this.#writeBucket.add(length);
    this.throttler.registerWritten(length);
    super.write(data);
    this.throttler.evaluate(this);
  }

  override pauseProducing(): void {
    this.#protocolPausedReads = true;
    this.#apply();
  }

  override resumeProducing(): void {
    this.#protocolPausedReads = false;
    this.#apply();
  }

  override registerProducer(producer: IPushProducer | IPullProducer, streaming: boolean): void {
    // The real transport drives a stand-in, so its resumes pass through the throttle.
    // The wrapper itself as producer (echo's idiom: pause my reads while my
    // writes back up) goes through the stand-in too, so those pauses and the
    // throttle's stay apart; but it must not hold back a close, as a
    // transport registered as its own producer does not (see loseConnection).
    const standIn = {
      pauseProducing: () => {
        this.#transportPausedProducer = true;
        this.#apply();
      },
      resumeProducing: () => {
        this.#transportPausedProducer = false;
        if (this.#streaming) this.#apply();
        else if (this.#writeThrottled) this.#pullWanted = true;
        else this.#producer?.resumeProducing();
      },
      stopProducing: () => {
        this.#producer?.stopProducing();
      },
    };
    super.registerProducer(standIn, streaming);
    this.#producer = producer;
    this.#streaming = streaming;
    this.#producerPaused = false;
    this.#transportPausedProducer = false;
  }

  override unregisterProducer(): void {
    this.#producer = null;
    this.#pullWanted = false;
    super.unregisterProducer();
  }

  /** Closes; a producer that is this wrapper itself (its own reads) is unregistered first, so it does not hold the close back. */
  override loseConnection(): void {
    if (this.#producer === this) this.unregisterProducer();
    super.loseConnection();
  }

  /** Half-closes; as {@link ThrottlingProtocol.loseConnection}, its own reads as producer do not hold the FIN back. */
  override loseWriteConnection(): void {
    if (this.#producer === this) this.unregisterProducer();
    super.loseWriteConnection();
  }

  /** Called by the factory with this connection's throttle state. */
  setThrottled(read: boolean, write: boolean): void {
    this.#readThrottled = read;
    this.#writeThrottled = write;
    this.#apply();
  }

  #apply(): void {
    if (!this.connected) return;
    const pauseReads = this.#protocolPausedReads || this.#readThrottled || this.#writeThrottled;
    if (pauseReads !== this.#readsPaused) {
      this.#readsPaused = pauseReads;
      if (pauseReads) this.transport.pauseProducing();
      else this.transport.resumeProducing();
    }
    const producer = this.#producer;
    if (producer === null) return;
    if (this.#streaming) {
      const pause = this.#transportPausedProducer || this.#writeThrottled;
      if (pause !== this.#producerPaused) {
        this.#producerPaused = pause;
        if (pause) (producer as IPushProducer).pauseProducing();
        else producer.resumeProducing();
      }
    } else if (this.#pullWanted && !this.#writeThrottled) {
      this.#pullWanted = false;
      producer.resumeProducing();
    }
  }
}

/**
 * Wraps a factory so its connections read and write no faster than the
 * limits. Accounting is a leaky bucket per connection and one for all: a
 * connection is throttled while its bucket, or the total one, holds a
 * second's worth of bytes or more, and re-evaluated every `interval`
 * seconds. Over any `T` seconds a limited direction moves at most
 * `limit × (T + 1)` bytes plus one chunk.
 */
export class ThrottlingFactory extends WrappingFactory {
  readonly readLimitPerConnection: number | null;
  readonly writeLimitPerConnection: number | null;
  readonly clock: IReactorTime;
  readonly interval: number;
  readonly #read: ByteBucket;
  readonly #written: ByteBucket;
  /** Totals since the factory was made, for monitoring. */
  readBytes = 0;
  writtenBytes = 0;
  #tick: IDelayedCall | null = null;

  /** @throws RangeError naming the option for a limit or interval that is not a finite number above 0. */
  constructor(wrappedFactory: IProtocolFactory, options: ThrottlingOptions = {}) {
    super(wrappedFactory);
    this.#read = new ByteBucket(checkLimit('readLimit', options.readLimit));
    this.#written = new ByteBucket(checkLimit('writeLimit', options.writeLimit));
    this.readLimitPerConnection = checkLimit(
      'readLimitPerConnection',
      options.readLimitPerConnection,
    );
    this.writeLimitPerConnection = checkLimit(
      'writeLimitPerConnection',
      options.writeLimitPerConnection,
    );
    this.interval = checkLimit('interval', options.interval ?? 1) ?? 1;
    this.clock = options.clock ?? getReactor();
  }

  protected override wrapProtocol(wrapped: IProtocol, addr: IAddress): ProtocolWrapper {
    void addr;
    return new ThrottlingProtocol(this, wrapped);
  }

  override registerProtocol(wrapper: ProtocolWrapper): void {
    super.registerProtocol(wrapper);
    this.#tick ??= this.clock.callLater(this.interval, () => {
      this.#onTick();
    });
  }

  override unregisterProtocol(wrapper: ProtocolWrapper): void {
    super.unregisterProtocol(wrapper);
    if (this.protocols.size === 0) {
      this.#tick?.cancel();
      this.#tick = null;
    }
  }

  /** Counts bytes read by one connection. */
  registerRead(bytes: number): void {
    this.readBytes += bytes;
    this.#read.add(bytes);
  }

  /** Counts bytes written by one connection. */
  registerWritten(bytes: number): void {
    this.writtenBytes += bytes;
    this.#written.add(bytes);
  }

  /** Sets one connection's throttle from its buckets and the total ones. */
  evaluate(protocol: ThrottlingProtocol): void {
    protocol.setThrottled(
      this.#read.over || protocol.readOver,
      this.#written.over || protocol.writeOver,
    );
  }

  #onTick(): void {
    this.#read.drain(this.interval);
    this.#written.drain(this.interval);
    for (const wrapper of [...this.protocols]) {
      if (!(wrapper instanceof ThrottlingProtocol)) continue;
      wrapper.drainBuckets(this.interval);
      this.evaluate(wrapper);
    }
    this.#tick =
      this.protocols.size === 0
        ? null
        : this.clock.callLater(this.interval, () => {
            this.#onTick();
          });
  }
}
