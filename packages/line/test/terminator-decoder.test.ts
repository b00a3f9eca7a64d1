// Tests of src/terminator-decoder.ts: asynchat's input splitting with byte,
// count and null terminators, and chunking independence.
import { expect } from 'chai';
import fc from 'fast-check';
import { FOUND_TERMINATOR, TerminatorDecoder, type Terminator } from '../src/terminator-decoder.js';
import { bytewise, cutsArb, framingBytesArb, splitAt } from './helpers.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

// Joins adjacent data pieces, since a frame's data may come in any number of pieces.
function frames(decoder: TerminatorDecoder, chunks: readonly Buffer[]): string[] {
  const out: string[] = [];
  let current = '';
  for (const chunk of chunks) {
    for (const item of decoder.decode(chunk)) {
      if (item === FOUND_TERMINATOR) {
        out.push(current);
        current = '';
      } else {
        expect(item.length).to.be.greaterThan(0);
        current += item.toString('latin1');
      }
    }
  }
  if (current !== '') out.push(`partial:${current}`);
  return out;
}

describe('TerminatorDecoder', () => {
  it('reports data then the terminator, and consumes the terminator', () => {
    expect(frames(new TerminatorDecoder('\r\n'), [b('HELO x\r\nQUIT\r\n')])).to.deep.equal([
      'HELO x',
      'QUIT',
    ]);
  });

  it('holds back only a possible terminator prefix at the end of the input', () => {
    const decoder = new TerminatorDecoder('\r\n.\r\n');
    const first = decoder.decode(b('body\r\n.'));
    expect(first.map((x) => (x === FOUND_TERMINATOR ? 'T' : x.toString()))).to.deep.equal(['body']);
    expect(decoder.bufferedLength).to.equal(3);
    expect(frames(decoder, [b('\r\n')])).to.deep.equal(['']);
  });

  it('counts bytes across reads, then treats everything as data (asynchat: terminator becomes 0)', () => {
    const decoder = new TerminatorDecoder(5);
    expect(frames(decoder, [b('ab'), b('cdefg')])).to.deep.equal(['abcde', 'partial:fg']);
    expect(decoder.terminator).to.equal(0);
  });

  it('passes everything on as data with a null terminator', () => {
    expect(frames(new TerminatorDecoder(null), [b('a\r\nb')])).to.deep.equal(['partial:a\r\nb']);
  });

  it('applies a terminator changed between frames to bytes already buffered', () => {
    const decoder = new TerminatorDecoder('\r\n');
    decoder.push(b('SIZE\r\n3\r\nabcEND\r\n'));
    const seen: string[] = [];
    for (let item = decoder.next(); item !== null; item = decoder.next()) {
      if (item === FOUND_TERMINATOR) {
        seen.push('T');
        if (seen.length === 4) decoder.setTerminator(3);
        else if (seen.length === 6) decoder.setTerminator('\r\n');
      } else seen.push(item.toString());
    }
    expect(seen).to.deep.equal(['SIZE', 'T', '3', 'T', 'abc', 'T', 'END', 'T']);
  });

  it('rejects negative counts, empty strings and other types', () => {
    expect(() => new TerminatorDecoder(-1)).to.throw(RangeError);
    expect(() => new TerminatorDecoder(1.5)).to.throw(RangeError);
    expect(() => new TerminatorDecoder('')).to.throw(RangeError);
    expect(() => new TerminatorDecoder({} as unknown as Terminator)).to.throw(TypeError, /Object/);
  });

  for (const terminator of ['\r\n', '\r\n.\r\n', ':', 7] as const) {
    it(`yields the same frames for any split (terminator ${JSON.stringify(terminator)})`, () => {
      fc.assert(
        fc.property(framingBytesArb(), cutsArb, (input, cuts) => {
          const whole = frames(new TerminatorDecoder(terminator), [input]);
          expect(frames(new TerminatorDecoder(terminator), splitAt(input, cuts))).to.deep.equal(
            whole,
          );
          expect(frames(new TerminatorDecoder(terminator), bytewise(input))).to.deep.equal(whole);
        }),
      );
    });
  }
});

describe('TerminatorDecoder.reset', () => {
  it('drops the unread input and a held terminator prefix, keeps the terminator, and returns the count', () => {
    const decoder = new TerminatorDecoder('\r\n');
    expect(decoder.decode(b('one\r\ntwo\r'))).to.deep.equal([b('one'), FOUND_TERMINATOR, b('two')]);
    decoder.push(b('\nthree'));
    expect(decoder.reset()).to.equal(b('\r\nthree').length);
    expect(decoder.bufferedLength).to.equal(0);
    expect(decoder.terminator).to.deep.equal(b('\r\n'));
    expect(decoder.decode(b('four\r\n'))).to.deep.equal([b('four'), FOUND_TERMINATOR]);
  });

  it('forgets a terminator found but not yet returned', () => {
    const decoder = new TerminatorDecoder('\r\n');
    decoder.push(b('x\r\n'));
    expect(decoder.next()).to.deep.equal(b('x'));
    expect(decoder.reset()).to.equal(0);
    expect(decoder.next()).to.equal(null);
  });
});
