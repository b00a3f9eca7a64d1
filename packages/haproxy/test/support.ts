// Shared helpers for @torsion/haproxy tests: feeding a parser in pieces, and
// arbitrary headers for the property tests.
import { IPv4Address, IPv6Address, UNIXAddress } from '@torsion/core';
import fc from 'fast-check';
import type { ProxyV2Fields } from '../src/encoder.js';
import {
  ProxyHeaderParser,
  type ProxyParseResult,
  type ProxyHeaderParserOptions,
} from '../src/parser.js';
import { formatIPv6 } from '../src/ip.js';

/**
 * Feeds `chunks` to one parser until it answers; the bytes of the chunks it
 * did not reach are appended to the `rest`, as a wrapper would deliver them.
 */
export function feedAll(
  chunks: readonly Buffer[],
  options?: ProxyHeaderParserOptions,
): ProxyParseResult {
  const parser = new ProxyHeaderParser(options);
  for (const [i, chunk] of chunks.entries()) {
    const result = parser.feed(chunk);
    if (result.kind === 'header') {
      return { ...result, rest: Buffer.concat([result.rest, ...chunks.slice(i + 1)]) };
    }
    if (result.kind === 'error') return result;
  }
  return { kind: 'incomplete' };
}

/** `data` cut in two at `at`. */
export function cutAt(data: Buffer, at: number): Buffer[] {
  return [data.subarray(0, at), data.subarray(at)].filter((c) => c.length > 0);
}

const ipv4 = fc.ipV4();
const ipv6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => formatIPv6(b));
const port = fc.integer({ min: 0, max: 65535 });

/** A pair of IPv4 or IPv6 TCP addresses. */
export const tcpPairArb = fc.oneof(
  fc.tuple(ipv4, ipv4, port, port).map(([a, b, p, q]) => ({
    source: new IPv4Address('TCP', a, p),
    destination: new IPv4Address('TCP', b, q),
  })),
  fc.tuple(ipv6, ipv6, port, port).map(([a, b, p, q]) => ({
    source: new IPv6Address('TCP', a, p),
    destination: new IPv6Address('TCP', b, q),
  })),
);

const unixName = fc.oneof(
  fc.stringMatching(/^\/[a-z0-9/._-]{1,100}$/),
  fc.stringMatching(/^[a-z0-9]{1,60}$/).map((s) => `\0${s}`),
);
const text = fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !s.includes('\0'));

/** Arbitrary v2 fields: every family, both commands, the TLVs the parser decodes. */
export const v2FieldsArb: fc.Arbitrary<ProxyV2Fields> = fc
  .record(
    {
      command: fc.constantFrom('PROXY' as const, 'LOCAL' as const),
      addresses: fc.option(
        fc.oneof(
          tcpPairArb,
          fc.tuple(unixName, unixName).map(([a, b]) => ({
            source: new UNIXAddress(a),
            destination: new UNIXAddress(b),
          })),
        ),
      ),
      alpn: fc.option(fc.constantFrom('h2', 'http/1.1')),
      authority: fc.option(text),
      uniqueId: fc.option(fc.uint8Array({ maxLength: 128 })),
      ssl: fc.option(
        fc.record(
          {
            client: fc.integer({ min: 0, max: 7 }),
            verify: fc.nat(),
            version: text,
            commonName: text,
            cipher: text,
          },
          { requiredKeys: ['client'] },
        ),
      ),
      tlvs: fc.array(
        fc.record({
          type: fc.integer({ min: 0xe0, max: 0xef }),
          value: fc.uint8Array({ maxLength: 20 }),
        }),
        { maxLength: 3 },
      ),
      checksum: fc.boolean(),
    },
    {
      requiredKeys: [
        'command',
        'addresses',
        'alpn',
        'authority',
        'uniqueId',
        'ssl',
        'tlvs',
        'checksum',
      ],
    },
  )
  .map(({ addresses, alpn, authority, uniqueId, ssl, ...rest }) => ({
    ...rest,
    ...(addresses ?? {}),
    ...(alpn === null ? {} : { alpn }),
    ...(authority === null ? {} : { authority }),
    ...(uniqueId === null ? {} : { uniqueId }),
    ...(ssl === null ? {} : { ssl }),
  }));

/** A result with its error reduced to class and message, for deep comparison. */
export function summary(result: ProxyParseResult): unknown {
  return result.kind === 'error'
    ? { kind: 'error', name: result.error.name, message: result.error.message }
    : result;
}
