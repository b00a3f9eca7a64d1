/**
 * The finger query grammar of RFC 1288 §2.3, as a pure parser: no I/O, so the
 * server, the client and the command share one definition of a query.
 *
 * Tests: test/query.test.ts
 * @module
 */
import { FingerQueryError } from './errors.js';

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
// C0 controls but TAB, and DEL (CRLF never reaches the parser: it ends the line).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

/**
 * Parses one query line (without its CRLF).
 *
 * @param line - the query, e.g. `'alice'`, `'/W alice'`, `''`, `'alice@example.org'`.
 * @returns the query; the `/W` token is matched case-insensitively, as
 *   BSD fingerd does, and surrounding blanks are ignored.
 * @throws FingerQueryError if the line holds control characters, more than one
 *   user name, or an empty hostname (`alice@`, `alice@@host`).
 */
export function parseQuery(line: string): FingerQuery {
  if (CONTROL.test(line)) throw new FingerQueryError('The query contains control characters');
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
