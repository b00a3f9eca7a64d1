// Tests of src/endpoint.ts: the `haproxy:` endpoint string (parse, format,
// errors naming the field), and a server built from it on the simulated
// reactor, reached by a client that sends a PROXY header.
import {
  Deferred,
  EndpointError,
  Factory,
  formatServerDescription,
  IPv4Address,
  parseServerDescription,
  Protocol,
  serverFromString,
  type IAddress,
  type IProtocol,
} from '@torsion/core';
import { SimulatedReactor } from '@torsion/core/testing';
import {
  LimitTotalConnectionsFactory,
  WrappingFactory,
  type RefusalEvent,
} from '@torsion/policies';
import { expect } from 'chai';
import { ProxyHeaderClientFactory } from '../src/client.js';
import { HAProxyServerEndpoint, type HAProxyEndpointDescription } from '../src/endpoint.js';

describe('the haproxy: endpoint type', () => {
  it('parses haproxy:tcp:8007 with the inner endpoint and default options', () => {
    const d = parseServerDescription(
      'haproxy:tcp:8007:interface=127.0.0.1',
    ) as HAProxyEndpointDescription;
    expect(d.type).to.equal('haproxy');
    expect(d.trustedProxies).to.equal(null);
    expect(d.headerTimeout).to.equal(null);
    expect(d.inner).to.deep.include({ type: 'tcp', port: 8007 });
    expect(formatServerDescription(d)).to.equal('haproxy:tcp:8007:interface=127.0.0.1');
  });

  it('reads trust= and timeout= before the inner endpoint, and formats them back', () => {
    const text = 'haproxy:trust=10.0.0.0/8,fd00\\:\\:/8:timeout=2.5:tcp:8007:interface=\\:\\:1';
    const d = parseServerDescription(text) as HAProxyEndpointDescription;
    expect(d.trustedProxies).to.deep.equal(['10.0.0.0/8', 'fd00::/8']);
    expect(d.headerTimeout).to.equal(2.5);
    expect(d.inner).to.deep.include({ type: 'tcp', interface: '::1' });
    expect(parseServerDescription(formatServerDescription(d))).to.deep.equal(d);
    expect(
      (parseServerDescription('haproxy:trust=:unix:/tmp/x.sock') as HAProxyEndpointDescription)
        .trustedProxies,
    ).to.deep.equal([]);
  });

  for (const [text, why] of [
    ['haproxy:', /no endpoint after haproxy:/],
    ['haproxy:trust=10.0.0.0/8', /no endpoint after haproxy:/],
    ['haproxy:trust=10.0.0.0/33:tcp:1', /trust\[0\]: '10.0.0.0\/33' has a prefix length/],
    ['haproxy:trust=proxy.example:tcp:1', /trust\[0\]: 'proxy.example' is not an IP address/],
    ['haproxy:timeout=0:tcp:1', /timeout must be a positive number of seconds, got '0'/],
    ['haproxy:timeout=soon:tcp:1', /timeout must be a positive number/],
    ['haproxy:timeout=1:timeout=2:tcp:1', /repeated option 'timeout'/],
    ['haproxy:backlog=1:tcp:1', /unknown option 'backlog'/],
    ['haproxy:udp:53', /needs a stream endpoint, and udp receives datagrams/],
    ['haproxy:tcp:99999', /port must be an integer from 0 to 65535/],
  ] as const) {
    it(`refuses '${text}' naming what is wrong`, () => {
      expect(() => parseServerDescription(text)).to.throw(EndpointError, why);
    });
  }

  it("serves a factory on the simulated reactor, presenting the header's client address", async () => {
    const reactor = new SimulatedReactor({ link: { latency: 0.01, chunking: 2 } });
    const server = reactor.host('server');
    const endpoint = serverFromString(server, 'haproxy:trust=0.0.0.0/0:timeout=1:tcp:7');
    expect(endpoint).to.be.instanceOf(HAProxyServerEndpoint);
    const seen = new Deferred<string>();
    class Report extends Protocol {
      override connectionMade(): void {
        seen.callback(this.transport.getPeer().toString());
      }
    }
    await endpoint.listen(Factory.forProtocol(Report));
    const source = new IPv4Address('TCP', '203.0.113.7', 51000);
    const client = new ProxyHeaderClientFactory(
      { buildProtocol: (): IProtocol => new Protocol(), doStart() {}, doStop() {} },
      { source, destination: new IPv4Address('TCP', '198.51.100.1', 7) },
    );
    reactor.host('client').connectTCP('server', 7, client);
    expect(await seen).to.equal('203.0.113.7:51000');
  });

  it('closes, on the simulated reactor, a connection that never sends its header, after timeout=', async () => {
    const reactor = new SimulatedReactor({ link: { latency: 0.01 } });
    await serverFromString(
      reactor.host('server'),
      'haproxy:trust=0.0.0.0/0:timeout=3:tcp:7',
    ).listen(Factory.forProtocol(Protocol));
    const lost = new Deferred<number>();
    class Silent extends Protocol {
      override connectionLost(): void {
        lost.callback(reactor.seconds());
      }
    }
    reactor
      .host('client')
      .connectTCP('server', 7, new WrappingFactory(Factory.forProtocol(Silent)));
    const when = await lost;
    expect(when).to.be.within(3, 3.5);
  });

  it("reports refusals to the served factory's own onRefused when the endpoint has none", async () => {
    const reactor = new SimulatedReactor({ link: { latency: 0.01 } });
    const events: RefusalEvent[] = [];
    const served = new LimitTotalConnectionsFactory(Factory.forProtocol(Protocol), 10, {
      onRefused: (event) => events.push(event),
    });
    await serverFromString(reactor.host('server'), 'haproxy:trust=192.0.2.0/24:tcp:7').listen(
      served,
    );
    const lost = new Deferred<undefined>();
    class Refused extends Protocol {
      override connectionLost(): void {
        lost.callback(undefined);
      }
    }
    reactor
      .host('client')
      .connectTCP('server', 7, new WrappingFactory(Factory.forProtocol(Refused)));
    await lost;
    expect(events.map((e) => [e.policy, e.reason])).to.deep.equal([['haproxy', 'untrusted-proxy']]);
  });

  it('refuses to build on a reactor without callLater', () => {
    const noTime = { listenTCP: () => null } as unknown as IAddress;
    expect(() => serverFromString(noTime, 'haproxy:tcp:1')).to.throw(EndpointError, /callLater/);
  });

  it('a second copy of the module (the built package next to these sources) loads without failing', async () => {
    // The torsion runner imports the built package; a test process may hold the sources too.
    await import('@torsion/haproxy');
    expect(parseServerDescription('haproxy:tcp:8007').type).to.equal('haproxy');
  });
});
