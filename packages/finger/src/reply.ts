/**
 * The texts a finger server replies with, and the output filter RFC 1288
 * §3.3 asks for. Pure functions: the server only writes what they return.
 *
 * Tests: test/reply.test.ts
 * @module
 */

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

// Control characters other than TAB, CR and LF, DEL, and the C1 controls
// (U+0080-U+009F): a terminal may act on any of them (RFC 1288 §3.3).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/g;

/**
 * Removes the characters a terminal could act on: every control character
 * except TAB, CR and LF (RFC 1288 §3.3, "Do not allow the user to ... send
 * control characters"). Printable text, including non-ASCII, is kept.
 */
export function sanitize(text: string): string {
  return text.replace(UNSAFE, '');
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

/** The lines for one user: `Login: <name>`, then the info, or `No such user`. */
export function userReply(name: string, info: string | null): string[] {
  const header = `Login: ${sanitize(name)}`;
  return info === null ? [header, 'No such user'] : [header, ...toLines(info)];
}

/** The lines for a list query: one user name per line, or {@link NO_USERS}. */
export function listReply(names: readonly string[]): string[] {
  return names.length === 0 ? [NO_USERS] : names.map(sanitize);
}

/** Joins lines into wire text: each line ends with CRLF, as RFC 1288 requires. */
export function encodeReply(lines: readonly string[]): string {
  return lines.map((line) => `${line}\r\n`).join('');
}
