/**
 * `ProxyHeaderParser`: reads a PROXY protocol header (v1 text or v2 binary)
 * from the first bytes of a connection, pure (sans-I/O). Bytes go in, and out
 * comes the header with the bytes that followed it, or a
 * {@link ProxyHeaderError} naming what is wrong.
 *
 * Tests: test/parser.test.ts, test/parser.property.test.ts, test/wrapping-factory.test.ts
 * @module
 */
import { IPv4Address, IPv6Address, UNIXAddress, type AddressType } from '@torsion/core';
import { crc32c } from './crc32c.js';
import { ProxyHeaderError } from './errors.js';
import {
  PP2_CLIENT,
  PP2_SUBTYPE_SSL,
  PP2_TYPE,
  PROXY_V1_MAX_LENGTH,
  PROXY_V2_MAX_LENGTH,
  PROXY_V2_SIGNATURE,
  type ProxiedAddress,
  type ProxyHeader,
  type ProxyHeaderV1,
  type ProxyHeaderV2,
  type ProxySSLInfo,
  type ProxyTLV,
} from './header.js';
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from './ip.js';

/** Options of {@link ProxyHeaderParser}. */
export interface ProxyHeaderParserOptions {
  /**
   * The longest v2 header accepted, the 16 fixed bytes included. Default
   * (and most) 65551: the length field's whole range.
   */
  readonly maxV2Length?: number;
  /**
   * Check a v2 header's `PP2_TYPE_CRC32C` TLV when it has one, and refuse the
   * header on a mismatch, as the specification asks. Default `true`.
   */
  readonly verifyChecksum?: boolean;
}

/** What {@link ProxyHeaderParser.feed} returns. */
export type ProxyParseResult =
  /** More bytes are needed; everything so far may still be a header. */
  | { readonly kind: 'incomplete' }
  /** The header, and the bytes after it (possibly empty), untouched. */
  | { readonly kind: 'header'; readonly header: ProxyHeader; readonly rest: Buffer }
  /** Not a valid header: the connection should be closed. */
  | { readonly kind: 'error'; readonly error: ProxyHeaderError };

const INCOMPLETE: ProxyParseResult = { kind: 'incomplete' };
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
const CR = 0x0d;
const LF = 0x0a;

/**
 * Reads one PROXY header, in as many chunks as it arrives in: a header split
 * at any byte is buffered until it is whole. The version is decided from the
 * first byte (`P` for v1, CR for v2); bytes that stop matching either are an
 * error as soon as they arrive, so garbage is refused without waiting.
 *
 * @remarks
 * One parser reads one header. Once it has returned a header or an error,
 * feeding it more is a programmer error and throws.
 *
 * v1 is parsed strictly: single spaces, `TCP4` with dotted quads, `TCP6` with
 * IPv6 literals, ports 0..65535 in decimal without leading zeros, CRLF, at
 * most 107 bytes; `UNKNOWN` may be followed by anything up to the CRLF.
 */
export class ProxyHeaderParser {
  readonly #maxV2Length: number;
  readonly #verifyChecksum: boolean;
  #buffer: Buffer = Buffer.alloc(0);
  #done = false;

  constructor(options: ProxyHeaderParserOptions = {}) {
    const max = options.maxV2Length ?? PROXY_V2_MAX_LENGTH;
    if (!Number.isInteger(max) || max < 16 || max > PROXY_V2_MAX_LENGTH) {
      throw new RangeError(
        `maxV2Length: expected an integer from 16 to ${String(PROXY_V2_MAX_LENGTH)}, got ${String(max)}`,
      );
    }
    this.#maxV2Length = max;
    this.#verifyChecksum = options.verifyChecksum ?? true;
  }

  /** How many bytes are buffered, waiting for the rest of the header. */
  get buffered(): number {
    return this.#buffer.length;
  }

  /**
   * Adds received bytes and says whether the header is complete. The parser
   * keeps a copy of what it waits with, never `chunk` itself, so `chunk` may
   * be a read buffer that is reused once the call returns; a `rest` returned
   * may be a view of `chunk`, valid as long as `chunk` is.
   */
  feed(chunk: Uint8Array): ProxyParseResult {
    if (this.#done) throw new Error('ProxyHeaderParser.feed: this parser has already finished');
    const view = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const kept = this.#buffer.length === 0 ? view : Buffer.concat([this.#buffer, view]);
    this.#buffer = kept;
    const result = this.#parse();
    if (result.kind !== 'incomplete') {
      this.#done = true;
      this.#buffer = Buffer.alloc(0);
    } else if (kept === view) {
      this.#buffer = Buffer.from(view); // a copy: `chunk` may change after this call
    }
    return result;
  }

  #parse(): ProxyParseResult {
    const buf = this.#buffer;
    if (buf.length === 0) return INCOMPLETE;
    if (buf[0] === V1_PREFIX[0]) return this.#parseV1(buf);
    if (buf[0] === PROXY_V2_SIGNATURE[0]) return this.#parseV2(buf);
    return fail(
      'the connection does not start with a PROXY header (v1 "PROXY " or the v2 signature)',
    );
  }

