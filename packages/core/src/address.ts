/**
 * Endpoint addresses, as `getHost()`/`getPeer()` return them and
 * `buildProtocol(addr)` receives them.
 *
 * Tests: test/address.test.ts
 * @module
 */
import { isIPv6 } from 'node:net';

/** The transport kind of an address; Torsion's TCP transports use `'TCP'`. */
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

/** Any address a transport reports. */
export type IAddress = IPv4Address | IPv6Address;

/**
 * Builds the right address class for a literal host. A host name that is not
 * an IP literal (a connector's destination before resolution) is reported as
 * IPv4, as Twisted does.
 */
export function addressFor(type: AddressType, host: string, port: number): IAddress {
  return isIPv6(host.split('%')[0] ?? host)
    ? new IPv6Address(type, host, port)
    : new IPv4Address(type, host, port);
}
