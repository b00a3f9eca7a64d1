// Tests of src/client.ts: a client sends the header first, with its own
// addresses or the ones it relays, and then its protocol's bytes.
import {
  Factory,
  IPv4Address,
  IPv6Address,
  Protocol,
  UNIXAddress,
  type IAddress,
} from '@torsion/core';
import { StringTransport } from '@torsion/core/testing';
import { expect } from 'chai';
import { ProxyHeaderClientFactory } from '../src/client.js';
import { parseProxyHeader } from '../src/parser.js';

class Hello extends Protocol {
  override connectionMade(): void {
    this.transport.write('hello');
  }
}

const OWN = new IPv4Address('TCP', '10.0.0.1', 50000);
const PEER = new IPv4Address('TCP', '10.0.0.2', 8007);

function sent(
  factory: ProxyHeaderClientFactory,
  transport = new StringTransport<IAddress>({ hostAddress: OWN, peerAddress: PEER }),
): Buffer {
  factory.buildProtocol(PEER)?.makeConnection(transport);
  return transport.value();
}

describe('ProxyHeaderClientFactory', () => {
  it('sends a v2 header with its own addresses, then what the protocol writes', () => {
    const bytes = sent(new ProxyHeaderClientFactory(Factory.forProtocol(Hello)));
    const out = parseProxyHeader(bytes);
    if (out.kind !== 'header') throw new Error(out.kind);
    expect(out.header).to.include({ version: 2, command: 'PROXY' });
    expect(out.header.source).to.deep.equal(OWN);
    expect(out.header.destination).to.deep.equal(PEER);
    expect(out.rest.toString()).to.equal('hello');
  });

  it('sends a v1 header for the addresses it relays', () => {
    const client = new IPv6Address('TCP', '2001:db8::7', 1234);
    const server = new IPv6Address('TCP', '2001:db8::1', 443);
    const bytes = sent(
      new ProxyHeaderClientFactory(Factory.forProtocol(Hello), {
        version: 1,
        source: client,
        destination: server,
      }),
    );
    expect(bytes.toString()).to.equal('PROXY TCP6 2001:db8::7 2001:db8::1 1234 443\r\nhello');
  });

  it('adds the v2 fields it is given', () => {
    const bytes = sent(
      new ProxyHeaderClientFactory(Factory.forProtocol(Hello), {
        v2: { authority: 'example.com', checksum: true },
      }),
    );
    const out = parseProxyHeader(bytes);
    if (out.kind !== 'header' || out.header.version !== 2) throw new Error(out.kind);
    expect(out.header.authority).to.equal('example.com');
    expect(out.header.crc32c).to.be.a('number');
  });

  it('refuses half an address pair or a bad version, and cannot put a UNIX connection in a v1 header', () => {
    const inner = Factory.forProtocol(Hello);
    expect(() => new ProxyHeaderClientFactory(inner, { source: OWN })).to.throw(
      TypeError,
      /both source and destination/,
    );
    expect(() => new ProxyHeaderClientFactory(inner, { version: 3 as 1 })).to.throw(
      TypeError,
      /version must be 1 or 2/,
    );
    const unix = new StringTransport<IAddress>({
      hostAddress: new UNIXAddress(null),
      peerAddress: new UNIXAddress('/run/x.sock'),
    });
    expect(() => sent(new ProxyHeaderClientFactory(inner, { version: 1 }), unix)).to.throw(
      TypeError,
      /UNIX/,
    );
    const v2 = parseProxyHeader(
      sent(
        new ProxyHeaderClientFactory(inner),
        new StringTransport<IAddress>({
          hostAddress: new UNIXAddress(null),
          peerAddress: new UNIXAddress('/run/x.sock'),
        }),
      ),
    );
    if (v2.kind !== 'header') throw new Error(v2.kind);
    expect(v2.header.destination).to.deep.equal(new UNIXAddress('/run/x.sock'));
  });
});
