// Tests for src/endpoints/hostname-endpoint.ts: Happy Eyeballs (RFC 8305) on a virtual clock.
import { expect } from 'chai';
import { Deferred } from '../../src/deferred.js';
import { ConnectingCancelledError } from '../../src/endpoints/connecting-cancelled-error.js';
import { HostnameConnectError } from '../../src/endpoints/hostname-connect-error.js';
import {
  DEFAULT_ATTEMPT_DELAY,
  HostnameEndpoint,
  happyEyeballsOrder,
} from '../../src/endpoints/hostname-endpoint.js';
import { StaticNameResolver } from '../../src/endpoints/name-resolver.js';
import {
  CancelledError,
  ConnectError,
  ConnectionRefusedError,
  DNSLookupError,
} from '../../src/errors.js';
import { Factory } from '../../src/factory.js';
import type { Failure } from '../../src/failure.js';
import type {
  IEndpointProtocolFactory,
  INameResolver,
  ResolvedAddress,
} from '../../src/interfaces.js';
import { Protocol } from '../../src/protocol.js';
import { MemoryReactorClock } from '../../src/testing/memory-reactor.js';
import { SimulatedReactor } from '../../src/testing/simulated/simulated-reactor.js';

function outcome<T>(d: Deferred<T>): { result?: T; failure?: Failure } {
  const seen: { result?: T; failure?: Failure } = {};
  d.addCallbacks(
    (result) => {
      seen.result = result;
    },
    (failure: Failure) => {
      seen.failure = failure;
    },
  );
  return seen;
}

/** A factory typed by the protocol it builds, so `connect()` fires with a Protocol. */
function protocols(): IEndpointProtocolFactory<Protocol> {
  return { buildProtocol: () => new Protocol(), doStart() {}, doStop() {} };
}

const resolver = new StaticNameResolver({
  'example.test': ['2001:db8::1', '2001:db8::2', '192.0.2.1', '192.0.2.2'],
  'v4only.test': ['192.0.2.7'],
});

describe('happyEyeballsOrder', () => {
  it('puts IPv6 first, then alternates families, each in the resolver order', () => {
    const addresses: ResolvedAddress[] = [
      { address: '192.0.2.1', family: 4 },
      { address: '192.0.2.2', family: 4 },
      { address: '192.0.2.3', family: 4 },
      { address: '2001:db8::1', family: 6 },
    ];
    expect(happyEyeballsOrder(addresses).map((a) => a.address)).to.deep.equal([
      '2001:db8::1',
      '192.0.2.1',
      '192.0.2.2',
      '192.0.2.3',
    ]);
  });
});