  #parseV1(buf: Buffer): ProxyParseResult {
    const prefix = Math.min(buf.length, V1_PREFIX.length);
    if (!buf.subarray(0, prefix).equals(V1_PREFIX.subarray(0, prefix))) {
      return fail('v1 header: does not start with "PROXY "');
    }
    const limit = Math.min(buf.length, PROXY_V1_MAX_LENGTH);
    for (let i = 0; i < limit; i++) {
      const byte = buf[i] ?? 0;
      if (byte === LF) {
        if (i === 0 || buf[i - 1] !== CR)
          return fail('v1 header: a line feed without a carriage return');
        const parsed = parseV1Line(buf.toString('latin1', 0, i - 1));
        if (parsed instanceof ProxyHeaderError) return { kind: 'error', error: parsed };
        return { kind: 'header', header: parsed, rest: buf.subarray(i + 1) };
      }
      if (byte === CR && i + 1 < buf.length && buf[i + 1] !== LF) {
        return fail('v1 header: a carriage return not followed by a line feed');
      }
      if (byte !== CR && (byte < 0x20 || byte > 0x7e)) {
        return fail(
          `v1 header: byte 0x${byte.toString(16).padStart(2, '0')} at offset ${String(i)} is not printable ASCII`,
        );
      }
    }
    if (buf.length >= PROXY_V1_MAX_LENGTH) {
      return fail(`v1 header: no CRLF within ${String(PROXY_V1_MAX_LENGTH)} bytes (too long)`);
    }
    return INCOMPLETE;
  }

  #parseV2(buf: Buffer): ProxyParseResult {
    const prefix = Math.min(buf.length, PROXY_V2_SIGNATURE.length);
    if (!buf.subarray(0, prefix).equals(PROXY_V2_SIGNATURE.subarray(0, prefix))) {
      return fail('v2 header: the signature does not match');
    }
    if (buf.length < 13) return INCOMPLETE;
    const verCmd = buf.readUInt8(12);
    if (verCmd >> 4 !== 2) return fail(`v2 header: version ${String(verCmd >> 4)} is not 2`);
    const command = verCmd & 0x0f;
    if (command > 1)
      return fail(`v2 header: command ${String(command)} is neither LOCAL (0) nor PROXY (1)`);
    if (buf.length < 14) return INCOMPLETE;
    const famByte = buf.readUInt8(13);
    const family = FAMILIES[famByte >> 4];
    const transport = TRANSPORTS[famByte & 0x0f];
    if (family === undefined)
      return fail(`v2 header: address family ${String(famByte >> 4)} is not 0..3`);
    if (transport === undefined)
      return fail(`v2 header: transport protocol ${String(famByte & 0x0f)} is not 0..2`);
    if (buf.length < 16) return INCOMPLETE;
    const total = 16 + buf.readUInt16BE(14);
    if (total > this.#maxV2Length) {
      return fail(
        `v2 header: length ${String(total)} is over the limit of ${String(this.#maxV2Length)} bytes (too long)`,
      );
    }
    if (buf.length < total) return INCOMPLETE;
    const parsed = parseV2Body(
      buf.subarray(0, total),
      command === 1 ? 'PROXY' : 'LOCAL',
      family,
      transport,
      this.#verifyChecksum,
    );
    if (parsed instanceof ProxyHeaderError) return { kind: 'error', error: parsed };
    return { kind: 'header', header: parsed, rest: buf.subarray(total) };
  }
}

/** Parses a whole header held in one buffer (a convenience over {@link ProxyHeaderParser}). */
export function parseProxyHeader(
  bytes: Uint8Array,
  options?: ProxyHeaderParserOptions,
): ProxyParseResult {
  return new ProxyHeaderParser(options).feed(bytes);
}

function fail(message: string): ProxyParseResult {
  return { kind: 'error', error: new ProxyHeaderError(message) };
}

const FAMILIES = ['UNSPEC', 'INET', 'INET6', 'UNIX'] as const;
const TRANSPORTS = ['UNSPEC', 'STREAM', 'DGRAM'] as const;
const ADDRESS_LENGTH = { UNSPEC: 0, INET: 12, INET6: 36, UNIX: 216 } as const;

