// Tests for src/endpoints/strports.ts: the tokenizer of endpoint strings and its escapes.
import { expect } from 'chai';
import fc from 'fast-check';
import { EndpointError } from '../../src/endpoints/endpoint-error.js';
import {
  escapeEndpointValue,
  formatFields,
  parseBoolean,
  splitFields,
} from '../../src/endpoints/strports.js';

describe('splitFields', () => {
  it("splits Twisted's way: positional fields and name=value at the first '='", () => {
    expect(splitFields('tcp:8080:interface=127.0.0.1:backlog=10')).to.deep.equal([
      { name: null, value: 'tcp' },
      { name: null, value: '8080' },
      { name: 'interface', value: '127.0.0.1' },
      { name: 'backlog', value: '10' },
    ]);
    expect(splitFields('a:k=v=w')).to.deep.equal([
      { name: null, value: 'a' },
      { name: 'k', value: 'v=w' },
    ]);
  });

  it('any value survives escaping, whatever characters it holds', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
        const fields = splitFields(`x:${escapeEndpointValue(a)}:name=${escapeEndpointValue(b)}`);
        expect(fields).to.deep.equal([
          { name: null, value: 'x' },
          { name: null, value: a },
          { name: 'name', value: b },
        ]);
      }),
    );
  });

  it('formatFields and splitFields round-trip any fields', () => {
    const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{0,8}$/);
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'binary' }), { maxLength: 4 }),
        fc.array(fc.tuple(name, fc.string({ unit: 'binary' })), { maxLength: 4 }),
        (positional, named) => {
          const fields = splitFields(formatFields('t', positional, named));
          expect(fields).to.deep.equal([
            { name: null, value: 't' },
            ...positional.map((value) => ({ name: null, value })),
            ...named.map(([n, value]) => ({ name: n, value })),
          ]);
        },
      ),
    );
  });

  it('never throws anything but EndpointError, whatever the string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        try {
          splitFields(text);
        } catch (err) {
          expect(err).to.be.instanceOf(EndpointError);
        }
      }),
    );
  });
});

describe('parseBoolean', () => {
  it('reads yes/no, true/false, 1/0 and names the field otherwise', () => {
    expect(parseBoolean('d', 'f', 'YES')).to.equal(true);
    expect(parseBoolean('d', 'f', '0')).to.equal(false);
    expect(parseBoolean('d', 'f', undefined)).to.equal(undefined);
    expect(() => parseBoolean('d', 'lockfile', 'maybe')).to.throw(
      EndpointError,
      /lockfile must be yes or no, got 'maybe'/,
    );
  });
});
