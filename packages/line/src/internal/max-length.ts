/**
 * The length-limit check of every decoder in the package, so that
 * `LineDecoder`, `NetstringDecoder` and `IntStringDecoder` reject a bad
 * `maxLength` with the same RangeError.
 *
 * Tests: test/line-decoder.test.ts, test/netstring-decoder.test.ts, test/int-string-decoder.test.ts
 * @module
 */

/**
 * Returns `maxLength` when it is a usable limit in bytes.
 * @throws RangeError unless it is a non-negative safe integer.
 */
export function checkMaxLength(maxLength: number): number {
  if (!Number.isSafeInteger(maxLength) || maxLength < 0) {
    throw new RangeError(`maxLength must be a non-negative integer, not ${String(maxLength)}`);
  }
  return maxLength;
}