function parseV1Line(line: string): ProxyHeaderV1 | ProxyHeaderError {
  // line is "PROXY ..." without the CRLF; only printable ASCII reaches here.
  const fields = line.split(' ');
  const protocol = fields[1];
  if (protocol === 'UNKNOWN') {
    return { version: 1, command: 'PROXY', protocol, source: null, destination: null };
  }
  if (protocol !== 'TCP4' && protocol !== 'TCP6') {
    return new ProxyHeaderError(
      `v1 header: protocol '${protocol ?? ''}' is not TCP4, TCP6 or UNKNOWN`,
    );
  }
  if (fields.length !== 6) {
    return new ProxyHeaderError(
      `v1 header: expected "PROXY ${protocol} <source> <destination> <source port> <destination port>" with single spaces`,
    );
  }
  const [, , sourceText, destText, sourcePortText, destPortText] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const v4 = protocol === 'TCP4';
  const source = v1Host(v4, 'source address', sourceText);
  const destination = v1Host(v4, 'destination address', destText);
  const sourcePort = v1Port('source port', sourcePortText);
  const destPort = v1Port('destination port', destPortText);
  for (const field of [source, destination, sourcePort, destPort]) {
    if (field instanceof ProxyHeaderError) return field;
  }
  const Address = v4 ? IPv4Address : IPv6Address;
  return {
    version: 1,
    command: 'PROXY',
    protocol,
    source: new Address('TCP', source as string, sourcePort as number),
    destination: new Address('TCP', destination as string, destPort as number),
  };
}

/** A v1 address in the form `getPeer()` reports it, or the error naming the field. */
function v1Host(v4: boolean, name: string, text: string): string | ProxyHeaderError {
  const bytes = v4 ? parseIPv4(text) : parseIPv6(text);
  if (bytes === null) {
    return new ProxyHeaderError(
      `v1 header: ${name} '${text}' is not an ${v4 ? 'IPv4' : 'IPv6'} address`,
    );
  }
  return v4 ? formatIPv4(bytes) : formatIPv6(bytes);
}

/** A v1 port: decimal 0..65535 without leading zeros. */
function v1Port(name: string, text: string): number | ProxyHeaderError {
  const port = /^(0|[1-9][0-9]{0,4})$/.test(text) ? Number(text) : NaN;
  return port <= 0xffff
    ? port
    : new ProxyHeaderError(`v1 header: ${name} '${text}' is not 0..65535`);
}

function parseV2Body(
  header: Buffer,
  command: 'PROXY' | 'LOCAL',
  family: (typeof FAMILIES)[number],
  transport: (typeof TRANSPORTS)[number],
  verifyChecksum: boolean,
): ProxyHeaderV2 | ProxyHeaderError {
  const addressLength = ADDRESS_LENGTH[family];
  if (header.length - 16 < addressLength) {
    return new ProxyHeaderError(
      `v2 header: length ${String(header.length - 16)} is shorter than the ${String(addressLength)} address bytes of ${family}`,
    );
  }
  const addresses = header.subarray(16, 16 + addressLength);
  let source: ProxiedAddress | null = null;
  let destination: ProxiedAddress | null = null;
  if (command === 'PROXY' && transport !== 'UNSPEC') {
    const type: AddressType = transport === 'DGRAM' ? 'UDP' : 'TCP';
    if (family === 'INET') {
      source = new IPv4Address(
        type,
        formatIPv4(addresses.subarray(0, 4)),
        addresses.readUInt16BE(8),
      );
      destination = new IPv4Address(
        type,
        formatIPv4(addresses.subarray(4, 8)),
        addresses.readUInt16BE(10),
      );
    } else if (family === 'INET6') {
      source = new IPv6Address(
        type,
        formatIPv6(addresses.subarray(0, 16)),
        addresses.readUInt16BE(32),
      );
      destination = new IPv6Address(
        type,
        formatIPv6(addresses.subarray(16, 32)),
        addresses.readUInt16BE(34),
      );
    } else if (family === 'UNIX') {
      source = new UNIXAddress(unixName(addresses.subarray(0, 108)));
      destination = new UNIXAddress(unixName(addresses.subarray(108, 216)));
    }
  }
  const tlvs = parseTLVs(header.subarray(16 + addressLength), 'v2 header: TLV');
  if (tlvs instanceof ProxyHeaderError) return tlvs;
  let alpn: Buffer | null = null;
  let authority: string | null = null;
  let uniqueId: Buffer | null = null;
  let ssl: ProxySSLInfo | null = null;
  let netns: string | null = null;
  let checksum: number | null = null;
  let offset = 16 + addressLength;
  for (const tlv of tlvs) {
    switch (tlv.type) {
      case PP2_TYPE.ALPN:
        alpn ??= tlv.value;
        break;
      case PP2_TYPE.AUTHORITY:
        authority ??= tlv.value.toString('utf8');
        break;
      case PP2_TYPE.UNIQUE_ID:
        if (tlv.value.length > 128) {
          return new ProxyHeaderError(
            `v2 header: unique ID TLV is ${String(tlv.value.length)} bytes, over 128`,
          );
        }
        uniqueId ??= tlv.value;
        break;
      case PP2_TYPE.NETNS:
        netns ??= tlv.value.toString('latin1');
        break;
      case PP2_TYPE.SSL: {
        const parsed = parseSSL(tlv.value);
        if (parsed instanceof ProxyHeaderError) return parsed;
        ssl ??= parsed;
        break;
      }
      case PP2_TYPE.CRC32C: {
        if (tlv.value.length !== 4) {
          return new ProxyHeaderError(
            `v2 header: CRC32C TLV is ${String(tlv.value.length)} bytes, not 4`,
          );
        }
        if (checksum !== null) return new ProxyHeaderError('v2 header: more than one CRC32C TLV');
        checksum = tlv.value.readUInt32BE(0);
        if (verifyChecksum) {
          const copy = Buffer.from(header);
          copy.fill(0, offset + 3, offset + 7);
          const actual = crc32c(copy);
          if (actual !== checksum) {
            return new ProxyHeaderError(
              `v2 header: CRC32C mismatch (header says 0x${checksum.toString(16)}, bytes give 0x${actual.toString(16)})`,
            );
          }
        }
        break;
      }
    }
    offset += 3 + tlv.value.length;
  }
  return {
    version: 2,
    command,
    family,
    transport,
    source,
    destination,
    tlvs,
    alpn,
    authority,
    uniqueId,
    ssl,
    netns,
    crc32c: checksum,
  };
}

