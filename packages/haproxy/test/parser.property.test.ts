// Property tests of src/parser.ts with src/encoder.ts: a header split at
// every byte boundary parses as the whole does, the bytes after it come out
// intact, encode -> parse round-trips, and no input makes it throw.
import { expect } from 'chai';
import fc from 'fast-check';
import { encodeProxyV1, encodeProxyV2 } from '../src/encoder.js';
import { ProxyHeaderError } from '../src/errors.js';
import { parseProxyHeader } from '../src/parser.js';
import { cutAt, feedAll, summary, tcpPairArb, v2FieldsArb } from './support.js';

const headerArb = fc.oneof(
  fc.option(tcpPairArb, { freq: 4 }).map((fields) => encodeProxyV1(fields)),
  v2FieldsArb.map((fields) => encodeProxyV2(fields)),
);
const restArb = fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a));

describe('ProxyHeaderParser: properties', () => {
  it('parses a header cut at every byte boundary exactly as the whole one, the rest intact', () => {
    fc.assert(
      fc.property(headerArb, restArb, (bytes, rest) => {
        const whole = Buffer.concat([bytes, rest]);
        const expected = feedAll([whole]);
        expect(expected.kind).to.equal('header');
        for (let at = 0; at <= whole.length; at++) {
          expect(feedAll(cutAt(whole, at))).to.deep.equal(expected);
        }
        if (expected.kind === 'header') expect(expected.rest).to.deep.equal(rest);
      }),
      { numRuns: 150 },
    );
  });

  it('parses a header fed one byte at a time', () => {
    fc.assert(
      fc.property(headerArb, restArb, (bytes, rest) => {
        const whole = Buffer.concat([bytes, rest]);
        const bytewise = Array.from(whole, (x) => Buffer.of(x));
        expect(feedAll(bytewise)).to.deep.equal(feedAll([whole]));
      }),
      { numRuns: 100 },
    );
  });

  it('round-trips v1: encode then parse gives the addresses back', () => {
    fc.assert(
      fc.property(fc.option(tcpPairArb), (fields) => {
        const out = parseProxyHeader(encodeProxyV1(fields));
        if (out.kind !== 'header') throw new Error(out.kind);
        expect(out.header.source).to.deep.equal(fields?.source ?? null);
        expect(out.header.destination).to.deep.equal(fields?.destination ?? null);
        expect(out.rest.length).to.equal(0);
      }),
    );
  });

  it('round-trips v2: encode then parse gives every field back', () => {
    fc.assert(
      fc.property(v2FieldsArb, (fields) => {
        const out = parseProxyHeader(encodeProxyV2(fields));
        if (out.kind !== 'header' || out.header.version !== 2) throw new Error(out.kind);
        const h = out.header;
        expect(h.command).to.equal(fields.command);
        const proxied = fields.command === 'PROXY';
        expect(h.source).to.deep.equal(proxied ? (fields.source ?? null) : null);
        expect(h.destination).to.deep.equal(proxied ? (fields.destination ?? null) : null);
        expect(h.alpn?.toString() ?? null).to.equal(fields.alpn ?? null);
        expect(h.authority).to.equal(fields.authority ?? null);
        expect(h.uniqueId === null ? null : Buffer.from(h.uniqueId)).to.deep.equal(
          fields.uniqueId === undefined ? null : Buffer.from(fields.uniqueId),
        );
        expect(h.ssl?.version ?? null).to.equal(fields.ssl?.version ?? null);
        expect(h.ssl?.commonName ?? null).to.equal(fields.ssl?.commonName ?? null);
        expect(h.ssl?.client ?? null).to.equal(fields.ssl?.client ?? null);
        expect(h.crc32c !== null).to.equal(fields.checksum === true);
        const custom = h.tlvs
          .filter((t) => t.type >= 0xe0)
          .map((t) => [t.type, Buffer.from(t.value)]);
        expect(custom).to.deep.equal(
          (fields.tlvs ?? []).map((t) => [t.type, Buffer.from(t.value)]),
        );
      }),
    );
  });

  it('answers any bytes, in any chunks, with a header, incomplete, or a ProxyHeaderError: never a throw', () => {
    const garbage = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
      // Near misses: a valid header with a few bytes flipped or cut.
      fc
        .tuple(
          headerArb,
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 4 }),
          fc.nat(),
        )
        .map(([bytes, flips, cut]) => {
          const copy = Buffer.from(bytes);
          for (const [at, mask] of flips)
            copy[at % copy.length] = (copy[at % copy.length] ?? 0) ^ mask;
          return copy.subarray(0, Math.max(1, cut % (copy.length + 1)));
        }),
    );
    fc.assert(
      fc.property(garbage, fc.array(fc.nat(), { maxLength: 8 }), (bytes, cuts) => {
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const chunks: Buffer[] = [];
        let start = 0;
        for (const p of [...points, bytes.length]) {
          if (p > start) chunks.push(bytes.subarray(start, p));
          start = Math.max(start, p);
        }
        const out = feedAll(chunks);
        if (out.kind === 'error') expect(out.error).to.be.instanceOf(ProxyHeaderError);
        // Chunking never changes the answer.
        expect(summary(out)).to.deep.equal(summary(feedAll([bytes])));
      }),
      { numRuns: 500 },
    );
  });

  it('refuses bytes that are not a header at their first byte, whatever follows', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 255 }).filter((x) => x !== 0x50 && x !== 0x0d),
        fc.uint8Array({ maxLength: 20 }),
        (first, more) => {
          expect(parseProxyHeader(Buffer.of(first)).kind).to.equal('error');
          expect(parseProxyHeader(Buffer.from([first, ...more])).kind).to.equal('error');
        },
      ),
    );
  });
});
