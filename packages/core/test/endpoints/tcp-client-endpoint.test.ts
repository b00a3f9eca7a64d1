// Tests for src/endpoints/tcp-client-endpoint.ts, ssl-client-endpoint.ts, connect-attempt.ts and connect-protocol.ts.
import { expect } from 'chai';
import { Deferred } from '../../src/deferred.js';
import { connectProtocol } from '../../src/endpoints/connect-protocol.js';
import { ConnectingCancelledError } from '../../src/endpoints/connecting-cancelled-error.js';
import { StaticNameResolver } from '../../src/endpoints/name-resolver.js';
import { SSL4ClientEndpoint } from '../../src/endpoints/ssl-client-endpoint.js';
import { TCP4ClientEndpoint, TCP6ClientEndpoint } from '../../src/endpoints/tcp-client-endpoint.js';
import { UNIXClientEndpoint, UNIXServerEndpoint } from '../../src/endpoints/unix-endpoints.js';
import {
  CancelledError,
  ConnectError,
  ConnectionRefusedError,
  DNSLookupError,
} from '../../src/errors.js';
import { Factory } from '../../src/factory.js';
import type { Failure } from '../../src/failure.js';
import type { IAddress } from '../../src/address.js';
import type { IProtocol, ResolvedAddress } from '../../src/interfaces.js';
import { Protocol } from '../../src/protocol.js';
import { MemoryReactor, MemoryReactorClock } from '../../src/testing/memory-reactor.js';
import { makeTestCertificates } from '../../src/testing/test-certificates.js';
import { optionsForClientTLS } from '../../src/tls-options.js';

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

class Greeter extends Protocol {
  madeBeforeFired = false;
  override connectionMade(): void {
    this.madeBeforeFired = true;
  }
}

describe('TCP4ClientEndpoint', () => {
  it('fires with the protocol after connectionMade(), connected to its transport', () => {
    const reactor = new MemoryReactor();
    const seen = outcome(
      new TCP4ClientEndpoint(reactor, '127.0.0.1', 8007, { timeout: 3 }).connect(
        Factory.forProtocol(Greeter),
      ),
    );
    expect(reactor.tcpClients[0]).to.include({ host: '127.0.0.1', port: 8007, timeout: 3 });
    expect(seen).to.deep.equal({});
    const connection = reactor.connectors[0]?.completeConnection();
    expect(seen.result).to.equal(connection?.protocol);
    expect((seen.result as Greeter).madeBeforeFired).to.equal(true);
    // The protocol itself, not a wrapper: its own method is back in place.
    expect(Object.hasOwn(seen.result as object, 'makeConnection')).to.equal(false);
  });

  it("fails with the connector's ConnectError", () => {
    const reactor = new MemoryReactor();
    const seen = outcome(
      new TCP4ClientEndpoint(reactor, 'h', 1).connect(Factory.forProtocol(Protocol)),
    );
    reactor.connectors[0]?.failConnection(new ConnectionRefusedError());
    expect(seen.failure?.value).to.be.instanceOf(ConnectionRefusedError);
  });

  it('cancel while connecting stops the attempt and fails with ConnectingCancelledError', () => {
    const reactor = new MemoryReactor();
    const d = new TCP4ClientEndpoint(reactor, '::1', 80).connect(Factory.forProtocol(Protocol));
    const seen = outcome(d);
    d.cancel();
    const connector = reactor.connectors[0];
    expect(connector?.stopConnectingCalls).to.equal(1);
    expect(connector?.state).to.equal('disconnected');
    expect(seen.failure?.value)
      .to.be.instanceOf(ConnectingCancelledError)
      .and.instanceOf(CancelledError);
    expect((seen.failure?.value as ConnectingCancelledError).destination).to.equal('[::1]:80');
  });

  it('a factory that refuses (null) fails the Deferred with a ConnectError', () => {
    const reactor = new MemoryReactor();
    const factory = { buildProtocol: (): IProtocol | null => null, doStart() {}, doStop() {} };
    const seen = outcome(new TCP4ClientEndpoint(reactor, 'h', 1).connect(factory));
    reactor.connectors[0]?.completeConnection();
    expect(seen.failure?.value).to.be.instanceOf(ConnectError);
    expect(seen.failure?.value.message).to.match(/refused the connection to h:1/);
  });

  it('a buildProtocol that throws fails the Deferred with its error', () => {
    const reactor = new MemoryReactor();
    const factory = {
      buildProtocol: (_addr: IAddress): IProtocol => {
        throw new Error('boom');
      },
      doStart() {},
      doStop() {},
    };
    const seen = outcome(new TCP4ClientEndpoint(reactor, 'h', 1).connect(factory));
    reactor.connectors[0]?.completeConnection();
    expect(seen.failure?.value.message).to.equal('boom');
  });

  it('bad arguments the reactor throws for become the failure', () => {
    const seen = outcome(
      new TCP4ClientEndpoint(new MemoryReactor(), 'h', 0).connect(Factory.forProtocol(Protocol)),
    );
    expect(seen.failure?.value).to.be.instanceOf(RangeError);
  });
});

