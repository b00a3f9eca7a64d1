// Shared helpers for @torsion/line tests: connecting a receiver to a fake
// transport, and splitting input at arbitrary points.
import type { IProtocol } from '@torsion/core';
import { StringTransport } from '@torsion/core/testing';
import fc from 'fast-check';

/** `proto` connected to a new StringTransport. */
export function connected<P extends IProtocol>(proto: P): { proto: P; transport: StringTransport } {
  const transport = new StringTransport();
  proto.makeConnection(transport);
  return { proto, transport };
}

/** Splits `data` at the given cut points (any numbers; reduced modulo the length). */
export function splitAt(data: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [
    ...new Set(cuts.map((c) => (data.length === 0 ? 0 : c % (data.length + 1)))),
  ].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of points) {
    if (point > start) chunks.push(data.subarray(start, point));
    start = Math.max(start, point);
  }
  if (start < data.length) chunks.push(data.subarray(start));
  return chunks;
}

/** One byte per chunk. */
export function bytewise(data: Buffer): Buffer[] {
  return Array.from(data, (byte) => Buffer.of(byte));
}

/** Arbitrary cut points, including the one-byte-per-chunk extreme. */
export const cutsArb = fc.oneof(
  fc.array(fc.nat(), { maxLength: 40 }),
  fc.constant(Array.from({ length: 400 }, (_, i) => i)),
);

/** Bytes drawn from a small alphabet rich in delimiter bytes, so delimiters split often. */
export const framingBytesArb = (maxLength = 200): fc.Arbitrary<Buffer> =>
  fc
    .array(fc.constantFrom(0x61, 0x62, 0x0d, 0x0a, 0x3a, 0x2c, 0x30, 0x31, 0x39, 0x00), {
      maxLength,
    })
    .map((bytes) => Buffer.from(bytes));

/** Hex of a Buffer, or a marker string: comparable with deep equality. */
export function show(item: unknown): string {
  return Buffer.isBuffer(item) ? item.toString('hex') : (item as object).constructor.name;
}
