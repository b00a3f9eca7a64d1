/**
 * Protocols that are also producers: a streaming one that writes the test
 * pattern whenever it is not paused, and a pull one that writes one chunk each
 * time it is asked. Both stop at a byte limit, so no loop is unbounded even
 * on a reactor that never applies backpressure. Also the reader that does not
 * read, and the wait that tells a producer was held back for good, which the
 * producer tests and the TLS tests share.
 * @module
 */
import type { IPullProducer, IPushProducer, IReactorTime } from '@torsion/core';
import { Eventual, RecordingProtocol } from '@torsion/core/testing';
import type { Harness } from './harness.js';
import { PatternSource } from './pattern.js';

/** Bytes per write. */
export const CHUNK = 16 * 1024;
/** Writes made in one turn at most: a reactor that pauses producers late still buffers boundedly. */
const BURST = 64;

/** What a producer does once it has written its limit. */
export type WhenWritten = 'unregister' | 'close';

/** Shared state and waiting of the two producers. */
abstract class Producing extends RecordingProtocol {
  readonly source = new PatternSource();
  readonly clock: IReactorTime;
  /** Bytes to write in total. */
  limit: number;
  readonly whenWritten: WhenWritten;
  stops = 0;
  /** True once the limit was written. */
  finished = false;
  readonly #finishedLater = new Eventual<void>();
  #changeWaiters: Eventual<void>[] = [];

  constructor(clock: IReactorTime, limit: number, whenWritten: WhenWritten) {
    super();
    this.clock = clock;
    this.limit = limit;
    this.whenWritten = whenWritten;
  }

  /** Bytes written so far. */
  get written(): number {
    return this.source.position;
  }

  /** Resolves once the limit was written (and the producer unregistered). */
  get whenFinished(): Eventual<void> {
    return this.#finishedLater;
  }

  stopProducing(): void {
    this.events.push('stopProducing');
    this.stops++;
  }

  /** Resolves at the next pause, resume, request or finish. */
  async nextChange(): Promise<void> {
    const later = new Eventual<void>();
    this.#changeWaiters.push(later);
    await later;
  }

  /**
   * Ends the stream soon: the limit becomes what was written plus `extra`
   * bytes; with `extra` 0 it finishes (unregisters) at once.
   */
  finishSoon(extra = 0): void {
    this.limit = this.written + extra;
    if (extra === 0) this.finish();
  }

  /** Writes nothing more but stays registered (a paused producer keeps default backpressure off). */
  holdAt(): void {
    this.limit = this.written;
  }

  protected changed(): void {
    const waiters = this.#changeWaiters;
    this.#changeWaiters = [];
    for (const w of waiters) w.callback();
  }

  protected writeChunk(): void {
    this.transport.write(this.source.next(Math.min(CHUNK, this.limit - this.written)));
    if (this.written >= this.limit) this.finish();
  }

  protected finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.transport.unregisterProducer();
    if (this.whenWritten === 'close') this.transport.loseConnection();
    this.#finishedLater.callback();
    this.changed();
  }

  protected get canWrite(): boolean {
    return !this.finished && this.stops === 0 && this.connected && this.written < this.limit;
  }
}

/** A streaming producer: writes the pattern whenever it is not paused. */
export class Streamer extends Producing implements IPushProducer {
  paused = false;
  pauses = 0;
  resumes = 0;
  #scheduled = false;

  /** Registers on the transport and starts writing; call from `connectionMade` or later. */
  startStreaming(): void {
    this.transport.registerProducer(this, true);
    this.#produce();
  }

  pauseProducing(): void {
    this.paused = true;
    this.pauses++;
    this.changed();
  }

  resumeProducing(): void {
    this.paused = false;
    this.resumes++;
    this.changed();
    this.#produce();
  }

  #produce(): void {
    for (let i = 0; i < BURST && !this.paused && this.canWrite; i++) this.writeChunk();
    if (this.paused || !this.canWrite || this.#scheduled) return;
    // Not paused after a burst: carry on next turn rather than write without bound now.
    this.#scheduled = true;
    this.clock.callLater(0, () => {
      this.#scheduled = false;
      this.#produce();
    });
  }
}

/** A pull producer: writes one chunk each time it is asked. */
export class PullSender extends Producing implements IPullProducer {
  /** How many times `resumeProducing` was called. */
  asks = 0;

  /** Registers on the transport as a pull producer. */
  startPulling(): void {
    this.transport.registerProducer(this, false);
  }

  resumeProducing(): void {
    this.asks++;
    if (this.canWrite) this.writeChunk();
    this.changed();
  }
}

/**
 * More than every buffer on a loopback path holds (kernel send and receive
 * buffers grow to a few MiB each): a producer still writing at this point was
 * never held back.
 */
export const NEVER_PAUSED = 64 * 1024 * 1024;
/** Reactor seconds a producer must stay idle to count as held back for good. */
const SETTLE = 0.05;

/** A recorder that stops reading as soon as it is connected. */
export class NotReading extends RecordingProtocol {
  override connectionMade(): void {
    super.connectionMade();
    this.transport.pauseProducing();
  }
}

/**
 * Waits until `progress()` stops moving for {@link SETTLE} seconds while
 * `held()` is true: the producer was paused (or not asked) for good.
 * @throws Error if the producer wrote its whole limit, or never settled.
 */
export async function untilHeldBack(
  h: Harness,
  producer: Streamer | PullSender,
  progress: () => number,
  held: () => boolean,
): Promise<void> {
  for (let round = 0; round < 200; round++) {
    if (!held()) await producer.nextChange();
    if (producer.finished) {
      throw new Error(
        `the producer wrote all ${String(producer.written)} bytes: it was never held back`,
      );
    }
    const before = progress();
    await h.wait(SETTLE);
    if (held() && progress() === before) return;
  }
  throw new Error('the producer was never held back for good');
}
