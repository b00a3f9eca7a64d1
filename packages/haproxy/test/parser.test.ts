// Tests of src/parser.ts: v1 and v2 headers as the specification writes
// them, what each kind of bad header is refused with, and the limits.
import { IPv4Address, IPv6Address, UNIXAddress } from '@torsion/core';
import { expect } from 'chai';
import { encodeProxyV2 } from '../src/encoder.js';
import { ProxyHeaderError } from '../src/errors.js';
import { PROXY_V2_SIGNATURE, type ProxyHeaderV2 } from '../src/header.js';
import { parseProxyHeader, ProxyHeaderParser, type ProxyParseResult } from '../src/parser.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

function header(result: ProxyParseResult): Extract<ProxyParseResult, { kind: 'header' }> {
  if (result.kind !== 'header') throw new Error(`expected a header, got ${JSON.stringify(result)}`);
  return result;
}

function errorOf(result: ProxyParseResult): ProxyHeaderError {
  if (result.kind !== 'error') throw new Error(`expected an error, got ${result.kind}`);
  expect(result.error).to.be.instanceOf(ProxyHeaderError);
  expect(result.error.code).to.equal('TORSION_ERR_PROXY_HEADER');
  return result.error;
}

describe('ProxyHeaderParser: v1', () => {
  it('reads TCP4 and hands back the bytes after the CRLF', () => {
    const out = header(
      parseProxyHeader(b('PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET /')),
    );
    expect(out.header).to.deep.equal({
      version: 1,
      command: 'PROXY',
      protocol: 'TCP4',
      source: new IPv4Address('TCP', '192.168.0.1', 56324),
      destination: new IPv4Address('TCP', '192.168.0.11', 443),
    });
    expect(out.rest.toString()).to.equal('GET /');
  });

  it('reads TCP6 and reports the addresses in RFC 5952 form', () => {
    const out = header(parseProxyHeader(b('PROXY TCP6 2001:DB8:0::1 ::ffff:10.0.0.1 1 65535\r\n')));
    expect(out.header.source).to.deep.equal(new IPv6Address('TCP', '2001:db8::1', 1));
    expect(out.header.destination).to.deep.equal(new IPv6Address('TCP', '::ffff:10.0.0.1', 65535));
  });

  it('reads UNKNOWN, with or without the rest of the line: no addresses', () => {
    for (const line of ['PROXY UNKNOWN\r\n', 'PROXY UNKNOWN ffff:: 1.2.3.4 x y\r\n']) {
      const out = header(parseProxyHeader(b(line)));
      expect(out.header).to.include({
        version: 1,
        protocol: 'UNKNOWN',
        source: null,
        destination: null,
      });
      expect(out.rest.length).to.equal(0);
    }
  });

  it('accepts the longest header, 107 bytes with the CRLF, and refuses 108', () => {
    const a = 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff';
    const longest = `PROXY TCP6 ${a} ${a} 65535 65535\r\n`;
    expect(longest.length).to.equal(104);
    const unknown107 = `PROXY UNKNOWN ${'x'.repeat(107 - 16)}\r\n`;
    expect(unknown107.length).to.equal(107);
    header(parseProxyHeader(b(longest)));
    header(parseProxyHeader(b(unknown107)));
    const tooLong = errorOf(parseProxyHeader(b(`PROXY UNKNOWN ${'x'.repeat(107 - 15)}\r\n`)));
    expect(tooLong.message).to.match(/107 bytes \(too long\)/);
  });

  it('says too long as soon as 107 bytes came without a CRLF, not later', () => {
    const parser = new ProxyHeaderParser();
    expect(parser.feed(b(`PROXY UNKNOWN ${'x'.repeat(92)}`)).kind).to.equal('incomplete');
    expect(parser.buffered).to.equal(106);
    errorOf(parser.feed(b('x')));
  });

  for (const [line, field] of [
    ['PROXY TCP5 1.2.3.4 1.2.3.4 1 2\r\n', /protocol 'TCP5'/],
    ['PROXY TCP4 1.2.3.4 1.2.3.4 1\r\n', /single spaces/],
    ['PROXY TCP4  1.2.3.4 1.2.3.4 1 2\r\n', /single spaces/],
    ['PROXY TCP4 1.2.3.4 1.2.3.4 1 2 \r\n', /single spaces/],
    ['PROXY TCP4 1.2.3 1.2.3.4 1 2\r\n', /source address '1.2.3'/],
    ['PROXY TCP4 1.2.3.4 ::1 1 2\r\n', /destination address '::1' is not an IPv4/],
    ['PROXY TCP6 ::1 1.2.3.4 1 2\r\n', /destination address '1.2.3.4' is not an IPv6/],
    ['PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n', /source address/],
    ['PROXY TCP4 1.2.3.4 1.2.3.4 65536 2\r\n', /source port '65536'/],
    ['PROXY TCP4 1.2.3.4 1.2.3.4 1 080\r\n', /destination port '080'/],
    ['PROXY TCP4 1.2.3.4 1.2.3.4 1 -2\r\n', /destination port '-2'/],
    ['PROXY TCP4 1.2.3.4 1.2.3.4 1 2\n', /line feed without a carriage return/],
    ['PROXY TCP4 1.2.3.4 1.2.3.4 1 2\rX', /carriage return not followed/],
    ['PROXY TCP4 1.2.3.4\t1.2.3.4 1 2\r\n', /byte 0x09 at offset 18/],
    ['PROXY\r\n', /does not start with "PROXY "/],
    ['PROXX ', /does not start with "PROXY "/],
    ['GET / HTTP/1.1\r\n', /does not start with a PROXY header/],
  ] as const) {
    it(`refuses ${JSON.stringify(line)} naming what is wrong`, () => {
      expect(errorOf(parseProxyHeader(b(line))).message).to.match(field);
    });
  }

  it('refuses a wrong prefix at the first byte that differs, without waiting for more', () => {
    const parser = new ProxyHeaderParser();
    expect(parser.feed(b('PRO')).kind).to.equal('incomplete');
    errorOf(parser.feed(b('T')));
  });

  it('throws when fed after it finished (a programmer error)', () => {
    const parser = new ProxyHeaderParser();
    header(parser.feed(b('PROXY UNKNOWN\r\n')));
    expect(() => parser.feed(b('x'))).to.throw(Error, /already finished/);
  });
});

