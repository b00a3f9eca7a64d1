/**
 * `WriteQueue`: the bytes Bun's `socket.write()` did not accept yet. Bun's
 * write is a direct, non-blocking send that returns how many bytes the
 * kernel took; the rest is ours to keep and retry on `drain`. Chunks are
 * kept as given (no concatenation) with an offset into the first, so a
 * backlog of many megabytes costs O(1) per chunk, never O(n²) copying.
 *
 * Tests: test/write-queue.bun.test.ts, test/partial-writes.bun.test.ts
 * @module
 */

/** Where {@link WriteQueue.flushTo} sends bytes: Bun's `socket.write(data, offset, length)`. */
export interface ByteSink {
  write(data: Uint8Array, byteOffset: number, byteLength: number): number;
}

/**
 * Writes smaller than this are copied into a shared tail chunk while the
 * queue is backed up, so a protocol that writes many tiny pieces during
 * backpressure costs one send per 16 KiB on drain instead of one per piece.
 */
const COALESCE_BELOW = 1024;
const TAIL_CHUNK_SIZE = 16 * 1024;
/** Sent chunks at the front are dropped from the array once there are this many (and half of it). */
const COMPACT_AFTER = 512;

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

  /** Bytes queued and not yet accepted by the socket. */
  get size(): number {
    return this.#size;
  }

  /** True when nothing is queued. */
  get empty(): boolean {
    return this.#size === 0;
  }

  /**
   * Appends bytes. The chunk is kept by reference (as Node's `socket.write`
   * keeps it) unless it is small, in which case it is copied.
   */
  push(chunk: Uint8Array): void {
    const length = chunk.byteLength;
    if (length === 0) return;
    this.#size += length;
    if (length < COALESCE_BELOW) {
      let tail = this.#tail;
      if (
        tail === null ||
        this.#tailIndex !== this.#chunks.length - 1 ||
        this.#tailUsed + length > tail.byteLength
      ) {
        tail = Buffer.allocUnsafe(TAIL_CHUNK_SIZE);
        this.#tail = tail;
        this.#tailUsed = 0;
        this.#tailIndex = this.#chunks.length;
        this.#chunks.push(EMPTY);
      }
      tail.set(chunk, this.#tailUsed);
      this.#tailUsed += length;
      // The queued view grows with the tail it shows (its start, and so the send offset, stays).
      this.#chunks[this.#tailIndex] = tail.subarray(0, this.#tailUsed);
      return;
    }
    this.#chunks.push(chunk);
  }

  /**
   * Sends as much as `sink` accepts, in order.
   * @returns `false` if the sink reported the socket closed (a negative
   *   count); the queue then keeps what was not sent.
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

  /** Forgets the sent chunks at the front, so a long backlog does not grow the array for ever. */
  #compact(): void {
    const head = this.#head;
    this.#chunks = this.#chunks.slice(head);
    if (this.#tail !== null) this.#tailIndex -= head;
    this.#head = 0;
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
}

const EMPTY = new Uint8Array(0);
