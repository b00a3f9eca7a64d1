// Tests of src/netstring-decoder.ts: netstring parsing, Twisted's golden
// vectors, hostile lengths, and chunking independence.
import { expect } from 'chai';
import fc from 'fast-check';
import { NetstringParseError } from '../src/errors.js';
import { NetstringDecoder, encodeNetstring } from '../src/netstring-decoder.js';
import { bytewise, cutsArb, show, splitAt } from './helpers.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

function decodeChunks(chunks: readonly Buffer[], maxLength?: number): string[] {
  const decoder = new NetstringDecoder(maxLength);
  return chunks.flatMap((chunk) => decoder.decode(chunk).map(show));
}

describe('NetstringDecoder', () => {
  it('decodes what Twisted sendString(b"hello") sends: 5:hello,', () => {
    expect(new NetstringDecoder().decode(b('5:hello,'))).to.deep.equal([b('hello')]);
  });

  it('decodes an empty netstring and several in one chunk', () => {
    expect(
      new NetstringDecoder().decode(b('0:,3:abc,1:x,')).map((x) => x.toString()),
    ).to.deep.equal(['', 'abc', 'x']);
  });

  it('encodes byte-for-byte as Twisted does', () => {
    expect(encodeNetstring('hello')).to.deep.equal(b('5:hello,'));
    expect(encodeNetstring(Buffer.alloc(0))).to.deep.equal(b('0:,'));
    expect(encodeNetstring(Buffer.from([0, 255, 44]))).to.deep.equal(
      Buffer.from('3:\x00\xff,,', 'latin1'),
    );
  });

  for (const [input, why] of [
    ['3:abcX', 'a missing comma'],
    ['100000:', 'a length over MAX_LENGTH (99999)'],
    ['01:a,', 'a leading zero'],
    [':abc,', 'a missing length'],
    ['x:abc,', 'a non-digit length'],
    ['-1:a,', 'a sign'],
  ] as const) {
    it(`reports ${why} once and then decodes nothing more`, () => {
      const decoder = new NetstringDecoder();
      const out = decoder.decode(b(input));
      expect(out).to.have.length(1);
      expect(out[0]).to.be.instanceOf(NetstringParseError);
      expect((out[0] as NetstringParseError).code).to.equal('TORSION_ERR_NETSTRING_PARSE');
      expect(decoder.broken).to.equal(true);
      expect(decoder.decode(b('1:a,'))).to.deep.equal([]);
    });
  }

  it('refuses a 2^60-byte announcement at the digit that crosses MAX_LENGTH, before any payload', () => {
    const decoder = new NetstringDecoder();
    const out = decoder.decode(b('1152921504606846976:'));
    expect(out[0]).to.be.instanceOf(NetstringParseError);
    const early = new NetstringDecoder();
    expect(early.decode(b('99999'))).to.deep.equal([]);
    expect(early.decode(b('9'))[0]).to.be.instanceOf(NetstringParseError);
  });

  it('accepts a payload of exactly MAX_LENGTH bytes', () => {
    const out = new NetstringDecoder(5).decode(b('5:abcde,6:abcdef,'));
    expect(out[0]).to.deep.equal(b('abcde'));
    expect(out[1]).to.be.instanceOf(NetstringParseError);
  });

  it('yields the same strings for any split of a valid stream', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 30 }), { maxLength: 8 }),
        cutsArb,
        (payloads, cuts) => {
          const stream = Buffer.concat(payloads.map((p) => encodeNetstring(p)));
          const expected = payloads.map((p) => Buffer.from(p).toString('hex'));
          expect(decodeChunks(splitAt(stream, cuts))).to.deep.equal(expected);
          expect(decodeChunks(bytewise(stream))).to.deep.equal(expected);
        },
      ),
    );
  });

  it('yields the same frames and errors for any split of arbitrary bytes', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 80 }).map((u) => Buffer.from(u)),
        cutsArb,
        (input, cuts) => {
          const whole = decodeChunks([input], 20);
          expect(decodeChunks(splitAt(input, cuts), 20)).to.deep.equal(whole);
        },
      ),
    );
  });
});

describe('NetstringDecoder.reset', () => {
  it('drops a partial length, payload or comma, counting every received byte of it', () => {
    for (const partial of ['12', '5:', '5:hel', '5:hello']) {
      const decoder = new NetstringDecoder();
      expect(decoder.decode(b(partial)), partial).to.deep.equal([]);
      expect(decoder.reset(), partial).to.equal(partial.length);
      expect(decoder.decode(encodeNetstring('ok')), partial).to.deep.equal([b('ok')]);
    }
  });

  it('drops the unread bytes after a delivered netstring', () => {
    const decoder = new NetstringDecoder();
    decoder.push(b('1:a,3:xyz,'));
    expect(decoder.next()).to.deep.equal(b('a'));
    expect(decoder.reset()).to.equal(b('3:xyz,').length);
    expect(decoder.next()).to.equal(null);
  });

  it('stays broken after a parse error', () => {
    const decoder = new NetstringDecoder();
    expect(decoder.decode(b('x')).map(show)).to.deep.equal(['NetstringParseError']);
    decoder.reset();
    expect(decoder.broken).to.equal(true);
    expect(decoder.decode(encodeNetstring('ok'))).to.deep.equal([]);
  });
});