describe('ProxyHeaderParser: v2', () => {
  function v2(verCmd: number, fam: number, body: Buffer): Buffer {
    const fixed = Buffer.alloc(16);
    PROXY_V2_SIGNATURE.copy(fixed);
    fixed[12] = verCmd;
    fixed[13] = fam;
    fixed.writeUInt16BE(body.length, 14);
    return Buffer.concat([fixed, body]);
  }
  const v2Header = (r: ProxyParseResult): ProxyHeaderV2 => header(r).header as ProxyHeaderV2;

  it('reads PROXY over TCP/IPv4 built byte by byte from the specification', () => {
    const body = Buffer.from([10, 0, 0, 1, 10, 0, 0, 2, 0x1f, 0x90, 0x00, 0x50]);
    const out = header(parseProxyHeader(Buffer.concat([v2(0x21, 0x11, body), b('after')])));
    expect(out.header).to.include({
      version: 2,
      command: 'PROXY',
      family: 'INET',
      transport: 'STREAM',
    });
    expect(out.header.source).to.deep.equal(new IPv4Address('TCP', '10.0.0.1', 8080));
    expect(out.header.destination).to.deep.equal(new IPv4Address('TCP', '10.0.0.2', 80));
    expect(out.rest.toString()).to.equal('after');
  });

  it('reads UDP over IPv6 as UDP addresses', () => {
    const body = Buffer.alloc(36);
    body[15] = 1;
    body[31] = 2;
    body.writeUInt16BE(53, 32);
    body.writeUInt16BE(5353, 34);
    const h = v2Header(parseProxyHeader(v2(0x21, 0x22, body)));
    expect(h.source).to.deep.equal(new IPv6Address('UDP', '::1', 53));
    expect(h.destination).to.deep.equal(new IPv6Address('UDP', '::2', 5353));
  });

  it('reads UNIX addresses: a path up to its NUL, an abstract name without the padding', () => {
    const body = Buffer.alloc(216);
    body.write('/run/app.sock', 0);
    body.write('\0abstract', 108);
    const h = v2Header(parseProxyHeader(v2(0x21, 0x31, body)));
    expect(h.source).to.deep.equal(new UNIXAddress('/run/app.sock'));
    expect(h.destination).to.deep.equal(new UNIXAddress('\0abstract'));
  });

  it('reads LOCAL (a health check) with no addresses, and ignores any it carries', () => {
    expect(v2Header(parseProxyHeader(v2(0x20, 0x00, Buffer.alloc(0))))).to.include({
      command: 'LOCAL',
      family: 'UNSPEC',
      source: null,
      destination: null,
    });
    const withAddresses = v2Header(parseProxyHeader(v2(0x20, 0x11, Buffer.alloc(12, 1))));
    expect(withAddresses).to.include({
      command: 'LOCAL',
      family: 'INET',
      source: null,
      destination: null,
    });
  });

  it('treats PROXY with an UNSPEC family or transport as unknown addresses', () => {
    expect(v2Header(parseProxyHeader(v2(0x21, 0x00, Buffer.alloc(0)))).source).to.equal(null);
    expect(v2Header(parseProxyHeader(v2(0x21, 0x10, Buffer.alloc(12)))).source).to.equal(null);
  });

  it('exposes ALPN, authority, unique ID, NETNS, SSL with its sub-TLVs, and unknown TLVs', () => {
    const bytes = encodeProxyV2({
      source: new IPv4Address('TCP', '1.2.3.4', 1),
      destination: new IPv4Address('TCP', '5.6.7.8', 2),
      alpn: 'h2',
      authority: 'example.com',
      uniqueId: Buffer.from('abc'),
      netns: 'blue',
      ssl: {
        client: 0x07,
        verify: 0,
        version: 'TLSv1.3',
        commonName: 'alice',
        cipher: 'TLS_AES_128_GCM_SHA256',
        signatureAlgorithm: 'SHA256',
        keyAlgorithm: 'RSA2048',
      },
      tlvs: [{ type: 0xe0, value: Buffer.from([9]) }],
    });
    const h = v2Header(parseProxyHeader(bytes));
    expect(h.alpn?.toString()).to.equal('h2');
    expect(h.authority).to.equal('example.com');
    expect(h.uniqueId?.toString()).to.equal('abc');
    expect(h.netns).to.equal('blue');
    expect(h.ssl).to.deep.include({
      client: 7,
      ssl: true,
      clientCertificate: true,
      verify: 0,
      version: 'TLSv1.3',
      commonName: 'alice',
      cipher: 'TLS_AES_128_GCM_SHA256',
      signatureAlgorithm: 'SHA256',
      keyAlgorithm: 'RSA2048',
    });
    expect(h.tlvs.map((t) => t.type)).to.deep.equal([0x01, 0x02, 0x05, 0x20, 0x30, 0xe0]);
    expect(h.crc32c).to.equal(null);
  });

  it('verifies a CRC32C TLV, refuses a wrong one, and can be told not to check', () => {
    const good = encodeProxyV2({
      source: new IPv4Address('TCP', '1.2.3.4', 1),
      destination: new IPv4Address('TCP', '5.6.7.8', 2),
      checksum: true,
    });
    expect(v2Header(parseProxyHeader(good)).crc32c).to.be.a('number');
    const bad = Buffer.from(good);
    bad[16] = (bad[16] ?? 0) ^ 1; // the source address changed in transit
    expect(errorOf(parseProxyHeader(bad)).message).to.match(/CRC32C mismatch/);
    expect(v2Header(parseProxyHeader(bad, { verifyChecksum: false })).source).to.deep.equal(
      new IPv4Address('TCP', '0.2.3.4', 1),
    );
  });

  for (const [name, bytes, why] of [
    ['version 1', v2(0x11, 0x11, Buffer.alloc(12)), /version 1 is not 2/],
    ['command 2', v2(0x22, 0x11, Buffer.alloc(12)), /command 2/],
    ['family 4', v2(0x21, 0x41, Buffer.alloc(12)), /address family 4/],
    ['transport 3', v2(0x21, 0x13, Buffer.alloc(12)), /transport protocol 3/],
    [
      'too few address bytes',
      v2(0x21, 0x11, Buffer.alloc(11)),
      /shorter than the 12 address bytes of INET/,
    ],
    [
      'a truncated TLV',
      v2(0x21, 0x11, Buffer.concat([Buffer.alloc(12), Buffer.from([1, 0])])),
      /a TLV needs 3/,
    ],
    [
      'a TLV past the end',
      v2(0x21, 0x11, Buffer.concat([Buffer.alloc(12), Buffer.from([1, 0, 5, 1])])),
      /runs past the header's end/,
    ],
    [
      'a short SSL TLV',
      v2(0x21, 0x00, Buffer.from([0x20, 0, 4, 1, 0, 0, 0])),
      /SSL TLV is 4 bytes/,
    ],
    [
      'a bad SSL sub-TLV',
      v2(0x21, 0x00, Buffer.from([0x20, 0, 6, 1, 0, 0, 0, 0, 0x21])),
      /SSL sub-TLV/,
    ],
    [
      'a 3-byte CRC32C',
      v2(0x21, 0x00, Buffer.from([0x03, 0, 3, 1, 2, 3])),
      /CRC32C TLV is 3 bytes/,
    ],
    [
      'a 129-byte unique ID',
      v2(0x21, 0x00, Buffer.concat([Buffer.from([0x05, 0, 129]), Buffer.alloc(129)])),
      /unique ID TLV is 129 bytes/,
    ],
    [
      'a broken signature',
      Buffer.concat([PROXY_V2_SIGNATURE.subarray(0, 5), b('x')]),
      /signature does not match/,
    ],
  ] as const) {
    it(`refuses ${name}`, () => {
      expect(errorOf(parseProxyHeader(bytes)).message).to.match(why);
    });
  }

  it('refuses a header longer than maxV2Length as soon as its length field arrives', () => {
    const parser = new ProxyHeaderParser({ maxV2Length: 100 });
    const bytes = v2(0x21, 0x11, Buffer.alloc(200));
    expect(errorOf(parser.feed(bytes.subarray(0, 16))).message).to.match(
      /216 is over the limit of 100 bytes \(too long\)/,
    );
  });

  it('refuses a bad maxV2Length with an error naming it', () => {
    expect(() => new ProxyHeaderParser({ maxV2Length: 15 })).to.throw(RangeError, /maxV2Length/);
    expect(() => new ProxyHeaderParser({ maxV2Length: 70000 })).to.throw(RangeError, /maxV2Length/);
  });
});
