/**
 * `WriteQueue`: output a transport holds while the network cannot take it,
 * costing about its bytes however it was written. Small writes (a line echo
 * answering thousands of empty lines from one read) are copied into shared
 * 16 KiB chunks instead of being kept as one object each, which is what made
 * a peer that never reads cost megabytes per connection; large writes are
 * kept by reference (as Node's `socket.write` keeps them), so a backlog of
 * many megabytes is never copied. Sending resumes inside a partly sent chunk,
 * so a transport whose send can be short (Bun's) loses nothing.
 *
 * Tests: test/reactor-kit/write-queue.test.ts, and the transports' backpressure tests
 * @module
 */
import type { WriteData } from '../interfaces.js';

/** Where {@link WriteQueue.flushTo} sends bytes: a send that may take fewer than it was given. */
export interface ByteSink {
  /**
   * Sends `byteLength` bytes of `data` from `byteOffset`.
   * @returns how many bytes were taken, or a negative number once the sink is closed.
   */
  write(data: Uint8Array, byteOffset: number, byteLength: number): number;
}

/**
 * Writes smaller than this are copied into a shared tail chunk: above it the
 * copy costs more than the object it saves (Node's own `writev` threshold
 * for joining buffers is of the same order).
 */
export const COALESCE_BELOW = 1024;
/**
 * The shared chunk small writes are copied into: Node's own stream
 * high-water mark. It is allocated outside Node's 8 KiB Buffer pool, where a
 * chunk kept while the peer does not read would also keep alive every other
 * small Buffer carved from the same pool.
 */
const TAIL_CHUNK_SIZE = 16 * 1024;
/** Sent chunks at the front are dropped from the array once there are this many (and half of it). */
const COMPACT_AFTER = 512;

const EMPTY = new Uint8Array(0);

/** A FIFO of pending output chunks. */
export class WriteQueue {
  #chunks: Uint8Array[] = [];
  /** Index of the first chunk still (partly) unsent. */
  #head = 0;
  /** Bytes of `#chunks[#head]` already sent. */
  #offset = 0;
  #size = 0;
  /** A chunk of our own that small writes are copied into, while it is the last queued. */
  #tail: Buffer | null = null;
  /** Where `#tail` sits in `#chunks`. */
  #tailIndex = -1;
  #tailUsed = 0;

  /** Bytes queued and not yet taken by a sink. */
  get size(): number {
    return this.#size;
  }

  /** True when nothing is queued. */
  get empty(): boolean {
    return this.#size === 0;
  }

  /**
   * Appends bytes; a string is encoded as UTF-8. A large Uint8Array is kept
   * by reference (changing it before it is sent changes what is sent, as
   * with Node's `socket.write`); small writes and strings are copied.
   */
  push(data: WriteData): void {
    if (typeof data === 'string') {
      this.#pushString(data);
      return;
    }
    const length = data.byteLength;
    if (length === 0) return;
    if (length >= COALESCE_BELOW) {
      this.#size += length;
      this.#chunks.push(data);
      return;
    }
    const tail = this.#tailWithRoom(length);
    tail.set(data, this.#tailUsed);
    this.#grewTail(tail, length);
  }

  /**
   * Sends as much as `sink` accepts, in order.
   * @returns `false` if the sink reported itself closed (a negative count);
   *   the queue then keeps what was not sent.
   */
  flushTo(sink: ByteSink): boolean {
    for (;;) {
      const chunk = this.#chunks[this.#head];
      if (chunk === undefined) break;
      const remaining = chunk.byteLength - this.#offset;
      const written = sink.write(chunk, this.#offset, remaining);
      if (written < 0) return false;
      this.#size -= written;
      if (written < remaining) {
        this.#offset += written;
        return true;
      }
      // A sent tail takes no more bytes: the next small write starts a new one.
      if (this.#head === this.#tailIndex) this.#tail = null;
      this.#chunks[this.#head] = EMPTY;
      this.#head++;
      this.#offset = 0;
      if (this.#head >= COMPACT_AFTER && this.#head * 2 >= this.#chunks.length) this.#compact();
    }
    this.clear();
    return true;
  }

  /** Drops everything queued. */
  clear(): void {
    this.#chunks = [];
    this.#head = 0;
    this.#offset = 0;
    this.#size = 0;
    this.#tail = null;
    this.#tailIndex = -1;
    this.#tailUsed = 0;
  }

  #pushString(text: string): void {
    if (text.length === 0) return;
    // A UTF-16 unit encodes to at most 3 bytes: only measure when it might not fit.
    const length =
      text.length * 3 < COALESCE_BELOW ? Buffer.byteLength(text, 'utf8') : Buffer.byteLength(text);
    if (length >= COALESCE_BELOW) {
      this.#size += length;
      this.#chunks.push(Buffer.from(text, 'utf8'));
      return;
    }
    const tail = this.#tailWithRoom(length);
    tail.write(text, this.#tailUsed, 'utf8');
    this.#grewTail(tail, length);
  }

  /** The shared tail, replaced by a fresh one when it is not last or has no room for `length` bytes. */
  #tailWithRoom(length: number): Buffer {
    let tail = this.#tail;
    if (
      tail === null ||
      this.#tailIndex !== this.#chunks.length - 1 ||
      this.#tailUsed + length > tail.byteLength
    ) {
      tail = Buffer.allocUnsafeSlow(TAIL_CHUNK_SIZE);
      this.#tail = tail;
      this.#tailUsed = 0;
      this.#tailIndex = this.#chunks.length;
      this.#chunks.push(EMPTY);
    }
    return tail;
  }

  #grewTail(tail: Buffer, length: number): void {
    this.#tailUsed += length;
    this.#size += length;
    // The queued view grows with the tail it shows (its start, and so the send offset, stays).
    this.#chunks[this.#tailIndex] = tail.subarray(0, this.#tailUsed);
  }

  /** Forgets the sent chunks at the front, so a long backlog does not grow the array for ever. */
  #compact(): void {
    const head = this.#head;
    this.#chunks = this.#chunks.slice(head);
    if (this.#tail !== null) this.#tailIndex -= head;
    this.#head = 0;
  }
}
