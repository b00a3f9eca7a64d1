/**
 * Encoders for PROXY protocol headers, v1 (text) and v2 (binary): what a
 * client prepends when it connects through a proxy chain, and what tests feed
 * the parser.
 *
 * Tests: test/encoder.test.ts, test/parser.property.test.ts
 * @module
 */
import { crc32c } from './crc32c.js';
import {
  PP2_SUBTYPE_SSL,
  PP2_TYPE,
  PROXY_V2_SIGNATURE,
  type ProxiedAddress,
  type ProxyTLV,
} from './header.js';
import { parseIPv4, parseIPv6 } from './ip.js';

/**
 * What a v1 header says: the client's and the server's TCP addresses, or
 * `null` for `PROXY UNKNOWN` (the proxy does not know them).
 */
export type ProxyV1Fields = {
  readonly source: ProxiedAddress;
  readonly destination: ProxiedAddress;
} | null;

/** The SSL information of a v2 header ({@link ProxyV2Fields.ssl}). */
export interface ProxyV2SSLFields {
  readonly client: number;
  readonly verify?: number;
  readonly version?: string;
  readonly commonName?: string;
  readonly cipher?: string;
  readonly signatureAlgorithm?: string;
  readonly keyAlgorithm?: string;
}

/** What a v2 header says; every field but `command` is optional. */
export interface ProxyV2Fields {
  /** `PROXY` (default) relays a client; `LOCAL` is the proxy speaking for itself (health checks). */
  readonly command?: 'PROXY' | 'LOCAL';
  /** Both or neither; both of one family. Neither (or `LOCAL`) sends family `UNSPEC`. */
  readonly source?: ProxiedAddress | null;
  readonly destination?: ProxiedAddress | null;
  /** `STREAM` unless the addresses are UDP ones. */
  readonly transport?: 'STREAM' | 'DGRAM';
  readonly alpn?: Uint8Array | string;
  readonly authority?: string;
  readonly uniqueId?: Uint8Array | string;
  readonly ssl?: ProxyV2SSLFields;
  readonly netns?: string;
  /** More TLVs, written after the ones above in the order given. */
  readonly tlvs?: readonly { readonly type: number; readonly value: Uint8Array }[];
  /** Add a `PP2_TYPE_CRC32C` TLV with the header's checksum. Default `false`. */
  readonly checksum?: boolean;
}

/**
 * A v1 header: `PROXY TCP4 <src> <dst> <sport> <dport>\r\n` (`TCP6` for IPv6
 * addresses) or `PROXY UNKNOWN\r\n`.
 * @throws TypeError naming the field when an address is not an IP address of
 * the same family as the other.
 */
export function encodeProxyV1(fields: ProxyV1Fields): Buffer {
  if (fields === null) return Buffer.from('PROXY UNKNOWN\r\n', 'latin1');
  const { source, destination } = fields;
  if (source.family === 'UNIX' || destination.family === 'UNIX') {
    throw new TypeError(
      'encodeProxyV1: source and destination must be IP addresses: v1 cannot carry UNIX ones',
    );
  }
  if (source.family !== destination.family) {
    throw new TypeError(
      `encodeProxyV1: source is ${source.family} but destination is ${destination.family}`,
    );
  }
  const v4 = source.family === 'IPv4';
  for (const [name, address] of [
    ['source', source],
    ['destination', destination],
  ] as const) {
    if ((v4 ? parseIPv4 : parseIPv6)(address.host) === null) {
      throw new TypeError(
        `encodeProxyV1: ${name}.host '${address.host}' is not an ${address.family} literal`,
      );
    }
    checkPort(`encodeProxyV1: ${name}.port`, address.port);
  }
  return Buffer.from(
    `PROXY ${v4 ? 'TCP4' : 'TCP6'} ${source.host} ${destination.host} ${String(source.port)} ${String(destination.port)}\r\n`,
    'latin1',
  );
}

/**
 * A v2 header with the addresses and TLVs given.
 * @throws TypeError or RangeError naming the field that cannot be encoded.
 */
