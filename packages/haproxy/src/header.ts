/**
 * What a PROXY protocol header says: the types the parser produces and the
 * encoders take, and the v2 constants (signature, TLV types).
 *
 * Tests: test/parser.test.ts, test/encoder.test.ts
 * @module
 */
import type { IPv4Address, IPv6Address, UNIXAddress } from '@torsion/core';

/** The 12 bytes every v2 header starts with. */
export const PROXY_V2_SIGNATURE: Buffer = Buffer.from([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
]);

/** The longest v1 header, CRLF included (the specification's 107 bytes). */
export const PROXY_V1_MAX_LENGTH = 107;

/** The longest v2 header: 16 fixed bytes and a 16-bit length. */
export const PROXY_V2_MAX_LENGTH = 16 + 0xffff;

/** v2 TLV types the specification defines. */
export const PP2_TYPE = {
  ALPN: 0x01,
  AUTHORITY: 0x02,
  CRC32C: 0x03,
  NOOP: 0x04,
  UNIQUE_ID: 0x05,
  SSL: 0x20,
  NETNS: 0x30,
} as const;

/** Sub-TLV types inside a `PP2_TYPE_SSL` TLV. */
export const PP2_SUBTYPE_SSL = {
  VERSION: 0x21,
  CN: 0x22,
  CIPHER: 0x23,
  SIG_ALG: 0x24,
  KEY_ALG: 0x25,
} as const;

/** Bits of the SSL TLV's `client` field. */
export const PP2_CLIENT = {
  SSL: 0x01,
  CERT_CONN: 0x02,
  CERT_SESS: 0x04,
} as const;

/** An address a PROXY header carries: IP (TCP or UDP) or a UNIX socket's. */
export type ProxiedAddress = IPv4Address | IPv6Address | UNIXAddress;

/** One type-length-value entry of a v2 header, as received. */
export interface ProxyTLV {
  readonly type: number;
  readonly value: Buffer;
}

/** The `PP2_TYPE_SSL` TLV: how the client reached the proxy over TLS. */
export interface ProxySSLInfo {
  /** The `client` bit field ({@link PP2_CLIENT}). */
  readonly client: number;
  /** True when the client connected over TLS (`PP2_CLIENT_SSL`). */
  readonly ssl: boolean;
  /** True when the client presented a certificate (on this connection or its session). */
  readonly clientCertificate: boolean;
  /** 0 when the client certificate was verified (or none was presented). */
  readonly verify: number;
  readonly version: string | null;
  readonly commonName: string | null;
  readonly cipher: string | null;
  readonly signatureAlgorithm: string | null;
  readonly keyAlgorithm: string | null;
  /** Every sub-TLV, the ones above included, in order. */
  readonly tlvs: readonly ProxyTLV[];
}

/**
 * A v1 (text) header. `source`/`destination` are `null` for `UNKNOWN`: the
 * proxy does not know them, so the connection's own addresses stand.
 */
export interface ProxyHeaderV1 {
  readonly version: 1;
  readonly command: 'PROXY';
  readonly protocol: 'TCP4' | 'TCP6' | 'UNKNOWN';
  readonly source: IPv4Address | IPv6Address | null;
  readonly destination: IPv4Address | IPv6Address | null;
}

/**
 * A v2 (binary) header. `LOCAL` (a health check, or the proxy speaking for
 * itself) and an `UNSPEC` family or transport leave `source`/`destination`
 * `null`: the connection's own addresses stand, as the specification says.
 */
export interface ProxyHeaderV2 {
  readonly version: 2;
  readonly command: 'PROXY' | 'LOCAL';
  readonly family: 'UNSPEC' | 'INET' | 'INET6' | 'UNIX';
  readonly transport: 'UNSPEC' | 'STREAM' | 'DGRAM';
  readonly source: ProxiedAddress | null;
  readonly destination: ProxiedAddress | null;
  /** Every TLV in order, the ones decoded below included. */
  readonly tlvs: readonly ProxyTLV[];
  /** The protocol the client negotiated with ALPN (`PP2_TYPE_ALPN`), e.g. `h2`. */
  readonly alpn: Buffer | null;
  /** The host name the client asked for (`PP2_TYPE_AUTHORITY`, TLS SNI), as UTF-8. */
  readonly authority: string | null;
  /** The proxy's unique ID of the connection (`PP2_TYPE_UNIQUE_ID`, up to 128 bytes). */
  readonly uniqueId: Buffer | null;
  readonly ssl: ProxySSLInfo | null;
  /** The network namespace name (`PP2_TYPE_NETNS`). */
  readonly netns: string | null;
  /** The checksum the header carried (`PP2_TYPE_CRC32C`), already verified unless disabled. */
  readonly crc32c: number | null;
}

/** A parsed PROXY header of either version; narrow on `version`. */
export type ProxyHeader = ProxyHeaderV1 | ProxyHeaderV2;
