// Tests of src/int-string-decoder.ts: big-endian length prefixes of 1, 2 and
// 4 bytes, Twisted's golden vectors, hostile prefixes, chunking independence.
import { expect } from 'chai';
import fc from 'fast-check';
import { StringTooLongError } from '../src/errors.js';
import {
  IntStringDecoder,
  LengthLimitExceeded,
  encodeIntString,
  type PrefixLength,
} from '../src/int-string-decoder.js';
import { bytewise, cutsArb, show, splitAt } from './helpers.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/ /g, ''), 'hex');

describe('IntStringDecoder', () => {
  // What Twisted's Int8/16/32StringReceiver.sendString(b"abc") writes.
  const golden: [PrefixLength, string][] = [
    [1, '03 616263'],
    [2, '0003 616263'],
    [4, '00000003 616263'],
  ];
  for (const [prefixLength, wire] of golden) {
    it(`encodes and decodes Twisted's ${8 * prefixLength}-bit prefix framing byte for byte`, () => {
      expect(encodeIntString('abc', prefixLength)).to.deep.equal(hex(wire));
      expect(new IntStringDecoder(prefixLength).decode(hex(wire))).to.deep.equal([
        Buffer.from('abc'),
      ]);
    });
  }

  it('decodes an empty string and back-to-back strings in one chunk', () => {
    const out = new IntStringDecoder(2).decode(hex('0000 0001 7a 0002 7879'));
    expect(out).to.deep.equal([Buffer.alloc(0), Buffer.from('z'), Buffer.from('xy')]);
  });

  it('reports a prefix over maxLength once, before buffering the payload, then stops', () => {
    const decoder = new IntStringDecoder(4);
    const out = decoder.decode(hex('0001 86a0'));
    expect(out).to.have.length(1);
    expect(out[0]).to.be.instanceOf(LengthLimitExceeded);
    expect(out[0]).to.deep.equal(new LengthLimitExceeded(100_000));
    expect(decoder.broken).to.equal(true);
    expect(decoder.decode(hex('00000001 61'))).to.deep.equal([]);
  });

  it('accepts a length of exactly maxLength', () => {
    const out = new IntStringDecoder(1, 3).decode(hex('03 616263 04'));
    expect(out[0]).to.deep.equal(Buffer.from('abc'));
    expect(out[1]).to.be.instanceOf(LengthLimitExceeded);
  });

  it('refuses to encode a string that does not fit the prefix, as Twisted raises StringTooLongError', () => {
    expect(() => encodeIntString(Buffer.alloc(256), 1)).to.throw(StringTooLongError);
    expect(encodeIntString(Buffer.alloc(255), 1)).to.have.length(256);
    expect(() => encodeIntString(Buffer.alloc(65536), 2)).to.throw(StringTooLongError);
  });

  it('rejects prefix sizes other than 1, 2 and 4', () => {
    expect(() => new IntStringDecoder(3 as PrefixLength)).to.throw(RangeError);
  });

  for (const prefixLength of [1, 2, 4] as const) {
    it(`yields the same strings for any split (${prefixLength}-byte prefix)`, () => {
      fc.assert(
        fc.property(
          fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 8 }),
          cutsArb,
          (payloads, cuts) => {
            const stream = Buffer.concat(payloads.map((p) => encodeIntString(p, prefixLength)));
            const expected = payloads.map((p) => Buffer.from(p).toString('hex'));
            const run = (chunks: Buffer[]): string[] => {
              const decoder = new IntStringDecoder(prefixLength);
              return chunks.flatMap((c) => decoder.decode(c).map(show));
            };
            expect(run(splitAt(stream, cuts))).to.deep.equal(expected);
            expect(run(bytewise(stream))).to.deep.equal(expected);
          },
        ),
      );
    });
  }
});

describe('IntStringDecoder.reset', () => {
  it('drops a partial prefix and counts it', () => {
    const decoder = new IntStringDecoder(4);
    expect(decoder.decode(Buffer.of(0, 0))).to.deep.equal([]);
    expect(decoder.reset()).to.equal(2);
    expect(decoder.decode(encodeIntString('ok', 4))).to.deep.equal([Buffer.from('ok')]);
  });

  it('drops a partial payload with its prefix, and the unread bytes, and counts them all', () => {
    const decoder = new IntStringDecoder(2);
    const first = encodeIntString('hello', 2);
    expect(
      decoder.decode(Buffer.concat([encodeIntString('a', 2), first.subarray(0, 4)])),
    ).to.deep.equal([Buffer.from('a')]);
    expect(decoder.reset()).to.equal(4);
    expect(decoder.decode(encodeIntString('ok', 2))).to.deep.equal([Buffer.from('ok')]);
  });

  it('stays broken after a length limit was exceeded', () => {
    const decoder = new IntStringDecoder(1, 2);
    expect(decoder.decode(encodeIntString('abc', 1)).map(show)).to.deep.equal([
      'LengthLimitExceeded',
    ]);
    decoder.reset();
    expect(decoder.broken).to.equal(true);
    expect(decoder.decode(encodeIntString('a', 1))).to.deep.equal([]);
  });
});
