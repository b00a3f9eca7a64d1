// Tests of src/ip.ts: IP text <-> bytes, and CIDR matching (IPv4-mapped
// IPv6 peers count as their IPv4 address).
import { expect } from 'chai';
import fc from 'fast-check';
import { cidrContains, formatIPv6, ipBytes, parseCIDR, parseIPv4, parseIPv6 } from '../src/ip.js';

describe('IP addresses', () => {
  it('parses IPv4 and refuses what is not a dotted quad', () => {
    expect(Array.from(parseIPv4('10.0.0.255') ?? [])).to.deep.equal([10, 0, 0, 255]);
    for (const bad of ['10.0.0', '256.0.0.1', '1.2.3.4.5', 'a.b.c.d', ''])
      expect(parseIPv4(bad)).to.equal(null);
  });

  it('parses IPv6 with ::, an embedded IPv4 tail, and refuses zones and garbage', () => {
    expect(Buffer.from(parseIPv6('::1') ?? []).toString('hex')).to.equal('0'.repeat(31) + '1');
    expect(Buffer.from(parseIPv6('2001:db8::8:1') ?? []).toString('hex')).to.equal(
      '20010db8000000000000000000080001',
    );
    expect(Buffer.from(parseIPv6('::ffff:1.2.3.4') ?? []).toString('hex')).to.equal(
      '00000000000000000000ffff01020304',
    );
    for (const bad of ['fe80::1%eth0', ':::', '1:2:3:4:5:6:7:8:9', 'g::', ''])
      expect(parseIPv6(bad)).to.equal(null);
  });

  it('formats IPv6 as RFC 5952 (the form getPeer() reports)', () => {
    const f = (s: string): string => formatIPv6(parseIPv6(s) ?? new Uint8Array(16));
    expect(f('2001:0DB8:0:0:0:0:0:1')).to.equal('2001:db8::1');
    expect(f('0:0:0:0:0:0:0:0')).to.equal('::');
    expect(f('1:0:0:2:0:0:0:3')).to.equal('1:0:0:2::3');
    expect(f('1:0:2:3:4:5:6:7')).to.equal('1:0:2:3:4:5:6:7');
    expect(f('::ffff:10.0.0.1')).to.equal('::ffff:10.0.0.1');
  });

  it('round-trips any 16 bytes through text', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        expect(Buffer.from(parseIPv6(formatIPv6(bytes)) ?? [])).to.deep.equal(Buffer.from(bytes));
      }),
    );
  });

  it('treats an IPv4-mapped IPv6 address as its IPv4 address', () => {
    expect(Array.from(ipBytes('::ffff:127.0.0.1') ?? [])).to.deep.equal([127, 0, 0, 1]);
    expect(ipBytes('localhost')).to.equal(null);
  });
});

describe('CIDR ranges', () => {
  it('matches by prefix, IPv4-mapped peers included', () => {
    const lo = parseCIDR('127.0.0.0/8');
    expect(cidrContains(lo, '127.1.2.3')).to.equal(true);
    expect(cidrContains(lo, '::ffff:127.0.0.1')).to.equal(true);
    expect(cidrContains(lo, '128.0.0.1')).to.equal(false);
    expect(cidrContains(lo, '::1')).to.equal(false);
    expect(cidrContains(parseCIDR('::1'), '::1')).to.equal(true);
    expect(cidrContains(parseCIDR('10.1.2.3'), '10.1.2.4')).to.equal(false);
    expect(cidrContains(parseCIDR('10.0.0.0/9'), '10.127.0.1')).to.equal(true);
    expect(cidrContains(parseCIDR('10.0.0.0/9'), '10.128.0.1')).to.equal(false);
    expect(cidrContains(parseCIDR('0.0.0.0/0'), '1.2.3.4')).to.equal(true);
    expect(cidrContains(parseCIDR('::ffff:10.0.0.0/104'), '10.9.9.9')).to.equal(true);
    expect(cidrContains(parseCIDR('fd00::/8'), 'fd12::1')).to.equal(true);
    expect(cidrContains(lo, 'not an ip')).to.equal(false);
  });

  it('refuses bad ranges with an error naming the field', () => {
    expect(() => parseCIDR('10.0.0.0/33', 'trustedProxies[0]')).to.throw(
      RangeError,
      /trustedProxies\[0\].*prefix/,
    );
    expect(() => parseCIDR('10.0.0.0/08')).to.throw(RangeError);
    expect(() => parseCIDR('proxy.example', 'trustedProxies[1]')).to.throw(
      RangeError,
      /trustedProxies\[1\]: 'proxy.example'/,
    );
  });
});
