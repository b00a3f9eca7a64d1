/**
 * Byte helpers shared by the receivers: turning what users pass to
 * `sendLine`/`sendString`/`push` into a `Buffer`, with the same type rule as
 * Torsion's transports.
 *
 * Tests: test/bytes.test.ts
 * @module
 */
import { describeType } from '@torsion/core';

/**
 * Returns `data` as a Buffer: a string becomes its UTF-8 bytes, a Uint8Array
 * is viewed without copying.
 * @throws TypeError naming the type when `data` is neither.
 */
export function toBuffer(data: unknown, what: string): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError(`${what} must be a Uint8Array or a string, not ${describeType(data)}`);
}

/** Concatenates `parts`, whose lengths add up to `length`, without copying a lone part. */
export function joinParts(parts: readonly Buffer[], length: number): Buffer {
  const [only] = parts;
  if (parts.length === 1 && only !== undefined) return only;
  return Buffer.concat(parts, length);
}
