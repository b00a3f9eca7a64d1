// The RFC 1288 query grammar: a table of lines, then properties with fast-check.
import { expect } from 'chai';
import fc from 'fast-check';
import { FingerQueryError } from '../src/errors.js';
import { type FingerQuery, formatQuery, forwardedQuery, parseQuery } from '../src/query.js';

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

  it('keeps the host of alice@host (Twisted always lost it)', () => {
    expect(parseQuery('bob@host.example').host).to.equal('host.example');
  });
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
