/**
 * The one place that turns what `write()` accepts into a `Buffer`, so every
 * transport (real or fake) validates data the same way and names the bad type.
 *
 * Tests: test/write-data.test.ts
 * @module
 */
import { describeType } from '../describe-type.js';
import type { WriteData } from '../interfaces.js';

/**
 * Converts write data to a `Buffer` without copying bytes when it can.
 *
 * @param data - a `Buffer` (returned as is), another `Uint8Array` (viewed,
 *   not copied), or a string (encoded as UTF-8).
 * @returns the bytes to send.
 * @throws TypeError naming the type when `data` is neither a Uint8Array nor a string.
 * @remarks A view shares memory with the caller's array: as with Node's
 *   `socket.write`, changing the array before it is sent changes what is sent.
 */
export function toBuffer(data: WriteData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError(`write() takes a Uint8Array or a string, not ${describeType(data)}`);
}

/**
 * Checks write data without converting it, for transports that hand strings
 * straight to Node (which encodes them itself, avoiding an extra Buffer).
 *
 * @throws TypeError naming the type when `data` is neither a Uint8Array nor a string.
 */
export function assertWriteData(data: unknown): asserts data is WriteData {
  if (typeof data !== 'string' && !(data instanceof Uint8Array)) {
    throw new TypeError(`write() takes a Uint8Array or a string, not ${describeType(data)}`);
  }
}
