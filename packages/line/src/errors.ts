/**
 * Errors of the framing receivers. Each has a stable `code`, as every
 * {@link TorsionError} does.
 *
 * Tests: test/errors.test.ts
 * @module
 */
import { TorsionError } from '@torsion/core';

/**
 * The peer sent bytes that are not a netstring (`<digits>:<payload>,`), or
 * announced one longer than the receiver's `MAX_LENGTH`.
 */
export class NetstringParseError extends TorsionError {
  override readonly code: string = 'TORSION_ERR_NETSTRING_PARSE';
}

/**
 * A string is too long for its length prefix (255 bytes for
 * `Int8StringReceiver`, 65535 for `Int16StringReceiver`, 2^32 - 1 for
 * `Int32StringReceiver`), so it cannot be sent.
 */
export class StringTooLongError extends TorsionError {
  override readonly code: string = 'TORSION_ERR_STRING_TOO_LONG';
}
