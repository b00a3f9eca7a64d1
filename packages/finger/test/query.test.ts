// The RFC 1288 query grammar: a table of lines, then properties with fast-check.
import { expect } from 'chai';
import fc from 'fast-check';
import { FingerQueryError } from '../src/errors.js';
import {
  type FingerQuery,
  decodeQuery,
  formatQuery,
  forwardedQuery,
  parseQuery,
} from '../src/query.js';

describe('parseQuery', () => {
  const cases: [string, FingerQuery][] = [
    ['alice', { kind: 'user', user: 'alice', verbose: false, hosts: [] }],
    ['', { kind: 'list', user: '', verbose: false, hosts: [] }],
    ['   ', { kind: 'list', user: '', verbose: false, hosts: [] }],
    ['/W alice', { kind: 'user', user: 'alice', verbose: true, hosts: [] }],
    ['/w\talice ', { kind: 'user', user: 'alice', verbose: true, hosts: [] }],
    ['/W', { kind: 'list', user: '', verbose: true, hosts: [] }],
    ['alice@b', { kind: 'user', user: 'alice', verbose: false, hosts: ['b'], host: 'b' }],
    ['@b', { kind: 'list', user: '', verbose: false, hosts: ['b'], host: 'b' }],
    ['/W alice@b@c', { kind: 'user', user: 'alice', verbose: true, hosts: ['b', 'c'], host: 'c' }],
    ['/Walice', { kind: 'user', user: '/Walice', verbose: false, hosts: [] }],
  ];
  for (const [line, expected] of cases) {
    it(`parses ${JSON.stringify(line)}`, () => {
      expect(parseQuery(line)).to.deep.equal(expected);
    });
  }

  for (const line of ['foo bar', '/W a b', 'alice@', 'alice@@host', 'a\x1b[2Jb', 'a\0']) {
    it(`rejects ${JSON.stringify(line)} with FingerQueryError`, () => {
      expect(() => parseQuery(line)).to.throw(FingerQueryError);
    });
  }

  // Issue #9: C1 controls passed the parser and were removed from the echoed
  // name, so `ali<NEL>ce` was answered `Login: alice`. Every character that
  // would make one name look like another is refused, as C0 controls are.
  const invisible: [string, string][] = [
    ['ali\u0085ce', 'NEL (C1)'],
    ['\u009b31malice', 'CSI (C1)'],
    ['alice\x7f', 'DEL'],
    ['ali\rce', 'a stray CR'],
    ['ali\u200bce', 'zero-width space'],
    ['ali\u200dce', 'zero-width joiner'],
    ['alice\u00ad', 'soft hyphen'],
    ['\ufeffalice', 'BOM'],
    ['alice\ufe0f', 'variation selector'],
    ['ali\u3164ce', 'Hangul filler'],
    ['\u202ealice', 'right-to-left override'],
    ['\u2066alice\u2069', 'left-to-right isolate'],
    ['alice@ho\u202ast', 'bidi embedding in a host'],
    ['ali\u00a0ce', 'no-break space'],
    ['ali\u200ace', 'hair space'],
    ['alice\u3000', 'ideographic space'],
    ['ali\u2028ce', 'line separator'],
    ['ali\ud800ce', 'lone surrogate'],
    ['alice\u{e0041}', 'tag character'],
  ];
  for (const [line, what] of invisible) {
    it(`refuses a query holding a ${what} (issue #9)`, () => {
      expect(() => parseQuery(line)).to.throw(FingerQueryError);
    });
  }

  for (const name of ['josé', 'Ελένη', '山田', 'o\u0301scar', 'x\ufffdy']) {
    it(`accepts the visible name ${JSON.stringify(name)}`, () => {
      expect(parseQuery(name).user).to.equal(name);
    });
  }

  it('keeps the host of alice@host (Twisted always lost it)', () => {
    expect(parseQuery('bob@host.example').host).to.equal('host.example');
  });
});

