/**
 * `PartList`: the pieces of a frame that arrived in several chunks, joined
 * once when the frame is complete.
 *
 * Tests: test/part-list.test.ts
 * @module
 */

/** Parts shorter than this are merged as they arrive (see {@link PartList.push}). */
const SMALL_PART = 1024;

/**
 * Pieces of one frame, in order.
 *
 * @remarks
 * Keeping each received chunk as its own Buffer is free for normal reads, but
 * a peer trickling one byte per read would make every byte cost a Buffer
 * object (about a hundred bytes), turning a 100 KB limit into megabytes. So
 * small parts are merged as they arrive, keeping part sizes geometrically
 * decreasing below {@link SMALL_PART}: each byte is copied at most about
 * log2(1024) = 10 times, and a frame of n bytes holds about n / 1024 parts.
 */
export class PartList {
  #parts: Buffer[] = [];
  #length = 0;

  /** Total bytes held. */
  get length(): number {
    return this.#length;
  }

  /** How many Buffers hold those bytes. */
  get count(): number {
    return this.#parts.length;
  }

  /** Appends `part` (kept by reference while large, merged while small). */
  push(part: Buffer): void {
    if (part.length === 0) return;
    const parts = this.#parts;
    parts.push(part);
    this.#length += part.length;
    for (let n = parts.length; n >= 2; n--) {
      const last = parts[n - 1];
      const previous = parts[n - 2];
      if (last === undefined || previous === undefined) break;
      if (previous.length >= SMALL_PART || previous.length > 2 * last.length) break;
      parts.length = n - 2;
      parts.push(Buffer.concat([previous, last], previous.length + last.length));
    }
  }

  /** Removes and returns all the bytes, as one Buffer (a lone part is not copied). */
  take(): Buffer {
    const parts = this.#parts;
    const length = this.#length;
    this.#parts = [];
    this.#length = 0;
    const [only] = parts;
    if (parts.length === 1 && only !== undefined) return only;
    return Buffer.concat(parts, length);
  }

  /** The last `n` bytes (n at most {@link PartList.length}), without removing them. */
  tail(n: number): Buffer {
    const last = this.#parts[this.#parts.length - 1];
    if (last !== undefined && last.length >= n) return last.subarray(last.length - n);
    const all = Buffer.concat(this.#parts, this.#length);
    this.#parts = [all];
    return all.subarray(all.length - n);
  }

  /** Drops everything. */
  clear(): void {
    this.#parts = [];
    this.#length = 0;
  }
}