function unixName(bytes: Buffer): string {
  // A path ends at its first NUL; an abstract name starts with one and ends
  // at the last non-NUL byte (the proxy pads with zeros).
  if (bytes[0] === 0) {
    let end = bytes.length;
    while (end > 1 && bytes[end - 1] === 0) end--;
    return bytes.toString('utf8', 0, end);
  }
  const nul = bytes.indexOf(0);
  return bytes.toString('utf8', 0, nul < 0 ? bytes.length : nul);
}

function parseTLVs(bytes: Buffer, what: string): ProxyTLV[] | ProxyHeaderError {
  const tlvs: ProxyTLV[] = [];
  let i = 0;
  while (i < bytes.length) {
    if (bytes.length - i < 3) {
      return new ProxyHeaderError(
        `${what} at offset ${String(i)}: ${String(bytes.length - i)} bytes left, a TLV needs 3`,
      );
    }
    const type = bytes.readUInt8(i);
    const length = bytes.readUInt16BE(i + 1);
    if (i + 3 + length > bytes.length) {
      return new ProxyHeaderError(
        `${what} 0x${type.toString(16)} at offset ${String(i)}: length ${String(length)} runs past the header's end`,
      );
    }
    tlvs.push({ type, value: Buffer.from(bytes.subarray(i + 3, i + 3 + length)) });
    i += 3 + length;
  }
  return tlvs;
}

function parseSSL(value: Buffer): ProxySSLInfo | ProxyHeaderError {
  if (value.length < 5)
    return new ProxyHeaderError(`v2 header: SSL TLV is ${String(value.length)} bytes, under 5`);
  const client = value.readUInt8(0);
  const tlvs = parseTLVs(value.subarray(5), 'v2 header: SSL sub-TLV');
  if (tlvs instanceof ProxyHeaderError) return tlvs;
  const text = (type: number): string | null =>
    tlvs.find((t) => t.type === type)?.value.toString('utf8') ?? null;
  return {
    client,
    ssl: (client & PP2_CLIENT.SSL) !== 0,
    clientCertificate: (client & (PP2_CLIENT.CERT_CONN | PP2_CLIENT.CERT_SESS)) !== 0,
    verify: value.readUInt32BE(1),
    version: text(PP2_SUBTYPE_SSL.VERSION),
    commonName: text(PP2_SUBTYPE_SSL.CN),
    cipher: text(PP2_SUBTYPE_SSL.CIPHER),
    signatureAlgorithm: text(PP2_SUBTYPE_SSL.SIG_ALG),
    keyAlgorithm: text(PP2_SUBTYPE_SSL.KEY_ALG),
    tlvs,
  };
}
