/**
 * The `[user]@host[:port]` argument of the `torsion-finger` command, parsed
 * the way the classic `finger` client reads it: the last `@` separates the
 * query from the server, so `alice@b@c` asks `c` for `alice@b`.
 *
 * Tests: test/target.test.ts
 * @module
 */

/** Where to send which query. */
export interface FingerTarget {
  /** The query to send (a user, `''` to list, or `user@host…` to forward). */
  readonly query: string;
  /** The server: a host name, an IPv4 address, or an IPv6 address without brackets. */
  readonly host: string;
  /** The server's port. */
  readonly port: number;
}

/**
 * Parses `user@host`, `@host`, `user@host:port`, `user@[::1]:7979`, `user@[::1]`
 * or `user@::1` (a bare IPv6 address has no port).
 * @param defaultPort - the port when none is given (79).
 * @throws Error with a message fit for a usage line when the argument has no
 *   host or a bad port.
 */
export function parseTarget(argument: string, defaultPort = 79): FingerTarget {
  const at = argument.lastIndexOf('@');
  if (at < 0) throw new Error(`missing @host in "${argument}"`);
  const query = argument.slice(0, at);
  const server = argument.slice(at + 1);
  let host: string;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(server);
  if (bracketed !== null) {
    host = bracketed[1] ?? '';
    portText = bracketed[2];
  } else if (server.indexOf(':') !== server.lastIndexOf(':')) {
    host = server;
  } else {
    const colon = server.indexOf(':');
    host = colon < 0 ? server : server.slice(0, colon);
    portText = colon < 0 ? undefined : server.slice(colon + 1);
  }
  if (host === '') throw new Error(`missing host in "${argument}"`);
  let port = defaultPort;
  if (portText !== undefined) {
    port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
    if (!(port >= 1 && port <= 65535)) throw new Error(`bad port "${portText}" in "${argument}"`);
  }
  return { query, host, port };
}
