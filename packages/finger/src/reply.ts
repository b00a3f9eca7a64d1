/**
 * The texts a finger server replies with, and the output filter RFC 1288
 * §3.3 asks for. Pure functions: the server only writes what they return.
 *
 * Tests: test/reply.test.ts
 * @module
 */
import {
  NAME_CONTROL,
  NAME_INVISIBLE,
  REPLACEMENT,
  TEXT_CONTROL,
  TEXT_REORDERING,
} from './internal/characters.js';

/** The reply to the empty query when listing users is not allowed (Twisted's text). */
export const LIST_DENIED = 'Finger online list denied';
/** The reply to `user@host` when forwarding is off (Twisted's and in.fingerd's text). */
export const FORWARDING_DENIED = 'Finger forwarding service denied';
/** The reply to a line that is not a finger query. */
export const INVALID_QUERY = 'Invalid finger query';
/** The reply to a query line longer than the server accepts. */
export const QUERY_TOO_LONG = 'Finger query too long';
/** The reply when the user database failed (the details are logged, not sent). */
export const LOOKUP_FAILED = 'Finger service error: the user database failed';
/** The reply to a list query when the database has no users. */
export const NO_USERS = 'No users';

/**
 * Makes text safe for the reader's terminal (RFC 1288 §3.3, "Do not allow the
 * user to ... send control characters"): every control character but TAB, CR
 * and LF (ESC, DEL, the C1 controls) and every bidi embedding, override or
 * isolate is replaced with U+FFFD, visibly, rather than removed, so the text
 * shown is never a different text that happens to read well. Printable text,
 * non-ASCII included, is kept.
 */
export function sanitize(text: string): string {
  return text.replace(TEXT_CONTROL, REPLACEMENT).replace(TEXT_REORDERING, REPLACEMENT);
}

/**
 * Makes a user name safe to show: every control character (TAB included),
 * and every character that shows as nothing or as a space other than U+0020
 * (zero-width, bidi and other format characters, no-break spaces…), is
 * replaced with U+FFFD. A name that needs replacing can never look like a
 * name that does not: `ali\u200Bce` is shown as `ali\uFFFDce`, not as `alice`.
 */
export function sanitizeName(name: string): string {
  return name.replace(NAME_CONTROL, REPLACEMENT).replace(NAME_INVISIBLE, REPLACEMENT);
}

/**
 * Splits `text` into lines at CRLF, CR or LF, after {@link sanitize}. A final
 * line ending does not add an empty line; the empty text has no lines.
 */
export function toLines(text: string): string[] {
  if (text === '') return [];
  const lines = sanitize(text).split(/\r\n|\r|\n/);
  if (lines.length > 1 && lines.at(-1) === '') lines.pop();
  return lines;
}

/**
 * The lines for one user: `Login: <name>`, then the info, or `No such user`.
 * The name goes through {@link sanitizeName}, the info through {@link sanitize}.
 */
export function userReply(name: string, info: string | null): string[] {
  const header = `Login: ${sanitizeName(name)}`;
  return info === null ? [header, 'No such user'] : [header, ...toLines(info)];
}

/** The lines for a list query: one user name per line ({@link sanitizeName}), or {@link NO_USERS}. */
export function listReply(names: readonly string[]): string[] {
  return names.length === 0 ? [NO_USERS] : names.map(sanitizeName);
}

/** Joins lines into wire text: each line ends with CRLF, as RFC 1288 requires. */
export function encodeReply(lines: readonly string[]): string {
  return lines.map((line) => `${line}\r\n`).join('');
}