describe('HostnameEndpoint on a MemoryReactorClock', () => {
  let reactor: MemoryReactorClock;
  beforeEach(() => {
    reactor = new MemoryReactorClock();
  });
  const hosts = (): string[] => reactor.tcpClients.map((c) => c.host);

  it('tries IPv6 first and starts the IPv4 attempt after the attempt delay', () => {
    const endpoint = new HostnameEndpoint(reactor, 'example.test', 80, { resolver });
    const seen = outcome(endpoint.connect(Factory.forProtocol(Protocol)));
    expect(hosts()).to.deep.equal(['2001:db8::1']);
    reactor.clock.advance(DEFAULT_ATTEMPT_DELAY - 0.001);
    expect(hosts()).to.deep.equal(['2001:db8::1']);
    reactor.clock.advance(0.001);
    expect(hosts()).to.deep.equal(['2001:db8::1', '192.0.2.1']);
    expect(seen).to.deep.equal({});
  });

  it('v6 slow, v4 fast: the IPv4 connection wins and the IPv6 attempt is stopped, no later one starts', () => {
    const endpoint = new HostnameEndpoint(reactor, 'example.test', 80, { resolver });
    const seen = outcome(endpoint.connect(Factory.forProtocol(Protocol)));
    reactor.clock.advance(DEFAULT_ATTEMPT_DELAY);
    const [v6, v4] = reactor.connectors;
    const connection = v4?.completeConnection();
    expect(seen.result).to.equal(connection?.protocol);
    expect((seen.result as Protocol | undefined)?.transport).to.equal(connection?.transport);
    expect(v6?.stopConnectingCalls).to.equal(1);
    expect(v6?.state).to.equal('disconnected');
    reactor.clock.advance(10);
    expect(hosts()).to.have.length(2);
    expect(reactor.clock.getDelayedCalls()).to.have.length(0);
  });

  it('v6 refused: the next address starts at once, without waiting for the delay', () => {
    const endpoint = new HostnameEndpoint(reactor, 'example.test', 80, { resolver });
    const seen = outcome(endpoint.connect(Factory.forProtocol(Protocol)));
    reactor.connectors[0]?.failConnection(new ConnectionRefusedError());
    expect(hosts()).to.deep.equal(['2001:db8::1', '192.0.2.1']);
    reactor.connectors[1]?.completeConnection();
    expect(seen.result).to.be.instanceOf(Protocol);
  });

  it('all fail: one HostnameConnectError lists each address and its failure, in the order tried', () => {
    const endpoint = new HostnameEndpoint(reactor, 'example.test', 80, { resolver });
    const seen = outcome(endpoint.connect(Factory.forProtocol(Protocol)));
    for (let i = 0; i < 4; i++) {
      reactor.connectors[i]?.failConnection(new ConnectionRefusedError(`refused ${String(i)}`));
    }
    const error = seen.failure?.value;
    expect(error).to.be.instanceOf(HostnameConnectError).and.instanceOf(ConnectError);
    const attempts = (error as HostnameConnectError).attempts;
    expect(attempts.map((a) => a.address)).to.deep.equal([
      '2001:db8::1',
      '192.0.2.1',
      '2001:db8::2',
      '192.0.2.2',
    ]);
    expect(attempts.map((a) => a.error.message)).to.deep.equal([
      'refused 0',
      'refused 1',
      'refused 2',
      'refused 3',
    ]);
    expect(error?.message).to.match(
      /example\.test:80.*2001:db8::1: refused 0.*192\.0\.2\.2: refused 3/,
    );
  });

  it('cancel mid-race: every attempt is stopped, no timer is left, and it fails with ConnectingCancelledError', () => {
    const endpoint = new HostnameEndpoint(reactor, 'example.test', 80, { resolver });
    const d = endpoint.connect(Factory.forProtocol(Protocol));
    const seen = outcome(d);
    reactor.clock.advance(DEFAULT_ATTEMPT_DELAY);
    d.cancel();
    expect(reactor.connectors.map((c) => c.state)).to.deep.equal(['disconnected', 'disconnected']);
    expect(reactor.connectors.map((c) => c.stopConnectingCalls)).to.deep.equal([1, 1]);
    expect(reactor.clock.getDelayedCalls()).to.have.length(0);
    expect(seen.failure?.value)
      .to.be.instanceOf(ConnectingCancelledError)
      .and.instanceOf(CancelledError);
  });

  it('a name that does not resolve fails with DNSLookupError and connects nothing', () => {
    const seen = outcome(
      new HostnameEndpoint(reactor, 'nowhere.test', 80, { resolver }).connect(
        Factory.forProtocol(Protocol),
      ),
    );
    expect(seen.failure?.value).to.be.instanceOf(DNSLookupError);
    expect(reactor.connectors).to.have.length(0);
  });

  it('cancelling while the name is resolving cancels the lookup', () => {
    const pending = new Deferred<readonly ResolvedAddress[]>();
    const slow: INameResolver = { resolveHostName: () => pending };
    const d = new HostnameEndpoint(reactor, 'example.test', 80, { resolver: slow }).connect(
      Factory.forProtocol(Protocol),
    );
    const seen = outcome(d);
    d.cancel();
    expect(seen.failure?.value).to.be.instanceOf(ConnectingCancelledError);
    expect(pending.called).to.equal(true);
    expect(reactor.connectors).to.have.length(0);
  });

  it('passes timeout and bindAddress to every attempt and uses its own attemptDelay', () => {
    const endpoint = new HostnameEndpoint(reactor, 'example.test', 80, {
      resolver,
      timeout: 5,
      attemptDelay: 1,
    });
    outcome(endpoint.connect(Factory.forProtocol(Protocol)));
    reactor.clock.advance(0.5);
    expect(hosts()).to.have.length(1);
    reactor.clock.advance(0.5);
    expect(reactor.tcpClients.map((c) => c.timeout)).to.deep.equal([5, 5]);
  });

  it('an attempt the reactor refuses at once (a bad port) lets the next start at once; all refused fail together', () => {
    const seen = outcome(
      new HostnameEndpoint(reactor, 'example.test', 0, { resolver }).connect(
        Factory.forProtocol(Protocol),
      ),
    );
    // No virtual time passed: every address was tried, and refused, at once.
    const error = seen.failure?.value as HostnameConnectError;
    expect(error).to.be.instanceOf(HostnameConnectError);
    expect(error.attempts).to.have.length(4);
    for (const { error: each } of error.attempts) expect(each).to.be.instanceOf(RangeError);
    expect(reactor.clock.getDelayedCalls()).to.have.length(0);
  });

  it('refuses a negative attemptDelay', () => {
    expect(() => new HostnameEndpoint(reactor, 'x', 1, { attemptDelay: -1 })).to.throw(RangeError);
  });
});

describe('HostnameEndpoint on a SimulatedReactor', () => {
  it('an IPv6 address no host answers loses to IPv4 after the stagger, deterministically', async () => {
    const reactor = new SimulatedReactor({ seed: 1 });
    const server = reactor.host('server');
    server.listenTCP(80, Factory.forProtocol(Protocol));
    const table = new StaticNameResolver({ 'www.test': ['2001:db8::80', server.address] });
    const endpoint = new HostnameEndpoint(reactor, 'www.test', 80, { resolver: table });
    const protocol = await endpoint.connect(protocols());
    expect(protocol.transport.getPeer()).to.include({
      host: server.address,
      port: 80,
    });
    expect(reactor.seconds()).to.be.at.least(DEFAULT_ATTEMPT_DELAY);
    // The IPv6 attempt was stopped: only the winning connection exists.
    expect(reactor.network.connections).to.have.length(1);
  });

  it("resolves through the network's host table when no resolver is given", async () => {
    const reactor = new SimulatedReactor({ seed: 2 });
    const server = reactor.host('db');
    server.listenTCP(5432, Factory.forProtocol(Protocol));
    const protocol = await new HostnameEndpoint(reactor, 'db', 5432).connect(protocols());
    expect(protocol.transport.getPeer()).to.include({ host: server.address });
  });
});
