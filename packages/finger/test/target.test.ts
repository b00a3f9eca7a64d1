// The [user]@host[:port] argument of torsion-finger.
import { expect } from 'chai';
import { parseTarget } from '../src/target.js';

describe('parseTarget', () => {
  const cases: [string, { query: string; host: string; port: number }][] = [
    ['alice@example.org', { query: 'alice', host: 'example.org', port: 79 }],
    ['@example.org', { query: '', host: 'example.org', port: 79 }],
    ['alice@127.0.0.1:7979', { query: 'alice', host: '127.0.0.1', port: 7979 }],
    ['alice@[::1]:7979', { query: 'alice', host: '::1', port: 7979 }],
    ['alice@[::1]', { query: 'alice', host: '::1', port: 79 }],
    ['alice@::1', { query: 'alice', host: '::1', port: 79 }],
    ['alice@b@c:80', { query: 'alice@b', host: 'c', port: 80 }],
  ];
  for (const [argument, expected] of cases) {
    it(`reads ${argument}`, () => {
      expect(parseTarget(argument)).to.deep.equal(expected);
    });
  }

  for (const bad of ['alice', 'alice@', 'alice@:79', 'a@h:0', 'a@h:70000', 'a@h:x', 'a@[::1]:']) {
    it(`rejects ${bad}`, () => {
      expect(() => parseTarget(bad)).to.throw(Error);
    });
  }
});
