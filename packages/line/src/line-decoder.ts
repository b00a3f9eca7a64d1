/**
 * `LineDecoder`: splits a byte stream into lines. Pure (sans-I/O): bytes go in
 * with {@link LineDecoder.push}, lines come out of {@link LineDecoder.next},
 * and nothing here knows about transports, so the same decoder serves
 * `LineReceiver`, `LineOnlyReceiver` and anyone framing lines by hand.
 *
 * Tests: test/line-decoder.test.ts
 * @module
 */
import { view, viewOf } from './internal/buffer-view.js';
import { joinParts, toBuffer } from './internal/bytes.js';
import { PartList } from './internal/part-list.js';
import { checkMaxLength } from './internal/max-length.js';

const EMPTY = Buffer.alloc(0);

/** Twisted's default delimiter. */
export const CRLF: Buffer = Buffer.from('\r\n');

/** Twisted's default `MAX_LENGTH` for line receivers (basic.py `LineReceiver.MAX_LENGTH`). */
export const DEFAULT_MAX_LINE_LENGTH = 16_384;

/** Options for {@link LineDecoder}. */
export interface LineDecoderOptions {
  /** What ends a line. Default `"\r\n"`. Must not be empty. */
  delimiter?: Uint8Array | string;
  /** The longest line accepted, in bytes, not counting the delimiter. Default 16384. */
  maxLength?: number;
}

/**
 * What {@link LineDecoder.next} returns for a line longer than `maxLength`.
 *
 * @remarks
 * `line` holds the offending bytes without the delimiter: the whole line when
 * its delimiter had already arrived (`complete` true), or the bytes buffered
 * when the limit tripped (`complete` false). In the second case the decoder
 * then discards input up to and including the next delimiter, and recovers.
 */
export class LineTooLong {
  /**
   * @param line - the offending bytes (never more than `maxLength` plus one read chunk).
   * @param complete - true if the line's delimiter was seen.
   */
  constructor(
    readonly line: Buffer,
    readonly complete: boolean,
  ) {}
}

/**
 * Splits bytes into lines on an exact delimiter, with a mandatory length limit.
 *
 * @remarks
 * The length rule, the same for every Torsion line receiver: a line of up to
 * `maxLength` bytes (delimiter not counted) is accepted, a longer one is
 * reported as {@link LineTooLong}. Without a delimiter in sight, the limit
 * trips as soon as the buffered bytes can no longer be the start of a valid
 * line, that is when `maxLength + delimiter.length` bytes are pending. This is
 * the earliest moment that cannot reject a valid line whose delimiter is split
 * across reads, and it caps memory at `maxLength` plus one read chunk.
 *
 * Work per byte is constant however the input is chunked: the scan resumes
 * where it stopped, and a line spanning chunks is copied once, when complete.
 *
 * Lines are returned as `Buffer`s that may share memory with the chunks that
 * were pushed; the decoder never writes into them.
 */
export class LineDecoder {
  #delimiter: Buffer = CRLF;
  // The delimiter's last byte, and for two-byte delimiters the one before it:
  // the hot path finds a line end with one memchr and one comparison.
  #dlen = 2;
  #last = 10;
  #beforeLast = 13;
  #maxLength = DEFAULT_MAX_LINE_LENGTH;

  // The chunk being scanned and where unread data starts in it; `#queue` holds
  // chunks pushed while earlier ones were still unread (a paused receiver).
  #chunk: Buffer = EMPTY;
  #pos = 0;
  #queue: Buffer[] = [];
  // The start of a line whose delimiter has not arrived yet. Every byte in it
  // was scanned already: only its last `delimiter.length - 1` bytes can still
  // begin a delimiter.
  readonly #partial = new PartList();
  // True after an over-long line was reported without its delimiter: input is
  // dropped until the next delimiter, then decoding resumes. `#parts` then
  // keeps only the tail that may begin a delimiter.
  #discarding = false;

  /** @throws RangeError if `maxLength` is negative or the delimiter is empty. */
  constructor(options: LineDecoderOptions = {}) {
    if (options.delimiter !== undefined) this.setDelimiter(options.delimiter);
    if (options.maxLength !== undefined) this.setMaxLength(options.maxLength);
  }

  /** The current delimiter. */
  get delimiter(): Buffer {
    return this.#delimiter;
  }

  /** The current length limit. */
  get maxLength(): number {
    return this.#maxLength;
  }

