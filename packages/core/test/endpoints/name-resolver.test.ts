// Tests for src/endpoints/name-resolver.ts and src/internal/system-name-resolver.ts.
import { expect } from 'chai';
import {
  getSystemNameResolver,
  literalAddress,
  nameResolverFor,
  StaticNameResolver,
} from '../../src/endpoints/name-resolver.js';
import { DNSLookupError } from '../../src/errors.js';
import { MemoryReactor } from '../../src/testing/memory-reactor.js';
import { SimulatedReactor } from '../../src/testing/simulated/simulated-reactor.js';

describe('StaticNameResolver', () => {
  it('answers from its table, case-insensitively, and literals as themselves', async () => {
    const resolver = new StaticNameResolver({ 'Example.Test': ['::1', '127.0.0.1'] });
    expect(await resolver.resolveHostName('example.test')).to.deep.equal([
      { address: '::1', family: 6 },
      { address: '127.0.0.1', family: 4 },
    ]);
    expect(await resolver.resolveHostName('10.1.2.3')).to.deep.equal([
      { address: '10.1.2.3', family: 4 },
    ]);
    const failure = await resolver.resolveHostName('other.test').then(
      () => null,
      (err: unknown) => err,
    );
    expect(failure).to.be.instanceOf(DNSLookupError);
  });

  it('refuses a table entry that is not an address', () => {
    expect(() => new StaticNameResolver({ a: ['not-an-ip'] })).to.throw(TypeError);
    expect(literalAddress('example.com')).to.equal(null);
  });
});

describe('nameResolverFor', () => {
  it("uses a reactor's own resolver, else the system's", async () => {
    const simulated = new SimulatedReactor({ seed: 3 });
    simulated.host('db');
    expect(await nameResolverFor(simulated).resolveHostName('db')).to.deep.equal([
      { address: simulated.host('db').address, family: 4 },
    ]);
    expect(nameResolverFor(new MemoryReactor())).to.equal(getSystemNameResolver());
  });

  it('the system resolver resolves localhost and fails with DNSLookupError for a name that cannot exist', async () => {
    const resolver = getSystemNameResolver();
    const local = await resolver.resolveHostName('localhost');
    expect(local.length).to.be.greaterThan(0);
    for (const { address, family } of local)
      expect(literalAddress(address)?.family).to.equal(family);
    const failure = await resolver.resolveHostName('nothing.invalid').then(
      () => null,
      (err: unknown) => err,
    );
    expect(failure).to.be.instanceOf(DNSLookupError);
  });
});
