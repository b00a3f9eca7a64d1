/**
 * Errors raised by `@torsion/finger`, each with a stable `code`.
 *
 * Tests: test/query.test.ts, test/finger-client.test.ts (where each is raised)
 * @module
 */
import { TorsionError } from '@torsion/core';

/** A finger query line does not follow RFC 1288's grammar. */
export class FingerQueryError extends TorsionError {
  override readonly code: string = 'TORSION_ERR_FINGER_QUERY';
}

/** A finger server sent a reply longer than the client accepts. */
export class FingerReplyTooLongError extends TorsionError {
  override readonly code: string = 'TORSION_ERR_FINGER_REPLY_TOO_LONG';
}
