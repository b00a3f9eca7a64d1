/**
 * Cheap Buffer views. `Buffer#subarray` goes through the typed-array species
 * lookup and costs about twice as much as constructing the view directly;
 * on 64-byte lines that is most of the time spent per line. A `LineView` is a
 * Uint8Array subclass whose prototype chain includes `Buffer.prototype`, the
 * same arrangement Node uses for its own Buffers, so it is a real Buffer:
 * `Buffer.isBuffer()` is true and every Buffer method works on it.
 *
 * Tests: test/buffer-view.test.ts
 * @module
 */

class LineView extends Uint8Array {
  // An explicit three-argument constructor: the implicit `(...args)` one is
  // measurably slower to call.
  // eslint-disable-next-line @typescript-eslint/no-useless-constructor -- see above
  constructor(buffer: ArrayBuffer, byteOffset: number, length: number) {
    super(buffer, byteOffset, length);
  }
}
Object.setPrototypeOf(LineView.prototype, Buffer.prototype as object);

/** A Buffer sharing `source`'s memory from `start` (inclusive) to `end` (exclusive). */
export function view(source: Buffer, start: number, end: number): Buffer {
  return new LineView(
    source.buffer as ArrayBuffer,
    source.byteOffset + start,
    end - start,
  ) as unknown as Buffer;
}

/**
 * A Buffer over `length` bytes of `memory` from `byteOffset`. For loops that
 * cut many views from one chunk: reading a chunk's `.buffer` and
 * `.byteOffset` once, instead of per view, is a large part of the saving.
 */
export function viewOf(memory: ArrayBuffer, byteOffset: number, length: number): Buffer {
  return new LineView(memory, byteOffset, length) as unknown as Buffer;
}
