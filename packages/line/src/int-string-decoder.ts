/**
 * `IntStringDecoder`: parses strings framed by a big-endian unsigned length
 * prefix of 1, 2 or 4 bytes (Twisted's `Int8/16/32StringReceiver` wire
 * format), pure (sans-I/O).
 *
 * Tests: test/int-string-decoder.test.ts
 * @module
 */
import { ChunkQueue } from './internal/chunk-queue.js';
import { toBuffer } from './internal/bytes.js';
import { PartList } from './internal/part-list.js';
import { StringTooLongError } from './errors.js';
import { DEFAULT_MAX_STRING_LENGTH } from './netstring-decoder.js';
import { checkMaxLength } from './internal/max-length.js';

/** The prefix sizes Twisted defines: `!B`, `!H` and `!I`. */
export type PrefixLength = 1 | 2 | 4;

/**
 * What {@link IntStringDecoder.next} returns when a prefix announces more than
 * `maxLength` bytes. The decoder is then broken: the payload is never
 * buffered and every further byte is dropped.
 */
export class LengthLimitExceeded {
  /** @param length - the length the prefix announced. */
  constructor(readonly length: number) {}
}

/**
 * Parses length-prefixed strings.
 *
 * @remarks
 * The prefix is checked before any payload is buffered, so memory stays
 * under `maxLength` plus one read chunk whatever the peer announces.
 */
export class IntStringDecoder {
  readonly #queue = new ChunkQueue();
  readonly #prefixLength: PrefixLength;
  #maxLength: number;
  // -1 while reading the prefix, else the payload length being collected.
  #length = -1;
  #prefix = Buffer.alloc(4);
  #prefixFilled = 0;
  readonly #payload = new PartList();
  #broken = false;
  #limit: LengthLimitExceeded | null = null;

  /**
   * @param prefixLength - 1, 2 or 4 bytes.
   * @param maxLength - the longest payload accepted. Default 99999.
   */
  constructor(prefixLength: PrefixLength, maxLength: number = DEFAULT_MAX_STRING_LENGTH) {
    // Callers in plain JavaScript can pass anything.
    if (![1, 2, 4].includes(prefixLength)) {
      throw new RangeError(`prefixLength must be 1, 2 or 4, not ${String(prefixLength)}`);
    }
    this.#prefixLength = prefixLength;
    this.#maxLength = checkMaxLength(maxLength);
  }

  /** Bytes in the length prefix. */
  get prefixLength(): PrefixLength {
    return this.#prefixLength;
  }

  /** The current payload limit. */
  get maxLength(): number {
    return this.#maxLength;
  }

  /** True once a length limit was exceeded: nothing more will be decoded. */
  get broken(): boolean {
    return this.#broken;
  }

  /** Changes the payload limit (it applies to prefixes not yet parsed). */
  setMaxLength(maxLength: number): void {
    this.#maxLength = checkMaxLength(maxLength);
  }

  /** Adds received bytes. The chunk is kept, not copied. */
  push(chunk: Buffer): void {
    if (!this.#broken) this.#queue.push(chunk);
  }

  /**
   * Forgets every buffered byte and any partly read prefix or payload, so the
   * next byte pushed starts a new prefix. A broken decoder stays broken.
   * @returns how many received bytes were dropped (prefix bytes included).
   */
  reset(): number {
    let dropped = this.#queue.length;
    if (this.#length < 0) dropped += this.#prefixFilled;
    else dropped += this.#prefixLength + this.#payload.length;
    this.#queue.discard();
    this.#payload.clear();
    this.#prefixFilled = 0;
    this.#length = -1;
    return dropped;
  }

  /**
   * Returns the next payload, a {@link LengthLimitExceeded} (once), or `null`
   * when more bytes are needed or the stream is broken.
   */
  next(): Buffer | LengthLimitExceeded | null {
    if (this.#broken) {
      const limit = this.#limit;
      this.#limit = null;
      return limit;
    }
    const queue = this.#queue;
    if (this.#length < 0) {
      while (this.#prefixFilled < this.#prefixLength) {
        const piece = queue.readUpTo(this.#prefixLength - this.#prefixFilled);
        if (piece.length === 0) return null;
        if (piece.length === this.#prefixLength) {
          this.#length = readPrefix(piece, this.#prefixLength);
          break;
        }
        piece.copy(this.#prefix, this.#prefixFilled);
        this.#prefixFilled += piece.length;
      }
      if (this.#length < 0) this.#length = readPrefix(this.#prefix, this.#prefixLength);
      this.#prefixFilled = 0;
      if (this.#length > this.#maxLength) {
        this.#broken = true;
        queue.clear();
        return new LengthLimitExceeded(this.#length);
      }
    }
    while (this.#payload.length < this.#length) {
      const piece = queue.readUpTo(this.#length - this.#payload.length);
      if (piece.length === 0) return null;
      this.#payload.push(piece);
    }
    const payload = this.#length === 0 ? Buffer.alloc(0) : this.#payload.take();
    this.#length = -1;
    return payload;
  }

  /** Pushes `chunk` and returns everything {@link IntStringDecoder.next} yields. */
  decode(chunk: Buffer): (Buffer | LengthLimitExceeded)[] {
    this.push(chunk);
    const out: (Buffer | LengthLimitExceeded)[] = [];
    for (let item = this.next(); item !== null; item = this.next()) out.push(item);
    return out;
  }
}

function readPrefix(bytes: Buffer, prefixLength: PrefixLength): number {
  if (prefixLength === 1) return bytes.readUInt8(0);
  if (prefixLength === 2) return bytes.readUInt16BE(0);
  return bytes.readUInt32BE(0);
}

/**
 * Frames `payload` with a big-endian length prefix of `prefixLength` bytes.
 * @throws StringTooLongError if the payload's length does not fit the prefix
 *   (it must be below 2^(8 × prefixLength)).
 * @throws TypeError if `payload` is neither a Uint8Array nor a string.
 */
export function encodeIntString(payload: Uint8Array | string, prefixLength: PrefixLength): Buffer {
  const body = toBuffer(payload, 'string');
  const limit = 2 ** (8 * prefixLength);
  if (body.length >= limit) {
    throw new StringTooLongError(
      `Cannot send a string of ${body.length} bytes with a ${prefixLength}-byte length prefix (limit ${limit - 1})`,
    );
  }
  const frame = Buffer.allocUnsafe(prefixLength + body.length);
  if (prefixLength === 1) frame.writeUInt8(body.length, 0);
  else if (prefixLength === 2) frame.writeUInt16BE(body.length, 0);
  else frame.writeUInt32BE(body.length, 0);
  body.copy(frame, prefixLength);
  return frame;
}
