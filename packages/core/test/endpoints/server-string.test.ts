import { expect } from 'chai';
import fc from 'fast-check';
// Tests for src/endpoints/server-strings.ts and the server half of endpoint-registry.ts: parsing
// server endpoint strings without I/O, and formatting them back.
import {
  EndpointError,
  escapeEndpointValue,
  formatServerDescription as formatServerEndpoint,
  parseServerDescription as parseServerEndpoint,
} from '../../src/endpoints/index.js';

describe('parseServerDescription', () => {
  it('reads a port with Twisted defaults (all interfaces, backlog 4096)', () => {
    expect(parseServerEndpoint('tcp:8007')).to.deep.equal({
      type: 'tcp',
      port: 8007,
      interface: '',
      backlog: 4096,
    });
  });

  it('reads interface and backlog options, in any order, and port= as well', () => {
    expect(parseServerEndpoint('tcp:8080:interface=127.0.0.1:backlog=10')).to.deep.equal({
      type: 'tcp',
      port: 8080,
      interface: '127.0.0.1',
      backlog: 10,
    });
    expect(parseServerEndpoint('TCP:backlog=5:port=0')).to.include({ port: 0, backlog: 5 });
  });

  it('unescapes backslashed colons, so IPv6 interfaces fit', () => {
    expect(parseServerEndpoint('tcp:7979:interface=\\:\\:1')).to.include({ interface: '::1' });
  });

  // Issue #10: the shell eats the backslashes of an unquoted `interface=\:\:1`.
  it('hints at escaping and quoting when an IPv6 interface fell apart into fields', () => {
    for (const text of ['tcp:8007:interface=::1', 'tcp:interface=fe80::1:port=0']) {
      expect(() => parseServerEndpoint(text)).to.throw(
        EndpointError,
        /too many positional fields .*IPv6 address needs its colons escaped, and the endpoint quoted .*'tcp:8007:interface=\\:\\:1'$/,
      );
    }
    expect(() => parseServerEndpoint('tcp:80:90'))
      .to.throw(EndpointError)
      .that.satisfies((err: Error) => !err.message.includes('IPv6'));
  });

  const bad: [string, RegExp][] = [
    ['tcp:80:interface=', /interface= needs an address; leave it out to listen on every interface/],
    ['tcp:interface=:port=80', /interface= needs an address/],
    ['tcp:abc', /port must be an integer from 0 to 65535, got 'abc'/],
    ['tcp:65536', /port must be an integer from 0 to 65535, got '65536'/],
    ['tcp:-1', /port must be an integer/],
    ['tcp:', /needs a port/],
    ['tcp', /needs a port/],
    ['tcp:80:backlog=0', /backlog must be an integer from 1 to 65535, got '0'/],
    ['tcp:80:colour=red', /unknown tcp option 'colour' \(known: port, interface, backlog\)/],
    ['tcp:80:port=81', /port is given twice/],
    ['tcp:80:backlog=1:backlog=2', /'backlog' given twice/],
    ['tcp:80:90', /too many positional fields/],
    [
      'sctp:53',
      /unknown endpoint type 'sctp' \(known: (.*, )?ssl, systemd, tcp, tcp6, tls, udp, unix; a package that adds a type registers it when it is loaded\)/,
    ],
    [':80', /missing the endpoint type/],
    ['tcp:80\\', /ends with a lone backslash; a ':', '=' or '\\' inside a value needs a backslash/],
    ['tcp=80', /missing the endpoint type/],
  ];
  for (const [text, message] of bad) {
    it(`rejects '${text}' with a message naming the problem`, () => {
      expect(() => parseServerEndpoint(text))
        .to.throw(EndpointError, message)
        .with.property('code', 'TORSION_ERR_ENDPOINT');
    });
  }

  it('round-trips through formatServerEndpoint for any port and interface', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 65535 }),
        fc.oneof(fc.constant(''), fc.ipV4(), fc.ipV6()),
        (port, iface) => {
          const endpoint = parseServerEndpoint(
            `tcp:${String(port)}${iface === '' ? '' : `:interface=${iface.replaceAll(':', '\\:')}`}`,
          );
          expect(endpoint).to.include({ port, interface: iface });
          expect(parseServerEndpoint(formatServerEndpoint(endpoint))).to.deep.equal(endpoint);
        },
      ),
    );
  });

  it('never throws anything but EndpointError, whatever the string', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          parseServerEndpoint(text);
        } catch (err) {
          expect(err).to.be.instanceOf(EndpointError);
        }
      }),
    );
  });
});