  /** How many bytes are buffered: pushed and not yet returned as lines. */
  get bufferedLength(): number {
    let total = this.#partial.length + this.#chunk.length - this.#pos;
    for (const chunk of this.#queue) total += chunk.length;
    return total;
  }

  /**
   * Changes the delimiter. Buffered bytes are scanned again with the new one.
   * @throws RangeError if `delimiter` is empty.
   */
  setDelimiter(delimiter: Uint8Array | string): void {
    const next = toBuffer(delimiter, 'delimiter');
    if (next.length === 0) throw new RangeError('The line delimiter must not be empty');
    if (next.equals(this.#delimiter)) return;
    const buffered = this.#partial.length > 0 ? this.clear() : null;
    this.#delimiter = Buffer.from(next);
    this.#dlen = this.#delimiter.length;
    this.#last = this.#delimiter[this.#delimiter.length - 1] ?? -1;
    this.#beforeLast = this.#delimiter.length === 2 ? (this.#delimiter[0] ?? -1) : -1;
    if (buffered !== null) this.unshift(buffered);
  }

  /**
   * Changes the length limit; it applies to the next line returned.
   * @throws RangeError if `maxLength` is not a non-negative integer.
   */
  setMaxLength(maxLength: number): void {
    this.#maxLength = checkMaxLength(maxLength);
  }

  /** Adds received bytes after everything buffered. The chunk is kept, not copied. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.#pos >= this.#chunk.length && this.#queue.length === 0) {
      this.#chunk = chunk;
      this.#pos = 0;
    } else {
      this.#queue.push(chunk);
    }
  }

  /**
   * Puts bytes back in front of the unread input (after any partial line):
   * what `setLineMode(extra)` needs to hand raw-mode leftovers back.
   */
  unshift(data: Buffer): void {
    if (data.length === 0) return;
    if (this.#pos < this.#chunk.length) this.#queue.unshift(this.#chunk.subarray(this.#pos));
    this.#chunk = data;
    this.#pos = 0;
  }

  /**
   * Removes and returns every buffered byte (partial line included), and
   * leaves discarding mode.
   */
  clear(): Buffer {
    const parts: Buffer[] = [];
    let total = this.#partial.length;
    if (total > 0) parts.push(this.#partial.take());
    if (this.#pos < this.#chunk.length) {
      parts.push(this.#chunk.subarray(this.#pos));
      total += this.#chunk.length - this.#pos;
    }
    for (const chunk of this.#queue) {
      parts.push(chunk);
      total += chunk.length;
    }
    this.#chunk = EMPTY;
    this.#pos = 0;
    this.#queue = [];
    this.#discarding = false;
    return total === 0 ? EMPTY : joinParts(parts, total);
  }

  /**
   * Forgets every buffered byte (partial line included) without assembling
   * them, and leaves discarding mode. For a connection switching to TLS,
   * whose plaintext leftovers must never be read as lines.
   * @returns how many bytes were dropped.
   */
  reset(): number {
    const dropped = this.bufferedLength;
    this.#partial.clear();
    this.#chunk = EMPTY;
    this.#pos = 0;
    this.#queue = [];
    this.#discarding = false;
    return dropped;
  }

  /**
   * Returns the next line (without its delimiter), a {@link LineTooLong}, or
   * `null` when more bytes are needed.
   */
  next(): Buffer | LineTooLong | null {
    // Hot path: a whole line inside the current chunk, delimiter of 1 or 2 bytes.
    const dlen = this.#dlen;
    if (this.#partial.length === 0 && !this.#discarding && dlen <= 2) {
      const chunk = this.#chunk;
      const pos = this.#pos;
      const end = chunk.indexOf(this.#last, pos + dlen - 1);
      if (end !== -1 && (dlen === 1 || chunk[end - 1] === this.#beforeLast)) {
        const start = end + 1 - dlen;
        this.#pos = end + 1;
        if (start - pos <= this.#maxLength) return view(chunk, pos, start);
        return new LineTooLong(view(chunk, pos, start), true);
      }
    }
    return this.#nextSlow();
  }

  /**
   * Hands every available line (or {@link LineTooLong}) to `sink`, in order,
   * until `sink` returns false or more bytes are needed. The same sequence as
   * calling {@link LineDecoder.next} in a loop, but the common case (whole
   * lines inside one chunk) runs without leaving a local loop, which is about
   * twice as fast.
   *
   * @remarks `sink` may call any method of the decoder (push, clear, change
   * the delimiter…); the decoder notices and continues from its new state.
   * @returns true if `sink` stopped the drain, false if more bytes are needed.
   */
  drain(sink: (item: Buffer | LineTooLong) => boolean): boolean {
    for (;;) {
      const dlen = this.#dlen;
      if (this.#partial.length === 0 && !this.#discarding && dlen <= 2) {
        const chunk = this.#chunk;
        const last = this.#last;
        const beforeLast = this.#beforeLast;
        const max = this.#maxLength;
        const memory = chunk.buffer as ArrayBuffer;
        const offset = chunk.byteOffset;
        let pos = this.#pos;
        for (;;) {
          const end = chunk.indexOf(last, pos + dlen - 1);
          if (end === -1 || (dlen === 2 && chunk[end - 1] !== beforeLast)) break;
          const start = end + 1 - dlen;
          const line = viewOf(memory, offset + pos, start - pos);
          const tooLong = start - pos > max;
          pos = end + 1;
          this.#pos = pos;
          if (!sink(tooLong ? new LineTooLong(line, true) : line)) return true;
          // Anything the sink can do to the decoder (read, clear, unshift,
          // change a setting) shows in one of these; then take the slow path.
          if (
            this.#chunk !== chunk ||
            this.#pos !== pos ||
            this.#maxLength !== max ||
            this.#dlen !== dlen
          ) {
            break;
          }
        }
      }
      const item = this.#nextSlow();
      if (item === null) return false;
      if (!sink(item)) return true;
    }
  }

  #nextSlow(): Buffer | LineTooLong | null {
    for (;;) {
      const chunk = this.#chunk;
      const pos = this.#pos;
      if (pos >= chunk.length) {
        const queued = this.#queue.shift();
        if (queued === undefined) return null;
        this.#chunk = queued;
        this.#pos = 0;
        continue;
      }
      const dlen = this.#delimiter.length;
      if (this.#partial.length > 0 && dlen > 1) {
        const straddling = this.#straddle(chunk, pos);
        if (straddling !== null) return straddling;
        if (this.#partial.length === 0) continue;
      }
      const idx = this.#find(chunk, pos);
      if (idx !== -1) {
        this.#pos = idx + dlen;
        if (this.#discarding) {
          this.#partial.clear();
          this.#discarding = false;
          continue;
        }
        let line: Buffer;
        if (this.#partial.length === 0) {
          line = view(chunk, pos, idx);
        } else {
          this.#partial.push(chunk.subarray(pos, idx));
          line = this.#partial.take();
        }
        return line.length > this.#maxLength ? new LineTooLong(line, true) : line;
      }
      // No delimiter in the rest of this chunk: it all belongs to a partial line.
      this.#pos = chunk.length;
      this.#partial.push(chunk.subarray(pos));
      if (this.#discarding) {
        this.#keepTail();
      } else if (this.#partial.length >= this.#maxLength + dlen) {
        const line = this.#partial.take();
        this.#discarding = true;
        this.#partial.push(line);
        this.#keepTail();
        return new LineTooLong(line, false);
      }
    }
  }

  /**
   * Pushes `chunk` and returns everything {@link LineDecoder.next} yields:
   * the convenient form when nothing can happen between lines.
   */
  decode(chunk: Buffer): (Buffer | LineTooLong)[] {
    this.push(chunk);
    const out: (Buffer | LineTooLong)[] = [];
    for (let item = this.next(); item !== null; item = this.next()) out.push(item);
    return out;
  }

  // Finds the delimiter in `chunk` from `from`, by locating its last byte with
  // memchr-fast `indexOf(number)` and checking the bytes before it.
  #find(chunk: Buffer, from: number): number {
    const delimiter = this.#delimiter;
    const dlen = delimiter.length;
    if (dlen === 1) return chunk.indexOf(this.#last, from);
    for (let end = chunk.indexOf(this.#last, from + dlen - 1); end !== -1;) {
      const start = end - dlen + 1;
      let i = 0;
      while (i < dlen - 1 && chunk[start + i] === delimiter[i]) i += 1;
      if (i === dlen - 1) return start;
      end = chunk.indexOf(this.#last, end + 1);
    }
    return -1;
  }

  // A delimiter may begin in the buffered partial line and end in `chunk`.
  // Returns the line (or LineTooLong) it completes, or null if there is none;
  // in discarding mode it ends the discard and leaves `#partial` empty.
  #straddle(chunk: Buffer, pos: number): Buffer | LineTooLong | null {
    const delimiter = this.#delimiter;
    const dlen = delimiter.length;
    const tail = this.#partial.tail(Math.min(dlen - 1, this.#partial.length));
    const head = chunk.subarray(pos, pos + dlen - 1);
    const probe = Buffer.concat([tail, head]);
    const at = probe.indexOf(delimiter);
    if (at === -1 || at >= tail.length) return null;
    this.#pos = pos + at + dlen - tail.length;
    const lineLength = this.#partial.length - tail.length + at;
    const all = this.#partial.take();
    if (this.#discarding) {
      this.#discarding = false;
      return null;
    }
    const line = all.subarray(0, lineLength);
    return line.length > this.#maxLength ? new LineTooLong(line, true) : line;
  }

  // Keeps only the bytes that may begin a delimiter (copied, so the chunk
  // they came from can be freed).
  #keepTail(): void {
    const keep = Math.min(this.#delimiter.length - 1, this.#partial.length);
    const tail = keep === 0 ? EMPTY : Buffer.from(this.#partial.tail(keep));
    this.#partial.clear();
    this.#partial.push(tail);
  }
}

/**
 * Frames one line: `line` followed by `delimiter`.
 * @throws TypeError if `line` is neither a Uint8Array nor a string.
 */
export function encodeLine(
  line: Uint8Array | string,
  delimiter: Uint8Array | string = CRLF,
): Buffer {
  const body = toBuffer(line, 'line');
  const end = toBuffer(delimiter, 'delimiter');
  return Buffer.concat([body, end], body.length + end.length);
}
