// Reply texts and the RFC 1288 §3.3 output filter.
import { expect } from 'chai';
import fc from 'fast-check';
import { encodeReply, listReply, sanitize, toLines, userReply } from '../src/reply.js';

describe('reply', () => {
  it('sanitize strips escape sequences and other controls but keeps TAB, CR, LF and non-ASCII', () => {
    expect(sanitize('a\x1b[31mred\x07\x00\x7f\x9b\tb\r\nç')).to.equal('a[31mred\tb\r\nç');
  });

  it('sanitize never leaves a control character other than TAB, CR or LF', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (text) => {
        // eslint-disable-next-line no-control-regex -- the property is about control characters
        expect(sanitize(text)).to.not.match(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/);
      }),
      { numRuns: 300 },
    );
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
