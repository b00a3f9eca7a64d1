import { expect } from 'chai';
import { addressFor, IPv4Address, IPv6Address } from '../src/address.js';

describe('addresses', () => {
  it('addressFor() picks IPv6Address for IPv6 literals, scoped ones included', () => {
    expect(addressFor('TCP', '::1', 80)).to.be.instanceOf(IPv6Address);
    expect(addressFor('TCP', 'fe80::1%eth0', 80)).to.be.instanceOf(IPv6Address);
  });

  it('addressFor() picks IPv4Address for IPv4 literals and unresolved names', () => {
    expect(addressFor('TCP', '127.0.0.1', 80)).to.be.instanceOf(IPv4Address);
    expect(addressFor('TCP', 'localhost', 80)).to.be.instanceOf(IPv4Address);
  });

  it('carries type, host, port and family, and prints like a socket address', () => {
    const v4 = new IPv4Address('TCP', '127.0.0.1', 8007);
    const v6 = new IPv6Address('TCP', '::1', 8007);
    expect(v4).to.include({ type: 'TCP', host: '127.0.0.1', port: 8007, family: 'IPv4' });
    expect(v6.family).to.equal('IPv6');
    expect(String(v4)).to.equal('127.0.0.1:8007');
    expect(String(v6)).to.equal('[::1]:8007');
  });
});
