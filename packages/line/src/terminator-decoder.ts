/**
 * `TerminatorDecoder`: the input half of Python's `asynchat`, pure (sans-I/O).
 * It splits a byte stream at a terminator that can change between frames: a
 * byte string, a byte count, or nothing (everything is data).
 *
 * Tests: test/terminator-decoder.test.ts
 * @module
 */
import { ChunkQueue } from './internal/chunk-queue.js';
import { toBuffer } from './internal/bytes.js';

/**
 * What ends the current frame: a byte string (`"\r\n"`, `"\r\n.\r\n"`), a
 * number of bytes, or `null` for "no terminator: everything is data".
 */
export type Terminator = Uint8Array | string | number | null;

/** Returned by {@link TerminatorDecoder.next} when the terminator was reached. */
export const FOUND_TERMINATOR: unique symbol = Symbol('FOUND_TERMINATOR');

/**
 * Splits input at the current terminator.
 *
 * @remarks
 * {@link TerminatorDecoder.next} returns data pieces (never empty) and
 * {@link FOUND_TERMINATOR}; the terminator itself is consumed, never returned.
 * Data is handed on as it arrives, not accumulated: a byte-string terminator
 * holds back only the bytes at the end of the input that may begin it. A
 * count terminator counts down across reads and, once reached, becomes 0,
 * which like `null` means "everything is data" until the next
 * {@link TerminatorDecoder.setTerminator} (asynchat's rule).
 */
export class TerminatorDecoder {
  readonly #queue = new ChunkQueue();
  #terminator: Buffer | number | null = null;
  // Bytes at the end of the scanned input that are a prefix of the terminator.
  #held: Buffer | null = null;
  #found = false;

  /** @param terminator - the initial terminator. Default `null`. */
  constructor(terminator: Terminator = null) {
    this.setTerminator(terminator);
  }

  /** The current terminator: a Buffer, the bytes still to count, or `null`. */
  get terminator(): Buffer | number | null {
    return this.#terminator;
  }

  /** Bytes buffered and not yet returned. */
  get bufferedLength(): number {
    return this.#queue.length + (this.#held?.length ?? 0);
  }

  /**
   * Sets what ends the next frame. Takes effect at once, for bytes already
   * buffered too.
   * @throws RangeError for a negative or non-integer count, or an empty byte string.
   * @throws TypeError for any other type.
   */
  setTerminator(terminator: Terminator): void {
    let next: Buffer | number | null;
    if (terminator === null) next = null;
    else if (typeof terminator === 'number') {
      if (!Number.isSafeInteger(terminator) || terminator < 0) {
        throw new RangeError(
          `A terminator count must be a non-negative integer, not ${String(terminator)}`,
        );
      }
      next = terminator;
    } else {
      next = Buffer.from(toBuffer(terminator, 'terminator'));
      if (next.length === 0) throw new RangeError('A terminator byte string must not be empty');
    }
    if (this.#held !== null) {
      this.#queue.unshift(this.#held);
      this.#held = null;
    }
    this.#terminator = next;
  }

  /** Adds received bytes. The chunk is kept, not copied. */
  push(chunk: Buffer): void {
    this.#queue.push(chunk);
  }

  /** Removes and returns everything buffered. */
  clear(): Buffer {
    if (this.#held !== null) {
      this.#queue.unshift(this.#held);
      this.#held = null;
    }
    this.#found = false;
    return this.#queue.clear();
  }

  /**
   * Forgets everything buffered, as {@link TerminatorDecoder.clear} but
   * without assembling it, and keeps the terminator.
   * @returns how many bytes were dropped.
   */
  reset(): number {
    const dropped = this.bufferedLength;
    this.#held = null;
    this.#found = false;
    this.#queue.discard();
    return dropped;
  }

  /**
   * Returns the next data piece, {@link FOUND_TERMINATOR}, or `null` when
   * more bytes are needed.
   */
  next(): Buffer | typeof FOUND_TERMINATOR | null {
    if (this.#found) {
      this.#found = false;
      return FOUND_TERMINATOR;
    }
    const queue = this.#queue;
    const terminator = this.#terminator;
    if (terminator === null || terminator === 0) {
      const piece = queue.readUpTo(queue.length);
      return piece.length === 0 ? null : piece;
    }
    if (typeof terminator === 'number') {
      const piece = queue.readUpTo(terminator);
      if (piece.length === 0) return null;
      this.#terminator = terminator - piece.length;
      if (this.#terminator === 0) this.#found = true;
      return piece;
    }
    for (;;) {
      if (queue.length === 0) return null;
      let data = queue.readUpTo(queue.length);
      if (this.#held !== null) {
        data = Buffer.concat([this.#held, data]);
        this.#held = null;
      }
      const at = data.indexOf(terminator);
      if (at !== -1) {
        const rest = data.subarray(at + terminator.length);
        if (rest.length > 0) queue.unshift(rest);
        if (at === 0) return FOUND_TERMINATOR;
        this.#found = true;
        return data.subarray(0, at);
      }
      const keep = prefixAtEnd(data, terminator);
      if (keep > 0) this.#held = Buffer.from(data.subarray(data.length - keep));
      if (keep < data.length) return data.subarray(0, data.length - keep);
    }
  }

  /** Pushes `chunk` and returns everything {@link TerminatorDecoder.next} yields. */
  decode(chunk: Buffer): (Buffer | typeof FOUND_TERMINATOR)[] {
    this.push(chunk);
    const out: (Buffer | typeof FOUND_TERMINATOR)[] = [];
    for (let item = this.next(); item !== null; item = this.next()) out.push(item);
    return out;
  }
}

// The length of the longest proper prefix of `needle` that ends `haystack`.
function prefixAtEnd(haystack: Buffer, needle: Buffer): number {
  for (let n = Math.min(needle.length - 1, haystack.length); n > 0; n--) {
    if (haystack.compare(needle, 0, n, haystack.length - n) === 0) return n;
  }
  return 0;
}