export function encodeProxyV2(fields: ProxyV2Fields = {}): Buffer {
  const command = fields.command ?? 'PROXY';
  const source = fields.source ?? null;
  const destination = fields.destination ?? null;
  if ((source === null) !== (destination === null)) {
    throw new TypeError('encodeProxyV2: give both source and destination, or neither');
  }
  let famByte = 0x00;
  let addresses = Buffer.alloc(0);
  if (source !== null && destination !== null) {
    if (source.family !== destination.family) {
      throw new TypeError(
        `encodeProxyV2: source is ${source.family} but destination is ${destination.family}`,
      );
    }
    const transportCode =
      (fields.transport ?? (source.type === 'UDP' ? 'DGRAM' : 'STREAM')) === 'DGRAM' ? 0x2 : 0x1;
    if (source.family === 'UNIX' || destination.family === 'UNIX') {
      famByte = 0x30 | transportCode;
      addresses = Buffer.alloc(216);
      unixBytes('source', source.family === 'UNIX' ? source.name : null).copy(addresses, 0);
      unixBytes('destination', destination.family === 'UNIX' ? destination.name : null).copy(
        addresses,
        108,
      );
    } else {
      const v4 = source.family === 'IPv4';
      famByte = (v4 ? 0x10 : 0x20) | transportCode;
      const size = v4 ? 4 : 16;
      addresses = Buffer.alloc(size * 2 + 4);
      for (const [i, name, address] of [
        [0, 'source', source],
        [1, 'destination', destination],
      ] as const) {
        const bytes = (v4 ? parseIPv4 : parseIPv6)(address.host);
        if (bytes === null) {
          throw new TypeError(
            `encodeProxyV2: ${name}.host '${address.host}' is not an ${address.family} literal`,
          );
        }
        addresses.set(bytes, i * size);
        checkPort(`encodeProxyV2: ${name}.port`, address.port);
        addresses.writeUInt16BE(address.port, size * 2 + i * 2);
      }
    }
  }
  const tlvs: ProxyTLV[] = [];
  const add = (type: number, value: Uint8Array | string): void => {
    tlvs.push({
      type,
      value: typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value),
    });
  };
  if (fields.alpn !== undefined) add(PP2_TYPE.ALPN, fields.alpn);
  if (fields.authority !== undefined) add(PP2_TYPE.AUTHORITY, fields.authority);
  if (fields.uniqueId !== undefined) {
    add(PP2_TYPE.UNIQUE_ID, fields.uniqueId);
    const length = tlvs.at(-1)?.value.length ?? 0;
    if (length > 128)
      throw new RangeError(`encodeProxyV2: uniqueId is ${String(length)} bytes, over 128`);
  }
  if (fields.ssl !== undefined) add(PP2_TYPE.SSL, sslValue(fields.ssl));
  if (fields.netns !== undefined) add(PP2_TYPE.NETNS, fields.netns);
  for (const tlv of fields.tlvs ?? []) {
    if (!Number.isInteger(tlv.type) || tlv.type < 0 || tlv.type > 0xff) {
      throw new RangeError(`encodeProxyV2: tlvs[].type ${String(tlv.type)} is not 0..255`);
    }
    add(tlv.type, tlv.value);
  }
  const checksumAt =
    fields.checksum === true ? 16 + addresses.length + tlvBytes(tlvs).length + 3 : -1;
  if (fields.checksum === true) add(PP2_TYPE.CRC32C, Buffer.alloc(4));
  const body = Buffer.concat([addresses, tlvBytes(tlvs)]);
  if (body.length > 0xffff) {
    throw new RangeError(
      `encodeProxyV2: the addresses and TLVs are ${String(body.length)} bytes, over 65535`,
    );
  }
  const fixed = Buffer.alloc(16);
  PROXY_V2_SIGNATURE.copy(fixed, 0);
  fixed[12] = command === 'PROXY' ? 0x21 : 0x20;
  fixed[13] = famByte;
  fixed.writeUInt16BE(body.length, 14);
  const header = Buffer.concat([fixed, body]);
  if (checksumAt >= 0) header.writeUInt32BE(crc32c(header), checksumAt);
  return header;
}

function tlvBytes(tlvs: readonly ProxyTLV[]): Buffer {
  return Buffer.concat(
    tlvs.map((tlv) => {
      if (tlv.value.length > 0xffff) {
        throw new RangeError(
          `encodeProxyV2: TLV 0x${tlv.type.toString(16)} is ${String(tlv.value.length)} bytes, over 65535`,
        );
      }
      const head = Buffer.alloc(3);
      head[0] = tlv.type;
      head.writeUInt16BE(tlv.value.length, 1);
      return Buffer.concat([head, tlv.value]);
    }),
  );
}

function sslValue(ssl: ProxyV2SSLFields): Buffer {
  const head = Buffer.alloc(5);
  if (!Number.isInteger(ssl.client) || ssl.client < 0 || ssl.client > 0xff) {
    throw new RangeError(`encodeProxyV2: ssl.client ${String(ssl.client)} is not 0..255`);
  }
  head[0] = ssl.client;
  head.writeUInt32BE(ssl.verify ?? 0, 1);
  const subs: ProxyTLV[] = [];
  for (const [type, text] of [
    [PP2_SUBTYPE_SSL.VERSION, ssl.version],
    [PP2_SUBTYPE_SSL.CN, ssl.commonName],
    [PP2_SUBTYPE_SSL.CIPHER, ssl.cipher],
    [PP2_SUBTYPE_SSL.SIG_ALG, ssl.signatureAlgorithm],
    [PP2_SUBTYPE_SSL.KEY_ALG, ssl.keyAlgorithm],
  ] as const) {
    if (text !== undefined) subs.push({ type, value: Buffer.from(text, 'utf8') });
  }
  return Buffer.concat([head, tlvBytes(subs)]);
}

function unixBytes(name: string, path: string | null): Buffer {
  const bytes = Buffer.from(path ?? '', 'utf8');
  if (bytes.length > 108) {
    throw new RangeError(
      `encodeProxyV2: ${name}.name is ${String(bytes.length)} bytes, over the 108 a UNIX address holds`,
    );
  }
  return bytes;
}

function checkPort(field: string, port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) {
    throw new RangeError(`${field} ${String(port)} is not 0..65535`);
  }
}
