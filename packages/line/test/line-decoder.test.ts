// Tests of src/line-decoder.ts: the pure line splitter, including property
// tests that any chunking of the input yields the same lines.
import { expect } from 'chai';
import fc from 'fast-check';
import sinon from 'sinon';
import { LineDecoder, LineTooLong, encodeLine } from '../src/line-decoder.js';
import { bytewise, cutsArb, framingBytesArb, show, splitAt } from './helpers.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

function decodeAll(decoder: LineDecoder, chunks: readonly Buffer[]): string[] {
  const out: string[] = [];
  for (const chunk of chunks) for (const item of decoder.decode(chunk)) out.push(show(item));
  return out;
}

function drainAll(decoder: LineDecoder, chunks: readonly Buffer[]): string[] {
  const out: string[] = [];
  for (const chunk of chunks) {
    decoder.push(chunk);
    decoder.drain((item) => (out.push(show(item)), true));
  }
  return out;
}

function text(items: (Buffer | LineTooLong)[]): string[] {
  return items.map((item) =>
    item instanceof LineTooLong
      ? `TOO_LONG(${item.line.toString('latin1')})`
      : item.toString('latin1'),
  );
}

describe('LineDecoder', () => {
  it('splits only on the exact delimiter, keeping stray CR and LF in the line', () => {
    expect(text(new LineDecoder().decode(b('a\rb\nc\r\n')))).to.deep.equal(['a\rb\nc']);
  });

  it('produces no line from bare-LF input with the default CRLF delimiter', () => {
    const decoder = new LineDecoder();
    expect(decoder.decode(b('bob\n'))).to.deep.equal([]);
    expect(decoder.bufferedLength).to.equal(4);
  });

  it('joins a line and a delimiter split across chunks', () => {
    expect(decodeAll(new LineDecoder(), [b('hel'), b('lo\r'), b('\nworld\r\n')])).to.deep.equal([
      b('hello').toString('hex'),
      b('world').toString('hex'),
    ]);
  });

  it('returns empty lines for consecutive delimiters', () => {
    expect(text(new LineDecoder().decode(b('\r\n\r\nx\r\n')))).to.deep.equal(['', '', 'x']);
  });

  it('finds a three-byte delimiter split over three chunks after a partial line', () => {
    const decoder = new LineDecoder({ delimiter: '<=>' });
    expect(text(decoder.decode(b('ab<')))).to.deep.equal([]);
    expect(text(decoder.decode(b('=')))).to.deep.equal([]);
    expect(text(decoder.decode(b('><<=>')))).to.deep.equal(['ab', '<']);
  });

  it('accepts a line of exactly maxLength bytes and rejects one byte more', () => {
    const decoder = new LineDecoder({ maxLength: 16384 });
    const ok = decoder.decode(Buffer.concat([Buffer.alloc(16384, 0x61), b('\r\n')]));
    expect(ok).to.have.length(1);
    expect(ok[0]).to.be.instanceOf(Buffer);
    const bad = decoder.decode(Buffer.concat([Buffer.alloc(16385, 0x61), b('\r\nnext\r\n')]));
    expect(bad[0]).to.be.instanceOf(LineTooLong);
    expect((bad[0] as LineTooLong).line.length).to.equal(16385);
    expect((bad[0] as LineTooLong).complete).to.equal(true);
    expect(text([bad[1]!])).to.deep.equal(['next']);
  });

  it('tolerates maxLength + delimiter.length - 1 pending bytes and trips at one more', () => {
    const decoder = new LineDecoder({ maxLength: 10 });
    expect(decoder.decode(Buffer.alloc(11, 0x61))).to.deep.equal([]);
    const tripped = decoder.decode(b('a'));
    expect(tripped).to.have.length(1);
    expect(tripped[0]).to.be.instanceOf(LineTooLong);
    expect((tripped[0] as LineTooLong).complete).to.equal(false);
    expect((tripped[0] as LineTooLong).line.length).to.equal(12);
  });

  it('accepts a max-length line whose CRLF arrives split, with the CR pending at the limit', () => {
    const decoder = new LineDecoder({ maxLength: 10 });
    expect(decoder.decode(b('aaaaaaaaaa\r'))).to.deep.equal([]);
    expect(text(decoder.decode(b('\n')))).to.deep.equal(['aaaaaaaaaa']);
  });

  it('discards the rest of an over-long line and recovers at the next delimiter', () => {
    const decoder = new LineDecoder({ maxLength: 4 });
    const out = [
      ...decoder.decode(b('abcdefg')),
      ...decoder.decode(b('hij\r')),
      ...decoder.decode(b('\nok\r\n')),
    ];
    expect(text(out)).to.deep.equal(['TOO_LONG(abcdefg)', 'ok']);
  });

  it('never buffers more than maxLength plus one chunk for an endless line', () => {
    const decoder = new LineDecoder({ maxLength: 1000 });
    const chunk = Buffer.alloc(4096, 0x78);
    let reports = 0;
    for (let i = 0; i < 256; i++) {
      reports += decoder.decode(chunk).length;
      expect(decoder.bufferedLength).to.be.at.most(1000 + chunk.length);
    }
    expect(reports).to.equal(1);
  });

  it('copies a long line fed one byte at a time in linear, not quadratic, total work', () => {
    const bytesCopied = (length: number): number => {
      const concat = sinon.spy(Buffer, 'concat');
      try {
        const decoder = new LineDecoder({ maxLength: 1 << 20 });
        const line = Buffer.alloc(length, 0x41);
        for (const piece of bytewise(Buffer.concat([line, b('\r\n')]))) decoder.push(piece);
        concat.resetHistory();
        expect(decoder.next()).to.deep.equal(line);
        return concat
          .getCalls()
          .reduce((sum, call) => sum + (call.returnValue as Buffer).length, 0);
      } finally {
        concat.restore();
      }
    };
    // Sizes small enough to stay quick under coverage, large enough that a
    // quadratic copy would show (4x the length would copy 16x the bytes).
    const small = bytesCopied(5_000);
    const large = bytesCopied(20_000);
    // Small reads are merged into ~1 KiB parts (each byte copied a bounded
    // number of times), then the line is joined once: linear in its length.
    expect(small).to.be.at.most(5_000 * 20);
    expect(large / small).to.be.at.most(4.5);
  });

  it('rescans buffered bytes when the delimiter changes', () => {
    const decoder = new LineDecoder();
    expect(decoder.decode(b('one\ntwo'))).to.deep.equal([]);
    decoder.setDelimiter('\n');
    expect(text(decoder.decode(b('\n')))).to.deep.equal(['one', 'two']);
  });

  it('hands back everything buffered from clear(), partial line and unread chunks included', () => {
    const decoder = new LineDecoder();
    decoder.push(b('a\r\nb'));
    decoder.push(b('c'));
    expect(text([decoder.next()!])).to.deep.equal(['a']);
    expect(decoder.clear().toString()).to.equal('bc');
    expect(decoder.bufferedLength).to.equal(0);
  });

  it('puts unshifted bytes before unread input', () => {
    const decoder = new LineDecoder();
    decoder.push(b('2\r\n'));
    decoder.unshift(b('1\r\n'));
    expect(text([decoder.next()!, decoder.next()!])).to.deep.equal(['1', '2']);
  });

  it('rejects an empty delimiter and a negative maxLength', () => {
    expect(() => new LineDecoder({ delimiter: '' })).to.throw(RangeError);
    expect(() => new LineDecoder({ maxLength: -1 })).to.throw(RangeError);
  });

  it('encodes a line followed by the delimiter, and rejects non-bytes', () => {
    expect(encodeLine('hi').toString()).to.equal('hi\r\n');
    expect(encodeLine(Buffer.from('x'), '\n').toString()).to.equal('x\n');
    expect(() => encodeLine(42 as unknown as string)).to.throw(TypeError, /number/);
  });

  it('drain() hands the sink the same items as next(), and stops when the sink returns false', () => {
    const input = b('a\r\nbb\r\n\r\nccccc\r\nd\ne\r\npa');
    const viaNext = new LineDecoder({ maxLength: 3 }).decode(input).map(show);
    const decoder = new LineDecoder({ maxLength: 3 });
    decoder.push(input);
    const seen: string[] = [];
    expect(decoder.drain((item) => (seen.push(show(item)), seen.length < 2))).to.equal(true);
    expect(decoder.drain((item) => (seen.push(show(item)), true))).to.equal(false);
    expect(seen).to.deep.equal(viaNext);
    expect(decoder.bufferedLength).to.equal(2);
  });

  it('drain() follows changes the sink makes to the decoder', () => {
    const decoder = new LineDecoder();
    decoder.push(b('one\r\ntwo\nthree\n'));
    const seen: string[] = [];
    decoder.drain((item) => {
      seen.push(show(item));
      if (seen.length === 1) decoder.setDelimiter('\n');
      return true;
    });
    expect(seen).to.deep.equal(['one', 'two', 'three'].map((x) => b(x).toString('hex')));
    decoder.push(b('x\ny\n'));
    const after: string[] = [];
    decoder.drain((item) => {
      after.push(show(item));
      decoder.clear();
      return true;
    });
    expect(after).to.deep.equal([b('x').toString('hex')]);
  });

  describe('property: chunk boundaries do not change the frames', () => {
    for (const delimiter of ['\r\n', '\n', '\r\n\r\n', ':']) {
      it(`yields the same lines and overflows for any split (delimiter ${JSON.stringify(delimiter)})`, () => {
        fc.assert(
          fc.property(
            framingBytesArb(),
            cutsArb,
            fc.integer({ min: 0, max: 12 }),
            (input, cuts, maxLength) => {
              const whole = decodeAll(new LineDecoder({ delimiter, maxLength }), [input]);
              const split = decodeAll(
                new LineDecoder({ delimiter, maxLength }),
                splitAt(input, cuts),
              );
              const single = decodeAll(new LineDecoder({ delimiter, maxLength }), bytewise(input));
              expect(split).to.deep.equal(whole);
              expect(single).to.deep.equal(whole);
              expect(
                drainAll(new LineDecoder({ delimiter, maxLength }), splitAt(input, cuts)),
              ).to.deep.equal(whole);
            },
          ),
        );
      });
    }

    it('matches a reference split of the whole input when no line is too long', () => {
      fc.assert(
        fc.property(framingBytesArb(), cutsArb, (input, cuts) => {
          const expected: string[] = [];
          let start = 0;
          for (let at = input.indexOf('\r\n'); at !== -1; at = input.indexOf('\r\n', start)) {
            expected.push(input.subarray(start, at).toString('hex'));
            start = at + 2;
          }
          const decoder = new LineDecoder({ maxLength: 1000 });
          expect(decodeAll(decoder, splitAt(input, cuts))).to.deep.equal(expected);
          expect(decoder.bufferedLength).to.equal(input.length - start);
        }),
      );
    });
  });
});

