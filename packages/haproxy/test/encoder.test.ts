// Tests of src/encoder.ts: the exact bytes of v1 and v2 headers, and bad
// input refused with an error naming the field.
import { IPv4Address, IPv6Address, UNIXAddress } from '@torsion/core';
import { expect } from 'chai';
import { encodeProxyV1, encodeProxyV2 } from '../src/encoder.js';
import { PROXY_V2_SIGNATURE } from '../src/header.js';

const v4 = (host: string, port: number): IPv4Address => new IPv4Address('TCP', host, port);

describe('encodeProxyV1', () => {
  it('writes the line HAProxy sends for TCP4, TCP6 and UNKNOWN', () => {
    expect(
      encodeProxyV1({
        source: v4('192.168.0.1', 56324),
        destination: v4('192.168.0.11', 443),
      }).toString(),
    ).to.equal('PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n');
    expect(
      encodeProxyV1({
        source: new IPv6Address('TCP', '::1', 1),
        destination: new IPv6Address('TCP', '::2', 2),
      }).toString(),
    ).to.equal('PROXY TCP6 ::1 ::2 1 2\r\n');
    expect(encodeProxyV1(null).toString()).to.equal('PROXY UNKNOWN\r\n');
  });

  it('refuses mixed families, UNIX addresses, host names and bad ports, naming the field', () => {
    expect(() =>
      encodeProxyV1({ source: v4('1.2.3.4', 1), destination: new IPv6Address('TCP', '::1', 1) }),
    ).to.throw(TypeError, /source is IPv4 but destination is IPv6/);
    expect(() =>
      encodeProxyV1({ source: new UNIXAddress('/a'), destination: new UNIXAddress('/b') }),
    ).to.throw(TypeError, /UNIX/);
    expect(() =>
      encodeProxyV1({ source: v4('example.com', 1), destination: v4('1.2.3.4', 1) }),
    ).to.throw(TypeError, /source.host 'example.com'/);
    expect(() =>
      encodeProxyV1({ source: v4('1.2.3.4', 1), destination: v4('1.2.3.4', 70000) }),
    ).to.throw(RangeError, /destination.port 70000/);
  });
});

describe('encodeProxyV2', () => {
  it('writes the signature, version/command, family/transport, length and addresses', () => {
    const bytes = encodeProxyV2({ source: v4('10.0.0.1', 8080), destination: v4('10.0.0.2', 80) });
    expect(bytes.subarray(0, 12)).to.deep.equal(PROXY_V2_SIGNATURE);
    expect(bytes.subarray(12).toString('hex')).to.equal(
      '2111000c' + '0a000001' + '0a000002' + '1f90' + '0050',
    );
  });

  it('writes LOCAL with family UNSPEC and no addresses by default', () => {
    expect(encodeProxyV2({ command: 'LOCAL' }).subarray(12).toString('hex')).to.equal('20000000');
  });

  it('writes UDP addresses as DGRAM, and UNIX ones in 108-byte fields', () => {
    const udp = encodeProxyV2({
      source: new IPv4Address('UDP', '1.1.1.1', 1),
      destination: new IPv4Address('UDP', '2.2.2.2', 2),
    });
    expect(udp[13]).to.equal(0x12);
    const unix = encodeProxyV2({
      source: new UNIXAddress('/a'),
      destination: new UNIXAddress(null),
    });
    expect(unix[13]).to.equal(0x31);
    expect(unix.readUInt16BE(14)).to.equal(216);
  });

  it('refuses what cannot be encoded, naming the field', () => {
    expect(() => encodeProxyV2({ source: v4('1.2.3.4', 1) })).to.throw(
      TypeError,
      /both source and destination/,
    );
    expect(() =>
      encodeProxyV2({ source: v4('1.2.3.4', 1), destination: new IPv6Address('TCP', '::1', 1) }),
    ).to.throw(TypeError, /source is IPv4 but destination is IPv6/);
    expect(() =>
      encodeProxyV2({ source: v4('1.2.3.4', -1), destination: v4('1.2.3.4', 1) }),
    ).to.throw(RangeError, /source.port -1/);
    expect(() =>
      encodeProxyV2({
        source: new IPv6Address('TCP', 'fe80::1%lo', 1),
        destination: new IPv6Address('TCP', '::1', 1),
      }),
    ).to.throw(TypeError, /source.host/);
    expect(() => encodeProxyV2({ uniqueId: Buffer.alloc(129) })).to.throw(
      RangeError,
      /uniqueId is 129 bytes/,
    );
    expect(() => encodeProxyV2({ tlvs: [{ type: 256, value: Buffer.alloc(0) }] })).to.throw(
      RangeError,
      /tlvs\[\].type 256/,
    );
    expect(() => encodeProxyV2({ ssl: { client: 300 } })).to.throw(RangeError, /ssl.client 300/);
    expect(() =>
      encodeProxyV2({
        source: new UNIXAddress('/' + 'x'.repeat(108)),
        destination: new UNIXAddress('/b'),
      }),
    ).to.throw(RangeError, /source.name is 109 bytes/);
    expect(() => encodeProxyV2({ authority: 'x'.repeat(70000) })).to.throw(
      RangeError,
      /over 65535/,
    );
  });
});