describe('parseServerDescription: ssl', () => {
  const defaults = {
    type: 'ssl',
    interface: '',
    backlog: 4096,
    extraCertChain: null,
    caCerts: null,
    clientCertificates: 'none',
    alpn: [],
    minVersion: 'TLSv1.2',
  };

  it("reads Twisted's ssl:PORT:privateKey=…:certKey=… with TLS 1.2, no client certificates, backlog 4096", () => {
    expect(parseServerEndpoint('ssl:8443:privateKey=key.pem:certKey=cert.pem')).to.deep.equal({
      ...defaults,
      port: 8443,
      privateKey: 'key.pem',
      certKey: 'cert.pem',
    });
  });

  it('takes the certificate from the privateKey file when certKey is left out (one file holding both)', () => {
    expect(parseServerEndpoint('ssl:443:privateKey=server.pem')).to.include({
      privateKey: 'server.pem',
      certKey: 'server.pem',
    });
  });

  it('reads every option, in any order, with port= as a named field', () => {
    expect(
      parseServerEndpoint(
        'SSL:minVersion=tlsv1.3:alpn=h2,http/1.1:clientCertificates=require:caCerts=ca.pem:backlog=7:interface=127.0.0.1:extraCertChain=chain.pem:certKey=cert.pem:privateKey=key.pem:port=0',
      ),
    ).to.deep.equal({
      type: 'ssl',
      port: 0,
      interface: '127.0.0.1',
      backlog: 7,
      privateKey: 'key.pem',
      certKey: 'cert.pem',
      extraCertChain: 'chain.pem',
      caCerts: 'ca.pem',
      clientCertificates: 'require',
      alpn: ['h2', 'http/1.1'],
      minVersion: 'TLSv1.3',
    });
    expect(
      parseServerEndpoint('ssl:1:privateKey=k:caCerts=ca.pem:clientCertificates=request'),
    ).to.include({ clientCertificates: 'request', caCerts: 'ca.pem' });
  });

  it("unescapes '\\:', '\\=' and '\\\\' in file names, and an IPv6 interface", () => {
    const endpoint = parseServerEndpoint(
      'ssl:8443:privateKey=C\\:\\\\keys\\\\a\\=b.pem:interface=\\:\\:1',
    );
    expect(endpoint).to.include({ privateKey: 'C:\\keys\\a=b.pem', interface: '::1' });
  });

  it('keeps a second unescaped = in a value (only the first one separates the name)', () => {
    expect(parseServerEndpoint('ssl:1:privateKey=a=b.pem')).to.include({ privateKey: 'a=b.pem' });
  });

  const bad: [string, RegExp][] = [
    ['ssl:8443', /an ssl endpoint needs privateKey=FILE \(a PEM private key; add certKey=FILE/],
    ['ssl:8443:certKey=cert.pem', /needs privateKey=FILE/],
    ['ssl:privateKey=k.pem', /an ssl endpoint needs a port \(ssl:PORT\)/],
    ['ssl:8443:privateKey=', /privateKey= needs a file path/],
    ['ssl:8443:privateKey=k:certKey=', /certKey= needs a file path/],
    ['ssl:8443:privateKey=k:extraCertChain=', /extraCertChain= needs a file path/],
    ['ssl:8443:privateKey=k:caCerts=:clientCertificates=require', /caCerts= needs a file path/],
    ['ssl:70000:privateKey=k', /port must be an integer from 0 to 65535, got '70000'/],
    ['ssl:1:privateKey=k:backlog=x', /backlog must be an integer from 1 to 65535, got 'x'/],
    ['ssl:1:privateKey=k:interface=', /interface= needs an address/],
    ['ssl:1:privateKey=k:port=2', /the port is given twice/],
    ['ssl:1:privateKey=k:privateKey=j', /'privateKey' given twice/],
    [
      'ssl:1:privatekey=k',
      /unknown ssl option 'privatekey' \(known: port, privateKey, certKey, extraCertChain, interface, backlog, caCerts, clientCertificates, alpn, minVersion\); did you mean 'privateKey'\?/,
    ],
    ['ssl:1:privateKey=k:colour=red', /unknown ssl option 'colour' \(known: port, /],
    [
      'ssl:1:privateKey=k:sslmethod=TLSv1_2_METHOD',
      /sslmethod= is not supported: Torsion offers TLS 1.2 and 1.3 only; use minVersion=TLSv1.3/,
    ],
    ['ssl:1:privateKey=k:dhParameters=dh.pem', /dhParameters= is not supported: .*ECDHE/],
    [
      'ssl:1:privateKey=k:clientCertificates=always:caCerts=ca.pem',
      /clientCertificates must be none, request or require, got 'always'/,
    ],
    [
      'ssl:1:privateKey=k:clientCertificates=require',
      /clientCertificates=require needs caCerts=FILE \(the CA certificates that sign client certificates\)/,
    ],
    [
      'ssl:1:privateKey=k:caCerts=ca.pem',
      /caCerts= verifies client certificates; add clientCertificates=request or clientCertificates=require/,
    ],
    [
      'ssl:1:privateKey=k:alpn=',
      /alpn= must be protocol names of 1 to 255 bytes separated by commas/,
    ],
    ['ssl:1:privateKey=k:alpn=h2,,http/1.1', /alpn= must be protocol names .* got 'h2,,http\/1.1'/],
    [
      `ssl:1:privateKey=k:alpn=${'x'.repeat(256)}`,
      /alpn= must be protocol names of 1 to 255 bytes/,
    ],
    [
      'ssl:1:privateKey=k:minVersion=TLSv1.1',
      /minVersion must be TLSv1.2 or TLSv1.3 \(older versions are not offered\), got 'TLSv1.1'/,
    ],
    // What the shell leaves of an unquoted `privateKey=my\:key.pem`.
    [
      'ssl:8443:privateKey=my:key.pem',
      /too many positional fields \(expected ssl:PORT:privateKey=FILE.*\); a ':', '=' or '\\' inside a value needs a backslash before it, and the endpoint quoted so the shell keeps the backslashes: 'ssl:8443:privateKey=my\\:key.pem'$/,
    ],
    [
      'ssl:8443:privateKey=k:interface=::1',
      /too many positional fields .*IPv6 address needs its colons escaped, .*'ssl:8443:privateKey=key\.pem:interface=\\:\\:1'$/,
    ],
    ['ssl:8443:privateKey=k\\', /ends with a lone backslash; .*quoted so the shell keeps/],
  ];
  for (const [text, message] of bad) {
    it(`rejects '${text.length > 80 ? `${text.slice(0, 77)}...` : text}' with a message naming the problem`, () => {
      expect(() => parseServerEndpoint(text))
        .to.throw(EndpointError, message)
        .with.property('code', 'TORSION_ERR_ENDPOINT');
    });
  }

  /** File names: anything, including the characters that need escaping. */
  const fileName = fc.string({ minLength: 1, maxLength: 40, unit: 'binary' });

  it('reads back any file name written with escapeEndpointValue', () => {
    fc.assert(
      fc.property(fileName, fileName, fileName, (key, cert, chain) => {
        const endpoint = parseServerEndpoint(
          `ssl:0:privateKey=${escapeEndpointValue(key)}:certKey=${escapeEndpointValue(cert)}:extraCertChain=${escapeEndpointValue(chain)}`,
        );
        expect(endpoint).to.include({ privateKey: key, certKey: cert, extraCertChain: chain });
      }),
    );
  });

  it('round-trips any ssl endpoint through formatServerEndpoint', () => {
    const alpnName = fc
      .string({ minLength: 1, maxLength: 20, unit: 'binary' })
      .filter((name) => !name.includes(',') && Buffer.byteLength(name) <= 255);
    const endpoint = fc.record({
      type: fc.constant('ssl' as const),
      port: fc.integer({ min: 0, max: 65535 }),
      interface: fc.oneof(fc.constant(''), fc.ipV4(), fc.ipV6()),
      backlog: fc.integer({ min: 1, max: 65535 }),
      privateKey: fileName,
      certKey: fileName,
      extraCertChain: fc.option(fileName),
      caCerts: fc.constant<string | null>(null),
      clientCertificates: fc.constant<'none' | 'request' | 'require'>('none'),
      alpn: fc.array(alpnName, { maxLength: 3 }),
      minVersion: fc.constantFrom('TLSv1.2' as const, 'TLSv1.3' as const),
    });
    const withClientCertificates = fc
      .tuple(endpoint, fileName, fc.constantFrom('request' as const, 'require' as const))
      .map(([e, caCerts, clientCertificates]) => ({ ...e, caCerts, clientCertificates }));
    fc.assert(
      fc.property(fc.oneof(endpoint, withClientCertificates), (given) => {
        expect(parseServerEndpoint(formatServerEndpoint(given))).to.deep.equal(given);
      }),
    );
  });

  it('formats an endpoint with its defaults left out', () => {
    expect(formatServerEndpoint(parseServerEndpoint('ssl:8443:privateKey=k.pem'))).to.equal(
      'ssl:8443:privateKey=k.pem',
    );
    expect(
      formatServerEndpoint(
        parseServerEndpoint('ssl:8443:privateKey=a\\:b.pem:certKey=c.pem:interface=\\:\\:1'),
      ),
    ).to.equal('ssl:8443:privateKey=a\\:b.pem:certKey=c.pem:interface=\\:\\:1');
  });
});

describe('parseServerDescription: tcp6, unix, systemd, udp', () => {
  it('formats and reads back a systemd endpoint for every name systemd allows', () => {
    const name = fc.string({
      minLength: 1,
      maxLength: 255,
      unit: fc
        .integer({ min: 0x20, max: 0x7e })
        .filter((c) => c !== 0x3a)
        .map((c) => String.fromCharCode(c)),
    });
    fc.assert(
      fc.property(
        name,
        fc.constantFrom('INET' as const, 'INET6' as const, 'UNIX' as const),
        (given, domain) => {
          const description = { type: 'systemd' as const, domain, index: null, name: given };
          expect(parseServerEndpoint(formatServerEndpoint(description))).to.deep.equal(description);
        },
      ),
    );
  });

  it('reads each with its defaults', () => {
    expect(parseServerEndpoint('tcp6:8007')).to.deep.equal({
      type: 'tcp6',
      port: 8007,
      interface: '::',
      backlog: 4096,
    });
    expect(parseServerEndpoint('unix:/run/app.sock')).to.deep.equal({
      type: 'unix',
      path: '/run/app.sock',
      mode: null,
      wantPID: false,
      backlog: 4096,
    });
    expect(parseServerEndpoint('unix:address=@app:mode=660:wantPID=yes:backlog=5')).to.deep.equal({
      type: 'unix',
      path: '\0app',
      mode: 0o660,
      wantPID: true,
      backlog: 5,
    });
    expect(parseServerEndpoint('systemd:domain=inet6:index=1')).to.deep.equal({
      type: 'systemd',
      domain: 'INET6',
      index: 1,
      name: null,
    });
    expect(parseServerEndpoint('systemd:domain=UNIX:name=web.socket')).to.deep.equal({
      type: 'systemd',
      domain: 'UNIX',
      index: null,
      name: 'web.socket',
    });
    expect(parseServerEndpoint('udp:7')).to.deep.equal({
      type: 'udp',
      port: 7,
      interface: '',
      maxPacketSize: null,
    });
  });

  const bad: [string, RegExp][] = [
    ['tcp6:', /a tcp6 endpoint needs a port \(tcp6:PORT\)/],
    [
      'tcp6:80:interface=::1',
      /IPv6 address needs its colons escaped.*'tcp6:8007:interface=\\:\\:1'$/,
    ],
    ['unix:', /a unix endpoint needs a path \(unix:PATH\)/],
    [
      'unix:/a:/b',
      /too many positional fields .*a ':', '=' or '\\' inside a value needs a backslash/,
    ],
    ['unix:/a:address=/b', /the path is given twice/],
    ['unix:/a:mode=rw', /mode must be octal permission bits such as 0660, got 'rw'/],
    ['unix:/a:lockfile=perhaps', /lockfile must be yes or no, got 'perhaps'/],
    ['unix:/a:lockfile=1:wantPID=1', /lockfile and wantPID are the same field/],
    ['unix:/a:backlog=0', /backlog must be an integer from 1 to 65535/],
    ['systemd:index=0', /domain must be INET, INET6 or UNIX .*got none/],
    ['systemd:domain=IPX:index=0', /domain must be INET, INET6 or UNIX .*got 'IPX'/],
    ['systemd:domain=INET', /a systemd endpoint needs one of index=N .* and name=NAME/],
    ['systemd:domain=INET:index=0:name=web', /needs one of index=N .* and name=NAME/],
    ['systemd:domain=INET:name=', /name must be 1 to 255 ASCII characters/],
    ['systemd:domain=INET:name=caf\u00e9', /name must be 1 to 255 ASCII characters/],
    ['systemd:domain=INET:name=a\tb', /no control characters/],
    ['systemd:domain=INET:index=-1', /index must be an integer from 0 to 65535/],
    ['systemd:3:domain=INET:index=0', /takes only named fields/],
    ['udp:', /a udp endpoint needs a port \(udp:PORT\)/],
    ['udp:7:maxPacketSize=0', /maxPacketSize must be an integer from 1 to 65535, got '0'/],
    ['udp:7:backlog=5', /unknown udp option 'backlog' \(known: port, interface, maxPacketSize\)/],
  ];
  for (const [text, message] of bad) {
    it(`rejects '${text}' with a message naming the problem`, () => {
      expect(() => parseServerEndpoint(text)).to.throw(EndpointError, message);
    });
  }
});
