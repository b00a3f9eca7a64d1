import { expect } from 'chai';
import fc from 'fast-check';
// Tests for src/endpoints/client-strings.ts and the client half of endpoint-registry.ts.
import {
  EndpointError,
  escapeEndpointValue,
  formatClientDescription as formatClientEndpoint,
  parseClientDescription as parseClientEndpoint,
  type BuiltInClientDescription as ClientEndpoint,
} from '../../src/endpoints/index.js';

describe('parseClientDescription', () => {
  it("reads tcp:HOST:PORT with Twisted's 30 s timeout", () => {
    expect(parseClientEndpoint('tcp:localhost:8007')).to.deep.equal({
      type: 'tcp',
      host: 'localhost',
      port: 8007,
      timeout: 30,
      bindAddress: null,
    });
  });

  it('reads host= and port= as named fields, and one positional field after host= as the port', () => {
    const expected = { type: 'tcp', host: 'example.com', port: 79, timeout: 2.5 };
    expect(parseClientEndpoint('tcp:host=example.com:port=79:timeout=2.5')).to.include(expected);
    expect(parseClientEndpoint('tcp:79:host=example.com:timeout=2.5')).to.include(expected);
    expect(parseClientEndpoint('TCP:example.com:port=79:timeout=2.5')).to.include(expected);
    expect(parseClientEndpoint('tcp:a:1:bindAddress=127.0.0.2')).to.include({
      bindAddress: '127.0.0.2',
    });
  });

  it('reads tls: with the system roots, no client certificate and TLS 1.2 by default', () => {
    expect(parseClientEndpoint('tls:example.com:443')).to.deep.equal({
      type: 'tls',
      host: 'example.com',
      port: 443,
      timeout: 30,
      bindAddress: null,
      caCerts: null,
      certificate: null,
      privateKey: null,
      alpn: [],
      minVersion: 'TLSv1.2',
    });
  });

  it("reads every tls: field, Twisted's trustRoots= as caCerts=, and ssl: as tls:", () => {
    expect(
      parseClientEndpoint(
        'ssl:host=\\:\\:1:port=8443:trustRoots=ca.pem:certificate=client.pem:privateKey=client.key:alpn=h2:minVersion=TLSv1.3:timeout=5:bindAddress=\\:\\:1',
      ),
    ).to.deep.equal({
      type: 'tls',
      host: '::1',
      port: 8443,
      timeout: 5,
      bindAddress: '::1',
      caCerts: 'ca.pem',
      certificate: 'client.pem',
      privateKey: 'client.key',
      alpn: ['h2'],
      minVersion: 'TLSv1.3',
    });
  });

  it('reads the client key from the certificate file when privateKey is left out', () => {
    expect(parseClientEndpoint('tls:h:1:certificate=both.pem')).to.include({
      certificate: 'both.pem',
      privateKey: 'both.pem',
    });
  });

  const bad: [string, RegExp][] = [
    ['tcp:localhost', /a tcp client endpoint needs a port \(tcp:HOST:PORT\)/],
    ['tcp', /a tcp client endpoint needs a host \(tcp:HOST:PORT\)/],
    ['tls::443', /a tls client endpoint needs a host/],
    ['tcp:h:0', /port must be an integer from 1 to 65535, got '0'/],
    ['tcp:h:http', /port must be an integer from 1 to 65535, got 'http'/],
    [
      'tcp:h:1:host=g',
      /too many positional fields \(expected tcp:HOST:PORT, or host= and port= given once each\)/,
    ],
    ['tcp:h:1:timeout=0', /timeout must be a number of seconds above 0, got '0'/],
    ['tcp:h:1:timeout=soon', /timeout must be a number of seconds above 0, got 'soon'/],
    ['tcp:h:1:bindAddress=', /bindAddress= needs an address; leave it out/],
    [
      'tcp:h:1:caCerts=ca.pem',
      /unknown tcp option 'caCerts' \(known: host, port, timeout, bindAddress\)/,
    ],
    ['tls:h:1:cacerts=ca.pem', /unknown tls option 'cacerts' .*; did you mean 'caCerts'\?/],
    [
      'tls:h:1:caCerts=a.pem:trustRoots=b.pem',
      /caCerts and trustRoots are the same field; give one/,
    ],
    ['tls:h:1:caCerts=', /caCerts= needs a file path/],
    [
      'tls:h:1:privateKey=k.pem',
      /privateKey= is the key of a client certificate; add certificate=FILE/,
    ],
    [
      'tls:h:1:caCertsDir=/etc/ssl/certs',
      /caCertsDir= is not supported: give caCerts=FILE, one PEM file/,
    ],
    ['tls:h:1:endpoint=tcp\\:h\\:1', /endpoint= is not supported/],
    ['ssl:h:1:certKey=c.pem', /certKey= is not supported: give certificate=FILE/],
    ['tls:h:1:minVersion=SSLv3', /minVersion must be TLSv1.2 or TLSv1.3/],
    ['tls:h:1:alpn=,', /alpn= must be protocol names of 1 to 255 bytes/],
    [
      'tls:::1:443',
      /too many positional fields .*IPv6 address needs its colons escaped, and the endpoint quoted so the shell keeps the backslashes: 'tls:\\:\\:1:8443'$/,
    ],
    ['udp:h:1', /unknown client endpoint type 'udp' \(known: (.*, )?ssl, tcp, tcp6, tls, unix; /],
    [':h:1', /missing the endpoint type/],
    ['tls:h:1\\', /ends with a lone backslash/],
  ];
  for (const [text, message] of bad) {
    it(`rejects '${text}' with a message naming the problem`, () => {
      expect(() => parseClientEndpoint(text))
        .to.throw(EndpointError, message)
        .with.property('code', 'TORSION_ERR_ENDPOINT');
    });
  }

  it('never throws anything but EndpointError, whatever the string', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          parseClientEndpoint(text);
        } catch (err) {
          expect(err).to.be.instanceOf(EndpointError);
        }
      }),
    );
  });

  const text = fc.string({ minLength: 1, maxLength: 30, unit: 'binary' });

  it('reads back any host and file name written with escapeEndpointValue', () => {
    fc.assert(
      fc.property(text, text, (host, file) => {
        const endpoint = parseClientEndpoint(
          `tls:${escapeEndpointValue(host)}:443:caCerts=${escapeEndpointValue(file)}`,
        );
        expect(endpoint).to.include({ host, caCerts: file });
      }),
    );
  });

  it('round-trips any client endpoint through formatClientEndpoint', () => {
    const common = {
      host: text,
      port: fc.integer({ min: 1, max: 65535 }),
      timeout: fc.oneof(fc.integer({ min: 1, max: 3600 }), fc.constant(0.5)),
      bindAddress: fc.option(fc.oneof(fc.ipV4(), fc.ipV6())),
    };
    const tcp = fc.record({ type: fc.constant('tcp' as const), ...common });
    const tls = fc
      .record({
        type: fc.constant('tls' as const),
        ...common,
        caCerts: fc.option(text),
        certificate: fc.option(text),
        keyInCertificate: fc.boolean(),
        key: text,
        alpn: fc.array(
          fc.string({ minLength: 1, maxLength: 10 }).filter((name) => !name.includes(',')),
          { maxLength: 3 },
        ),
        minVersion: fc.constantFrom('TLSv1.2' as const, 'TLSv1.3' as const),
      })
      .map(({ keyInCertificate, key, ...rest }) => ({
        ...rest,
        privateKey: rest.certificate === null ? null : keyInCertificate ? rest.certificate : key,
      }));
    fc.assert(
      fc.property(fc.oneof(tcp, tls), (given: ClientEndpoint) => {
        expect(parseClientEndpoint(formatClientEndpoint(given))).to.deep.equal(given);
      }),
    );
  });
});