describe('LineDecoder.reset', () => {
  it('drops the partial line and the unread chunks, and returns their byte count', () => {
    const decoder = new LineDecoder();
    decoder.push(b('one\r\ntwo\r\nthr'));
    expect(decoder.next()).to.deep.equal(b('one'));
    decoder.push(b('ee\r\n'));
    expect(decoder.reset()).to.equal(b('two\r\nthree\r\n').length);
    expect(decoder.bufferedLength).to.equal(0);
    expect(decoder.next()).to.equal(null);
    expect(decoder.reset()).to.equal(0);
  });

  it('leaves discarding mode, so the next line after an over-long one is whole', () => {
    const decoder = new LineDecoder({ maxLength: 4 });
    expect(text(decoder.decode(b('0123456789')))).to.deep.equal(['TOO_LONG(0123456789)']);
    decoder.reset();
    expect(text(decoder.decode(b('ok\r\n')))).to.deep.equal(['ok']);
  });

  it('leaves the decoder as good as new whatever was buffered (property)', () => {
    fc.assert(
      fc.property(framingBytesArb(), framingBytesArb(), cutsArb, (junk, input, cuts) => {
        const used = new LineDecoder({ maxLength: 8 });
        decodeAll(used, splitAt(junk, cuts));
        const buffered = used.bufferedLength;
        expect(used.reset()).to.equal(buffered);
        const fresh = new LineDecoder({ maxLength: 8 });
        expect(decodeAll(used, splitAt(input, cuts))).to.deep.equal(
          decodeAll(fresh, splitAt(input, cuts)),
        );
      }),
    );
  });
});
