// Reply texts and the RFC 1288 §3.3 output filter.
import { expect } from 'chai';
import fc from 'fast-check';
import {
  encodeReply,
  listReply,
  sanitize,
  sanitizeName,
  toLines,
  userReply,
} from '../src/reply.js';

describe('reply', () => {
  it('sanitize replaces escape sequences and other controls with U+FFFD, keeping TAB, CR, LF and non-ASCII', () => {
    expect(sanitize('a\x1b[31mred\x07\x00\x7f\x9b\tb\r\nç')).to.equal(
      'a\ufffd[31mred\ufffd\ufffd\ufffd\ufffd\tb\r\nç',
    );
  });

  it('sanitize replaces bidi embeddings, overrides and isolates, and keeps LRM, RLM and joiners', () => {
    expect(sanitize('a\u202eb\u2066c\u2069d\u2028e')).to.equal('a\ufffdb\ufffdc\ufffdd\ufffde');
    expect(sanitize('\u05e9\u200f1\u200e \u{1f469}\u200d\u{1f4bb}')).to.equal(
      '\u05e9\u200f1\u200e \u{1f469}\u200d\u{1f4bb}',
    );
  });

  it('sanitize never leaves a control character other than TAB, CR or LF', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (text) => {
        expect(sanitize(text)).to.not.match(
          // eslint-disable-next-line no-control-regex -- the property is about control characters
          /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/,
        );
      }),
      { numRuns: 300 },
    );
  });

  it('sanitize never removes a character: each one it refuses leaves a visible U+FFFD', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (text) => {
        const clean = sanitize(text);
        expect(clean.length).to.equal(text.length);
        for (let i = 0; i < text.length; i++) {
          if (clean[i] !== text[i]) expect(clean[i]).to.equal('\ufffd');
        }
      }),
      { numRuns: 300 },
    );
  });

  it('sanitizeName replaces controls, TAB and invisible characters with U+FFFD', () => {
    expect(sanitizeName('ali\u0085ce')).to.equal('ali\ufffdce');
    expect(sanitizeName('ali\u200bce')).to.equal('ali\ufffdce');
    expect(sanitizeName('\u202eecila')).to.equal('\ufffdecila');
    expect(sanitizeName('ali\u00a0ce\t')).to.equal('ali\ufffdce\ufffd');
    expect(sanitizeName('josé o\u0301 山田 x')).to.equal('josé o\u0301 山田 x');
  });

  it('sanitizeName never turns one name into another that looks clean', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 30 }), (name) => {
        const shown = sanitizeName(name);
        if (shown !== name) expect(shown).to.include('\ufffd');
      }),
      { numRuns: 500 },
    );
  });

  // Issue #9: the reply to `ali<NEL>ce` named alice, a different user.
  it('userReply never names a different user than the one asked about', () => {
    expect(userReply('ali\u0085ce', null)).to.deep.equal(['Login: ali\ufffdce', 'No such user']);
    expect(userReply('ali\u200bce', null)).to.deep.equal(['Login: ali\ufffdce', 'No such user']);
  });

  it('listReply shows a listed name that holds invisible characters as such', () => {
    expect(listReply(['alice', 'ali\u2060ce'])).to.deep.equal(['alice', 'ali\ufffdce']);
  });

  it('toLines splits at CRLF, CR and LF and drops one final line ending', () => {
    expect(toLines('a\r\nb\nc\rd\n')).to.deep.equal(['a', 'b', 'c', 'd']);
    expect(toLines('')).to.deep.equal([]);
  });

  it('userReply gives Login then the info, or No such user', () => {
    expect(userReply('bob', null)).to.deep.equal(['Login: bob', 'No such user']);
    expect(userReply('amy', 'Hi\nthere')).to.deep.equal(['Login: amy', 'Hi', 'there']);
  });

  it('listReply gives one name per line, or No users', () => {
    expect(listReply(['a', 'b'])).to.deep.equal(['a', 'b']);
    expect(listReply([])).to.deep.equal(['No users']);
  });

  it('encodeReply ends every line with CRLF', () => {
    expect(encodeReply(['a', 'b'])).to.equal('a\r\nb\r\n');
  });
});
