/**
 * `ProducerFifo`: the output half of Python's `asynchat`, pure (sans-I/O): a
 * queue of data, producers and a close marker, drained in bounded chunks.
 *
 * Tests: test/producer-fifo.test.ts
 * @module
 */
import { joinParts, toBuffer } from './internal/bytes.js';

/**
 * asynchat's producer: each `more()` returns the next chunk of a reply, and an
 * empty one (`""` or a zero-length array) once it is exhausted.
 */
export interface IChatProducer {
  more(): Uint8Array | string;
}

/** Returned by {@link ProducerFifo.take} when a `closeWhenDone()` marker is reached. */
export const CLOSE_WHEN_DONE: unique symbol = Symbol('CLOSE_WHEN_DONE');

/** asynchat's `ac_out_buffer_size`: the most bytes one chunk carries. */
export const DEFAULT_CHUNK_SIZE = 65_536;

const SPENT = Buffer.alloc(0);

type Item = Buffer | IChatProducer | typeof CLOSE_WHEN_DONE;

/**
 * Outgoing data in order: byte strings, producers (asked for more only when
 * their turn comes and the consumer wants bytes) and a close marker.
 *
 * @remarks
 * {@link ProducerFifo.take} returns at most `maxBytes`, joining small items
 * into one chunk and splitting large ones, so a thousand tiny replies cost one
 * write and one huge reply is sent a chunk at a time.
 */
export class ProducerFifo {
  #items: Item[] = [];
  #head = 0;

  /** True when nothing is queued. */
  get isEmpty(): boolean {
    return this.#head >= this.#items.length;
  }

  /**
   * Queues bytes.
   * @throws TypeError if `data` is neither a Uint8Array nor a string.
   */
  push(data: Uint8Array | string): void {
    const bytes = toBuffer(data, 'data');
    if (bytes.length > 0) this.#items.push(bytes);
  }

  /** Queues a producer; its `more()` is called only once everything before it was taken. */
  pushProducer(producer: IChatProducer): void {
    this.#items.push(producer);
  }

  /** Queues the close marker. */
  pushClose(): void {
    this.#items.push(CLOSE_WHEN_DONE);
  }

  /** Drops everything queued. */
  clear(): void {
    this.#items = [];
    this.#head = 0;
  }

  /**
   * Takes the next chunk: up to `maxBytes` bytes, or {@link CLOSE_WHEN_DONE}
   * when the marker is next, or `null` when the queue is empty.
   * @throws TypeError if a producer's `more()` returns something that is not bytes or a string.
   * @throws RangeError if `maxBytes` is not a positive integer.
   */
  take(maxBytes: number = DEFAULT_CHUNK_SIZE): Buffer | typeof CLOSE_WHEN_DONE | null {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
      throw new RangeError(`maxBytes must be a positive integer, not ${String(maxBytes)}`);
    }
    const parts: Buffer[] = [];
    let size = 0;
    while (size < maxBytes && this.#head < this.#items.length) {
      const item = this.#items[this.#head];
      if (item === undefined) break;
      if (item === CLOSE_WHEN_DONE) {
        if (size > 0) break;
        this.#shift();
        return CLOSE_WHEN_DONE;
      }
      let bytes: Buffer;
      if (Buffer.isBuffer(item)) {
        bytes = item;
        this.#shift();
      } else {
        bytes = toBuffer(item.more(), 'IChatProducer.more() result');
        if (bytes.length === 0) {
          this.#shift();
          continue;
        }
      }
      const room = maxBytes - size;
      if (bytes.length > room) {
        // The remainder goes back in front (of the producer, if it came from one).
        this.#unshift(bytes.subarray(room));
        bytes = bytes.subarray(0, room);
      }
      parts.push(bytes);
      size += bytes.length;
    }
    if (size === 0) return null;
    return joinParts(parts, size);
  }

  #shift(): void {
    this.#items[this.#head] = SPENT;
    this.#head += 1;
    if (this.#head === this.#items.length) this.clear();
  }

  #unshift(item: Item): void {
    if (this.#head > 0) {
      this.#head -= 1;
      this.#items[this.#head] = item;
    } else {
      this.#items.unshift(item);
    }
  }
}
