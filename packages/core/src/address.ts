/**
 * Endpoint addresses, as `getHost()`/`getPeer()` return them and
 * `buildProtocol(addr)` receives them.
 *
 * Tests: test/address.test.ts
 * @module
 */
import { isIPv6 } from 'node:net';

/** The transport kind of an IP address; Torsion's TCP (and TLS) transports use `'TCP'`. */
export type AddressType = 'TCP' | 'UDP';

/** An IPv4 endpoint. */
export class IPv4Address {
  readonly family = 'IPv4' as const;
  constructor(
    readonly type: AddressType,
    readonly host: string,
    readonly port: number,
  ) {}

  toString(): string {
    return `${this.host}:${String(this.port)}`;
  }
}

/** An IPv6 endpoint; `host` has no brackets and may carry a `%scope`. */
export class IPv6Address {
  readonly family = 'IPv6' as const;
  constructor(
    readonly type: AddressType,
    readonly host: string,
    readonly port: number,
  ) {}

  toString(): string {
    return `[${this.host}]:${String(this.port)}`;
  }
}

/**
 * A UNIX-domain socket address. `name` is the path; a Linux abstract-namespace
 * name starts with a NUL character (`'\0name'`, shown as `@name`); `null` is
 * an unnamed socket (a UNIX client's own end, as the kernel reports it).
 */
export class UNIXAddress {
  readonly family = 'UNIX' as const;
  readonly type = 'UNIX' as const;
  constructor(readonly name: string | null) {}

  toString(): string {
    if (this.name === null) return '<unnamed UNIX socket>';
    return this.name.startsWith('\0') ? `@${this.name.slice(1)}` : this.name;
  }
}

/** An IP address: what TCP, TLS and UDP transports report. */
export type INETAddress = IPv4Address | IPv6Address;

/**
 * Any address a transport reports: an IP address, or a UNIX socket's.
 * Narrow on `family` (`'IPv4'`, `'IPv6'`, `'UNIX'`) before reading
 * `host`/`port` or `name`; a TCP transport's `getHost()`/`getPeer()` are
 * already typed {@link INETAddress}.
 */
export type IAddress = INETAddress | UNIXAddress;

/**
 * Builds the right address class for a literal host. A host name that is not
 * an IP literal (a connector's destination before resolution) is reported as
 * IPv4, as Twisted does.
 */
export function addressFor(type: AddressType, host: string, port: number): INETAddress {
  // No split(): this runs for every accepted connection.
  const zone = host.indexOf('%');
  return isIPv6(zone < 0 ? host : host.slice(0, zone))
    ? new IPv6Address(type, host, port)
    : new IPv4Address(type, host, port);
}
