/**
 * A FIFO of received chunks that the length-based decoders read from without
 * ever re-concatenating what is buffered: each byte is copied at most once,
 * when a frame that spans chunks is assembled.
 *
 * Tests: test/chunk-queue.test.ts
 * @module
 */

import { joinParts } from './bytes.js';

const EMPTY = Buffer.alloc(0);

/** Unread bytes, kept as the chunks they arrived in. */
export class ChunkQueue {
  // `#chunks[#head]` is the oldest chunk and `#offset` how much of it was read;
  // a head index instead of `shift()` keeps reads O(1) with many chunks queued.
  #chunks: Buffer[] = [];
  #head = 0;
  #offset = 0;
  #length = 0;

  /** Bytes not yet read. */
  get length(): number {
    return this.#length;
  }

  /** Appends a chunk (kept by reference, not copied). */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  /** Puts `chunk` back in front of everything unread. */
  unshift(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#compact();
    this.#chunks.unshift(chunk);
    this.#length += chunk.length;
  }

  /** The next unread byte, or -1 when empty. Does not consume it. */
  peekByte(): number {
    if (this.#length === 0) return -1;
    return this.#chunks[this.#head]?.[this.#offset] ?? -1;
  }

  /**
   * Reads up to `max` bytes from the oldest chunk only, as a view (no copy).
   * Returns an empty Buffer when nothing is buffered.
   */
  readUpTo(max: number): Buffer {
    if (this.#length === 0 || max <= 0) return EMPTY;
    const chunk = this.#chunks[this.#head] ?? EMPTY;
    const available = chunk.length - this.#offset;
    const n = available < max ? available : max;
    const view = chunk.subarray(this.#offset, this.#offset + n);
    this.#length -= n;
    if (n === available) {
      this.#chunks[this.#head] = EMPTY;
      this.#head += 1;
      this.#offset = 0;
      if (this.#head === this.#chunks.length) {
        this.#chunks = [];
        this.#head = 0;
      }
    } else {
      this.#offset += n;
    }
    return view;
  }

  /** Removes and returns everything unread, as one Buffer. */
  clear(): Buffer {
    const parts: Buffer[] = [];
    const total = this.#length;
    while (this.#length > 0) parts.push(this.readUpTo(this.#length));
    return joinParts(parts, total);
  }

  /** Drops everything unread without assembling it; returns how many bytes that was. */
  discard(): number {
    const dropped = this.#length;
    this.#chunks = [];
    this.#head = 0;
    this.#offset = 0;
    this.#length = 0;
    return dropped;
  }

  #compact(): void {
    if (this.#head > 0) {
      this.#chunks = this.#chunks.slice(this.#head);
      this.#head = 0;
    }
    if (this.#offset > 0 && this.#chunks.length > 0) {
      this.#chunks[0] = (this.#chunks[0] ?? EMPTY).subarray(this.#offset);
      this.#offset = 0;
    }
  }
}
