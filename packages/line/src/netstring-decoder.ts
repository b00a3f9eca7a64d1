/**
 * `NetstringDecoder`: parses djb's netstrings (`<length>:<payload>,`), pure
 * (sans-I/O), with Twisted's strictness: no leading zeros, nothing but digits
 * before the colon, a comma right after the payload.
 *
 * Tests: test/netstring-decoder.test.ts
 * @module
 */
import { ChunkQueue } from './internal/chunk-queue.js';
import { toBuffer } from './internal/bytes.js';
import { PartList } from './internal/part-list.js';
import { NetstringParseError } from './errors.js';
import { checkMaxLength } from './internal/max-length.js';

/** Twisted's default `MAX_LENGTH` for netstrings and length-prefixed strings (basic.py). */
export const DEFAULT_MAX_STRING_LENGTH = 99_999;

const COLON = 0x3a;
const COMMA = 0x2c;
const ZERO = 0x30;
const NINE = 0x39;

type State = 'length' | 'payload' | 'comma' | 'broken';

/**
 * Parses netstrings. {@link NetstringDecoder.next} returns each payload, or
 * a {@link NetstringParseError} once, after which the stream is broken and
 * every further byte is dropped (a netstring stream cannot be resynchronised).
 *
 * @remarks
 * A length is refused as soon as its digits exceed `maxLength`, before the
 * colon and before any payload is buffered, so a peer announcing 2^60 bytes
 * costs nothing. Memory stays under `maxLength` plus one read chunk.
 */
export class NetstringDecoder {
  readonly #queue = new ChunkQueue();
  #maxLength: number;
  #state: State = 'length';
  #digits = 0;
  #length = 0;
  readonly #payload = new PartList();
  #error: NetstringParseError | null = null;

  /** @param maxLength - the longest payload accepted, in bytes. Default 99999. */
  constructor(maxLength: number = DEFAULT_MAX_STRING_LENGTH) {
    this.#maxLength = checkMaxLength(maxLength);
  }

  /** The current payload limit. */
  get maxLength(): number {
    return this.#maxLength;
  }

  /** True once a parse error was returned: nothing more will be decoded. */
  get broken(): boolean {
    return this.#state === 'broken';
  }

  /** Changes the payload limit (it applies to lengths not yet parsed). */
  setMaxLength(maxLength: number): void {
    this.#maxLength = checkMaxLength(maxLength);
  }

  /** Adds received bytes. The chunk is kept, not copied. */
  push(chunk: Buffer): void {
    if (this.#state === 'broken') return;
    this.#queue.push(chunk);
  }

  /**
   * Forgets every buffered byte and any partly read netstring, so the next
   * byte pushed starts a new length. A broken decoder stays broken.
   * @returns how many received bytes were dropped (length digits included).
   */
  reset(): number {
    let dropped = this.#queue.length;
    if (this.#state === 'length') dropped += this.#digits;
    else if (this.#state !== 'broken') dropped += this.#digits + 1 + this.#payload.length;
    this.#queue.discard();
    if (this.#state !== 'broken') {
      this.#payload.clear();
      this.#length = 0;
      this.#digits = 0;
      this.#state = 'length';
    }
    return dropped;
  }

  /**
   * Returns the next payload, the parse error (once), or `null` when more
   * bytes are needed or the stream is broken.
   */
  next(): Buffer | NetstringParseError | null {
    const queue = this.#queue;
    for (;;) {
      switch (this.#state) {
        case 'broken': {
          const error = this.#error;
          this.#error = null;
          return error;
        }
        case 'length': {
          const byte = queue.peekByte();
          if (byte === -1) return null;
          queue.readUpTo(1);
          if (byte >= ZERO && byte <= NINE) {
            if (this.#digits > 0 && this.#length === 0) {
              this.#fail('The netstring length has a leading zero.');
              break;
            }
            this.#length = this.#length * 10 + (byte - ZERO);
            this.#digits += 1;
            if (this.#length > this.#maxLength) {
              this.#fail(`The netstring is longer than the maximum of ${this.#maxLength} bytes.`);
            }
          } else if (byte === COLON && this.#digits > 0) {
            this.#state = 'payload';
          } else {
            this.#fail('The netstring does not start with a length specification.');
          }
          break;
        }
        case 'payload': {
          const wanted = this.#length - this.#payload.length;
          if (wanted > 0) {
            const piece = queue.readUpTo(wanted);
            if (piece.length === 0) return null;
            this.#payload.push(piece);
            if (piece.length < wanted) break;
          }
          this.#state = 'comma';
          break;
        }
        case 'comma': {
          const byte = queue.peekByte();
          if (byte === -1) return null;
          if (byte !== COMMA) {
            this.#fail('The netstring is not terminated by a comma.');
            break;
          }
          queue.readUpTo(1);
          const payload = this.#payload.take();
          this.#length = 0;
          this.#digits = 0;
          this.#state = 'length';
          return payload;
        }
      }
    }
  }

  /** Pushes `chunk` and returns everything {@link NetstringDecoder.next} yields. */
  decode(chunk: Buffer): (Buffer | NetstringParseError)[] {
    this.push(chunk);
    const out: (Buffer | NetstringParseError)[] = [];
    for (let item = this.next(); item !== null; item = this.next()) out.push(item);
    return out;
  }

  // Breaks the stream for good; the next call of `next()` returns the error.
  #fail(message: string): void {
    this.#state = 'broken';
    this.#error = new NetstringParseError(message);
    this.#payload.clear();
    this.#queue.clear();
  }
}

/**
 * Frames `payload` as a netstring: `<length>:<payload>,`.
 * @throws TypeError if `payload` is neither a Uint8Array nor a string.
 */
export function encodeNetstring(payload: Uint8Array | string): Buffer {
  const body = toBuffer(payload, 'string');
  return Buffer.concat([Buffer.from(`${body.length}:`, 'latin1'), body, Buffer.of(COMMA)]);
}