describe('TCP6ClientEndpoint', () => {
  it('connects to an IPv6 literal as it is', () => {
    const reactor = new MemoryReactorClock();
    outcome(new TCP6ClientEndpoint(reactor, '::1', 80).connect(Factory.forProtocol(Protocol)));
    expect(reactor.tcpClients[0]?.host).to.equal('::1');
  });

  it("resolves a name with the reactor's resolver and uses its first IPv6 address", () => {
    const reactor = Object.assign(new MemoryReactorClock(), {
      nameResolver: new StaticNameResolver({
        'both.test': ['192.0.2.1', '2001:db8::5'],
        'four.test': ['192.0.2.1'],
      }),
    });
    outcome(
      new TCP6ClientEndpoint(reactor, 'both.test', 80).connect(Factory.forProtocol(Protocol)),
    );
    expect(reactor.tcpClients[0]?.host).to.equal('2001:db8::5');
    const seen = outcome(
      new TCP6ClientEndpoint(reactor, 'four.test', 80).connect(Factory.forProtocol(Protocol)),
    );
    expect(seen.failure?.value).to.be.instanceOf(DNSLookupError);
  });
});

describe('SSL4ClientEndpoint', () => {
  it('connects with connectSSL and the given options, firing once the protocol is connected', () => {
    const reactor = new MemoryReactor();
    const { ca } = makeTestCertificates();
    const tls = optionsForClientTLS('localhost', { trustRoot: ca.cert });
    const seen = outcome(
      new SSL4ClientEndpoint(reactor, 'localhost', 8443, tls).connect(
        Factory.forProtocol(Protocol),
      ),
    );
    expect(reactor.sslClients[0]).to.include({ host: 'localhost', port: 8443, options: tls });
    reactor.connectors[0]?.completeConnection();
    expect(seen.result).to.be.instanceOf(Protocol);
  });
});

describe('connectProtocol', () => {
  it('connects the given protocol instance', () => {
    const reactor = new MemoryReactor();
    const protocol = new Protocol();
    const seen = outcome(connectProtocol(new TCP4ClientEndpoint(reactor, 'h', 1), protocol));
    reactor.connectors[0]?.completeConnection();
    expect(seen.result).to.equal(protocol);
    expect(protocol.transport).to.not.equal(null);
  });
});

describe('TCP6ClientEndpoint cancelled while resolving', () => {
  it('cancels the lookup, connects nothing, and fails with ConnectingCancelledError', () => {
    const pending = new Deferred<readonly ResolvedAddress[]>();
    const reactor = Object.assign(new MemoryReactorClock(), {
      nameResolver: { resolveHostName: () => pending },
    });
    const d = new TCP6ClientEndpoint(reactor, 'slow.test', 80).connect(
      Factory.forProtocol(Protocol),
    );
    const seen = outcome(d);
    d.cancel();
    expect(seen.failure?.value).to.be.instanceOf(ConnectingCancelledError);
    expect(pending.called).to.equal(true);
    expect(reactor.tcpClients).to.have.length(0);
  });

  it('cancelled once connecting, stops the attempt', () => {
    const reactor = Object.assign(new MemoryReactorClock(), {
      nameResolver: new StaticNameResolver({ 'six.test': ['2001:db8::6'] }),
    });
    const d = new TCP6ClientEndpoint(reactor, 'six.test', 80).connect(
      Factory.forProtocol(Protocol),
    );
    const seen = outcome(d);
    d.cancel();
    expect(reactor.connectors[0]?.stopConnectingCalls).to.equal(1);
    expect(seen.failure?.value).to.be.instanceOf(ConnectingCancelledError);
  });
});

describe('UNIX endpoints on a MemoryReactor', () => {
  it('listen with listenUNIX and its options; connect with connectUNIX, cancellable', async () => {
    const reactor = new MemoryReactor();
    const factory = Factory.forProtocol(Protocol);
    const port = await new UNIXServerEndpoint(reactor, '/run/a.sock', { mode: 0o600 }).listen(
      factory,
    );
    expect(reactor.unixServers[0]).to.include({ path: '/run/a.sock', mode: 0o600 });
    expect(port).to.equal(reactor.unixServers[0]?.listeningPort);
    const d = new UNIXClientEndpoint(reactor, '\0abstract', { timeout: 2 }).connect(factory);
    const seen = outcome(d);
    expect(reactor.unixClients[0]).to.include({ path: '\0abstract' });
    d.cancel();
    expect(seen.failure?.value).to.be.instanceOf(ConnectingCancelledError);
    expect((seen.failure?.value as ConnectingCancelledError).destination).to.equal('@abstract');
  });
});
