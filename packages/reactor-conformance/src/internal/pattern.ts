/**
 * A reproducible byte stream and its checker: the writer sends consecutive
 * slices of it, the reader checks every byte lands at its position. Large
 * transfers are then verified for loss, duplication and reordering without
 * keeping them in memory.
 * @module
 */

/** Length of the repeating block: prime, so it never lines up with chunk or buffer sizes. */
const PERIOD = 65_521;

function makeBlock(): Buffer {
  const block = Buffer.allocUnsafe(PERIOD * 2);
  // A fixed linear congruential generator: the same bytes on every run and every runtime.
  let state = 0x2545f491;
  for (let i = 0; i < PERIOD; i++) {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    block[i] = state >>> 24;
  }
  // Doubled, so any slice of up to PERIOD bytes from any offset is contiguous.
  block.copy(block, PERIOD, 0, PERIOD);
  return block;
}

const BLOCK = makeBlock();

/** The bytes of the stream from `position`, `length` long (a fresh Buffer). */
export function patternBytes(position: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const offset = (position + done) % PERIOD;
    const n = Math.min(length - done, PERIOD);
    BLOCK.copy(out, done, offset, offset + n);
    done += n;
  }
  return out;
}

/** Hands out consecutive slices of the stream. */
export class PatternSource {
  /** Bytes handed out so far. */
  position = 0;

  /** The next `length` bytes. */
  next(length: number): Buffer {
    const bytes = patternBytes(this.position, length);
    this.position += length;
    return bytes;
  }
}

/** Checks arriving bytes against the stream, from position 0. */
export class PatternChecker {
  /** Bytes checked so far. */
  position = 0;
  /** Stream position of the first wrong byte, or null while all matched. */
  mismatchAt: number | null = null;

  feed(data: Buffer): void {
    let done = 0;
    while (done < data.length && this.mismatchAt === null) {
      const offset = this.position % PERIOD;
      const n = Math.min(data.length - done, PERIOD - offset);
      const got = data.subarray(done, done + n);
      if (!got.equals(BLOCK.subarray(offset, offset + n))) {
        let i = 0;
        while (got[i] === BLOCK[offset + i]) i++;
        this.mismatchAt = this.position + i;
      }
      this.position += n;
      done += n;
    }
    if (this.mismatchAt !== null) this.position += data.length - done;
  }
}