describe('parseQuery of bytes', () => {
  it('decodes UTF-8', () => {
    expect(parseQuery(Buffer.from('/W josé@b')).user).to.equal('josé');
    expect(decodeQuery(Buffer.from('alice'))).to.equal('alice');
  });

  // Node's lenient decoding turned each of these into U+FFFD, so different
  // byte strings became the same name; the UTF-8 encoded C1 reached the
  // reply filter, which removed it (issue #9).
  const bad: [number[], string][] = [
    [[0x61, 0xc2, 0x85, 0x62], 'U+0085 (NEL) encoded as UTF-8'],
    [[0x61, 0x85, 0x62], 'a raw C1 byte, as a Latin-1 client sends NEL'],
    [[0x6a, 0x6f, 0x73, 0xe9], 'Latin-1 é'],
    [[0x61, 0xc0, 0x80], 'an overlong NUL'],
    [[0x61, 0xc1, 0x81], 'an overlong A'],
    [[0x61, 0xed, 0xa0, 0x80], 'an encoded surrogate'],
    [[0x61, 0xe2, 0x80], 'a truncated sequence'],
    [[0xef, 0xbb, 0xbf, 0x61], 'a BOM'],
    [[0x61, 0xe2, 0x80, 0x8b, 0x62], 'U+200B encoded as UTF-8'],
  ];
  for (const [bytes, what] of bad) {
    it(`refuses ${what} with FingerQueryError`, () => {
      expect(() => parseQuery(Buffer.from(bytes))).to.throw(FingerQueryError);
    });
  }
});

describe('forwardedQuery', () => {
  it('sends the query minus its last host to that host (RFC 1288 §2.5.1)', () => {
    expect(forwardedQuery(parseQuery('/W alice@b@c'))).to.deep.equal({
      host: 'c',
      line: '/W alice@b',
    });
    expect(forwardedQuery(parseQuery('alice@b'))).to.deep.equal({ host: 'b', line: 'alice' });
    expect(forwardedQuery(parseQuery('@b'))).to.deep.equal({ host: 'b', line: '' });
  });

  it('is null for a local query', () => {
    expect(forwardedQuery(parseQuery('alice'))).to.equal(null);
  });
});

describe('query properties', () => {
  const word = fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/);
  const queryArb = fc.record({
    user: fc.oneof(fc.constant(''), word),
    verbose: fc.boolean(),
    hosts: fc.array(word, { maxLength: 4 }),
  });

  it('formatQuery then parseQuery gives the same query back', () => {
    fc.assert(
      fc.property(queryArb, (q) => {
        const parsed = parseQuery(formatQuery(q));
        expect(parsed.user).to.equal(q.user);
        expect(parsed.verbose).to.equal(q.verbose);
        expect(parsed.hosts).to.deep.equal(q.hosts);
        expect(parsed.kind).to.equal(q.user === '' ? 'list' : 'user');
        expect(parsed.host).to.equal(q.hosts.at(-1));
      }),
    );
  });

  it('forwarding peels exactly one host per hop until the query is local', () => {
    fc.assert(
      fc.property(queryArb, (q) => {
        let query = parseQuery(formatQuery(q));
        const visited: string[] = [];
        for (let hop = 0; hop <= q.hosts.length; hop++) {
          const next = forwardedQuery(query);
          if (next === null) break;
          visited.push(next.host);
          query = parseQuery(next.line);
        }
        expect(visited).to.deep.equal([...q.hosts].reverse());
        expect(query.hosts).to.deep.equal([]);
        expect(query.user).to.equal(q.user);
      }),
    );
  });

  it('a name that parses holds no control, format or invisible character', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 20 }), (line) => {
        let q: FingerQuery;
        try {
          q = parseQuery(line);
        } catch (err) {
          expect(err).to.be.instanceOf(FingerQueryError);
          return;
        }
        for (const part of [q.user, ...q.hosts]) {
          expect(part).to.not.match(
            /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Default_Ignorable_Code_Point}]|(?! )\p{Zs}/u,
          );
        }
      }),
      { numRuns: 500 },
    );
  });

  it('bytes either parse or throw FingerQueryError, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 24 }), (bytes) => {
        try {
          parseQuery(bytes);
        } catch (err) {
          expect(err).to.be.instanceOf(FingerQueryError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('any line either parses or throws FingerQueryError, never anything else', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (line) => {
        try {
          const q = parseQuery(line);
          expect(q.user).to.not.match(/[\s@]/);
          for (const host of q.hosts) expect(host).to.match(/^[^\s@]+$/);
        } catch (err) {
          expect(err).to.be.instanceOf(FingerQueryError);
        }
      }),
    );
  });
});
