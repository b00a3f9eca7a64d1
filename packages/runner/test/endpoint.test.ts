import { expect } from 'chai';
import fc from 'fast-check';
import { EndpointError, formatServerEndpoint, parseServerEndpoint } from '../src/endpoint.js';

describe('parseServerEndpoint', () => {
  it('reads a port with Twisted defaults (all interfaces, backlog 50)', () => {
    expect(parseServerEndpoint('tcp:8007')).to.deep.equal({
      type: 'tcp',
      port: 8007,
      interface: '',
      backlog: 50,
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
    expect(parseServerEndpoint('tcp:7979:interface=\\:\\:1').interface).to.equal('::1');
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
    ['udp:53', /unknown endpoint type 'udp' \(supported: tcp\)/],
    ['unix:/tmp/s', /unix endpoints are not supported yet/],
    [':80', /missing the endpoint type/],
    ['tcp:80\\', /ends with a lone backslash/],
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
