/**
 * The finger query grammar of RFC 1288 §2.3, as a pure parser: no I/O, so the
 * server, the client and the command share one definition of a query.
 *
 * Tests: test/query.test.ts
 * @module
 */
import { FingerQueryError } from './errors.js';
import { contains, NAME_INVISIBLE, QUERY_CONTROL } from './internal/characters.js';

/**
 * A parsed finger query.
 *
 * - `{Q1}` (`[/W] [user]`): `hosts` is empty; `kind` is `'list'` when `user` is empty.
 * - `{Q2}` (`[/W] [user]@host1@host2…`): `hosts` lists the hostnames in order,
 *   and `host` is the last one, the one a forwarding server connects to.
 */
export interface FingerQuery {
  /** `'list'` for the empty user (who is there?), `'user'` for one user. */
  readonly kind: 'user' | 'list';
  /** The user name; `''` for a list query. */
  readonly user: string;
  /** True when the query starts with the `/W` token (RFC 1288: "verbose"). */
  readonly verbose: boolean;
  /** Every `@host` of a `{Q2}` query, in order; empty for a local query. */
  readonly hosts: readonly string[];
  /** The last of {@link FingerQuery.hosts}: where a `{Q2}` query is forwarded to. */
  readonly host?: string;
}

// Spaces and tabs separate tokens; RFC 1288's {S} is only <SP>, but every
// classic client and server also accepts tabs.
const WHITESPACE = /[ \t]+/;

// fatal: invalid UTF-8 is refused rather than turned into U+FFFD, so two
// different byte strings never become one name. ignoreBOM: a leading BOM is
// kept (and refused as invisible) instead of being dropped unseen.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decodes a query line received as bytes: UTF-8, strictly.
 *
 * @remarks RFC 1288 queries are ASCII; UTF-8 lets names in other scripts
 * through. Bytes that are not UTF-8 (a Latin-1 client's `é`, a lone `0x85`)
 * are refused rather than replaced, as is anything {@link parseQuery} refuses.
 * @throws FingerQueryError if `bytes` is not valid UTF-8 (overlong forms and
 *   encoded surrogates included).
 */
export function decodeQuery(bytes: Uint8Array): string {
  try {
    return UTF8.decode(bytes);
  } catch (err) {
    throw new FingerQueryError('The query is not valid UTF-8', { cause: err });
  }
}

/**
 * Parses one query line (without its CRLF).
 *
 * @param query - the query, e.g. `'alice'`, `'/W alice'`, `''`, `'alice@example.org'`;
 *   bytes are decoded with {@link decodeQuery} first.
 * @returns the query; the `/W` token is matched case-insensitively, as
 *   BSD fingerd does, and surrounding blanks are ignored.
 * @throws FingerQueryError if the line holds control characters (C0 but TAB,
 *   DEL, C1), characters that show as nothing or as a space other than U+0020
 *   (zero-width and bidi controls, no-break spaces, …: a name holding one
 *   would look like another name), more than one user name, or an empty
 *   hostname (`alice@`, `alice@@host`); or, for bytes, invalid UTF-8.
 */
export function parseQuery(query: string | Uint8Array): FingerQuery {
  const line = typeof query === 'string' ? query : decodeQuery(query);
  if (contains(line, QUERY_CONTROL)) {
    throw new FingerQueryError('The query contains control characters');
  }
  if (contains(line, NAME_INVISIBLE)) {
    throw new FingerQueryError(
      'The query contains invisible characters or a space other than U+0020',
    );
  }
  let rest = line.trim();
  let verbose = false;
  const first = rest.split(WHITESPACE, 1)[0] ?? '';
  if (first.toUpperCase() === '/W') {
    verbose = true;
    rest = rest.slice(first.length).trim();
  }
  if (WHITESPACE.test(rest)) {
    throw new FingerQueryError('The query names more than one user');
  }
  const [user = '', ...hosts] = rest.split('@');
  if (hosts.some((host) => host === '')) {
    throw new FingerQueryError('The query has an empty hostname');
  }
  const kind = user === '' ? 'list' : 'user';
  const host = hosts.at(-1);
  return host === undefined ? { kind, user, verbose, hosts } : { kind, user, verbose, hosts, host };
}

/**
 * Writes a query back as a line (without CRLF): the inverse of {@link parseQuery}.
 * @example `formatQuery({ kind: 'user', user: 'a', verbose: true, hosts: ['h'] })` → `'/W a@h'`
 */
export function formatQuery(query: Pick<FingerQuery, 'user' | 'verbose' | 'hosts'>): string {
  const target = [query.user, ...query.hosts].join('@');
  if (!query.verbose) return target;
  return target === '' ? '/W' : `/W ${target}`;
}

/**
 * What a server that forwards a `{Q2}` query sends, and where (RFC 1288
 * §2.5.1): the same query minus its last host, to that last host. So
 * `alice@b@c` is sent to `c` as `alice@b`, and `alice@b` to `b` as `alice`.
 * @returns `null` for a local (`{Q1}`) query.
 */
export function forwardedQuery(query: FingerQuery): { host: string; line: string } | null {
  if (query.host === undefined) return null;
  return {
    host: query.host,
    line: formatQuery({
      user: query.user,
      verbose: query.verbose,
      hosts: query.hosts.slice(0, -1),
    }),
  };
}
