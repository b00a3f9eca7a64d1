/**
 * Chunkers: functions that cut a byte string into pieces, so a test can
 * deliver data the way TCP may — in arbitrary fragments — and prove a
 * protocol does not depend on chunk boundaries.
 *
 * Tests: test/testing/chunkers.test.ts
 * @module
 */
import { mulberry32 } from './seeded-random.js';

/**
 * Cuts `data` into pieces that, concatenated, give `data` back. Empty pieces
 * are allowed and are skipped by {@link IOPump}.
 */
export type Chunker = (data: Buffer) => Buffer[];

/**
 * A chunker that cuts data into pieces of `size` bytes (the last may be shorter).
 * `fixedChunker(1)` delivers one byte at a time, the harshest case.
 *
 * @param size - bytes per piece, a positive integer.
 * @throws RangeError if `size` is not a positive integer.
 */
export function fixedChunker(size: number): Chunker {
  checkSize('size', size);
  return (data) => {
    const pieces: Buffer[] = [];
    for (let start = 0; start < data.length; start += size) {
      pieces.push(data.subarray(start, start + size));
    }
    return pieces;
  };
}

/**
 * A chunker that cuts data at pseudo-random places, reproducibly: the same
 * `seed` always gives the same cuts, so a failing test can be replayed.
 *
 * @param seed - any integer; print it when a test fails.
 * @param maxChunkSize - the largest piece, in bytes (default 16).
 * @throws RangeError if `maxChunkSize` is not a positive integer.
 * @remarks The generator is shared by every call of the returned chunker, so
 *   consecutive deliveries are cut differently but the whole sequence repeats
 *   for a given seed.
 */
export function randomChunker(seed: number, maxChunkSize = 16): Chunker {
  checkSize('maxChunkSize', maxChunkSize);
  const next = mulberry32(seed);
  return (data) => {
    const pieces: Buffer[] = [];
    let start = 0;
    while (start < data.length) {
      const size = 1 + Math.floor(next() * maxChunkSize);
      pieces.push(data.subarray(start, start + size));
      start += size;
    }
    return pieces;
  };
}

function checkSize(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer, not ${String(value)}`);
  }
}
