// Tests for src/reconnecting-client-factory.ts: exponential backoff reconnection.
import { expect } from 'chai';

import { addressFor, type IAddress } from '../src/address.js';
import { Clock } from '../src/clock.js';
import { ConnectionLost, ReactorNotRestartable } from '../src/errors.js';
import { Failure } from '../src/failure.js';
import type { IConnector, IProtocol } from '../src/interfaces.js';
import { Protocol } from '../src/protocol.js';
import { ReconnectingClientFactory } from '../src/reconnecting-client-factory.js';
import { LogCapture } from '../src/testing/log-capture.js';
import { MemoryReactorClock } from '../src/testing/memory-reactor.js';
import type { FakeConnector } from '../src/testing/memory-reactor.js';
import { SimulatedReactor } from '../src/testing/simulated/simulated-reactor.js';

class Client extends Protocol {}

/** The pattern docs/clients.md teaches: reset the backoff once a connection is built. */
class ResettingFactory extends ReconnectingClientFactory {
  override buildProtocol(addr: IAddress): IProtocol | null {
    this.resetDelay();
    return super.buildProtocol(addr);
  }
}

function setUp(options: ConstructorParameters<typeof ReconnectingClientFactory>[0] = {}): {
  reactor: MemoryReactorClock;
  factory: ResettingFactory;
  connector: FakeConnector;
} {
  const reactor = new MemoryReactorClock();
  const factory = new ResettingFactory({ clock: reactor, jitter: 0, ...options });
  factory.protocol = Client;
  const connector = reactor.connectTCP('127.0.0.1', 1079, factory);
  return { reactor, factory, connector };
}

describe('ReconnectingClientFactory', () => {
  it("has Twisted's defaults", () => {
    const factory = new ReconnectingClientFactory();
    expect(factory).to.include({
      initialDelay: 1,
      maxDelay: 3600,
      factor: Math.E,
      jitter: 0.119626565582,
      maxRetries: null,
      continueTrying: true,
      retries: 0,
      delay: 1,
      clock: null,
    });
  });

  it('starts from initialDelay given to the constructor', () => {
    const factory = new ReconnectingClientFactory({ initialDelay: 5 });
    expect(factory.delay).to.equal(5);
  });

  it('retries a failed attempt after initialDelay * factor (e seconds), not initialDelay', () => {
    const { reactor, factory, connector } = setUp();
    connector.failConnection();
    expect(factory.retries).to.equal(1);
    expect(factory.pendingRetry?.getTime()).to.equal(Math.E);
    reactor.advance(Math.E - 0.01);
    expect(connector.connectCalls).to.equal(1);
    reactor.advance(0.01);
    expect(connector.connectCalls).to.equal(2);
    expect(connector.state).to.equal('connecting');
    expect(factory.pendingRetry).to.equal(null);
  });

  it('multiplies the delay on each failure and caps it at maxDelay', () => {
    const { reactor, factory, connector } = setUp({ factor: 2, maxDelay: 5 });
    const waits: number[] = [];
    for (let attempt = 0; attempt < 4; attempt++) {
      connector.failConnection();
      const retryAt = factory.pendingRetry!.getTime();
      waits.push(retryAt - reactor.seconds());
      reactor.advance(retryAt - reactor.seconds());
    }
    expect(waits).to.deep.equal([2, 4, 5, 5]);
    expect(connector.connectCalls).to.equal(5);
  });

  it('retries after a lost connection as after a failed attempt', () => {
    const { reactor, factory, connector } = setUp();
    connector.completeConnection();
    connector.dropConnection(new ConnectionLost());
    expect(factory.pendingRetry?.getTime()).to.equal(Math.E);
    reactor.advance(Math.E);
    expect(connector.connectCalls).to.equal(2);
  });

  it('draws the wait from a normal distribution around the delay', () => {
    // With u1 = u2 = 0.5, Box-Muller gives z = sqrt(-2 ln 0.5) * cos(pi).
    const z = -Math.sqrt(-2 * Math.log(0.5));
    const { factory, connector } = setUp({ jitter: 0.1, random: () => 0.5 });
    connector.failConnection();
    expect(factory.delay).to.be.closeTo(Math.E + z * Math.E * 0.1, 1e-12);
    expect(factory.pendingRetry?.getTime()).to.equal(factory.delay);
  });

  it('never waits a negative time, however large the jitter', () => {
    const { factory, connector } = setUp({ jitter: 100, random: () => 0.5 });
    connector.failConnection();
    expect(factory.delay).to.equal(0);
  });

  it('gives up after maxRetries and logs that it did', () => {
    const { reactor, factory, connector } = setUp({ maxRetries: 2 });
    const logs = LogCapture.start();
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        connector.failConnection();
        reactor.advance(100);
      }
    } finally {
      logs.stop();
    }
    expect(connector.connectCalls).to.equal(3);
    expect(connector.state).to.equal('disconnected');
    expect(factory.pendingRetry).to.equal(null);
    expect(logs.messages('info')).to.deep.equal(['Abandoning 127.0.0.1:1079 after 2 retries']);
    // Issue #10: the message said 2 while `retries` said 3.
    expect(factory.retries).to.equal(2);
    expect(logs.events[0]).to.have.nested.property('fields.retries', 2);
  });

  // Issue #10: the delay was logged as 2.718281828459045.
  it('logs the delay of each retry in milliseconds when noisy', () => {
    const { factory, connector } = setUp();
    factory.noisy = true;
    const logs = LogCapture.start();
    try {
      connector.failConnection();
    } finally {
      logs.stop();
    }
    expect(logs.messages('info')).to.include('Will retry 127.0.0.1:1079 in 2.718 seconds');
  });

  // Issue #10: retries went to the default reactor, not the connector's.
  it("schedules retries on the connector's reactor when given no clock", () => {
    const reactor = new MemoryReactorClock();
    const factory = new ReconnectingClientFactory({ jitter: 0 });
    factory.protocol = Client;
    const connector = reactor.connectTCP('127.0.0.1', 1079, factory);
    expect(connector.reactor).to.equal(reactor);
    connector.failConnection();
    expect(reactor.getDelayedCalls()).to.deep.equal([factory.pendingRetry]);
    reactor.advance(Math.E);
    expect(connector.connectCalls).to.equal(2);
  });

  it('prefers the clock it was given to the connector reactor', () => {
    const { reactor, connector } = setUp({ clock: new Clock() });
    connector.failConnection();
    expect(reactor.getDelayedCalls()).to.have.length(0);
  });

  it('stops, logging once, when the reactor of the connector has stopped', () => {
    const clock = new Clock();
    const factory = new ReconnectingClientFactory({ clock, jitter: 0 });
    let connects = 0;
    const connector: IConnector = {
      state: 'disconnected',
      connect(): void {
        connects += 1;
        throw new ReactorNotRestartable('The reactor has stopped; it cannot open connections');
      },
      disconnect(): void {},
      stopConnecting(): void {},
      getDestination: () => addressFor('TCP', '127.0.0.1', 1079),
    };
    const logs = LogCapture.start();
    try {
      factory.clientConnectionFailed(connector, new Failure(new ConnectionLost()));
      clock.advance(3600);
      clock.advance(3600);
    } finally {
      logs.stop();
    }
    expect(connects).to.equal(1);
    expect(factory.pendingRetry).to.equal(null);
    expect(logs.failures()).to.have.length(0);
    expect(logs.messages('info')).to.deep.equal([
      'Not reconnecting to 127.0.0.1:1079: its reactor has stopped',
    ]);
  });

  it('stopTrying cancels the pending retry', () => {
    const { reactor, factory, connector } = setUp();
    connector.failConnection();
    factory.stopTrying();
    reactor.advance(3600);
    expect(connector.connectCalls).to.equal(1);
    expect(reactor.getDelayedCalls()).to.have.length(0);
    expect(factory.continueTrying).to.equal(false);
  });

  it('stopTrying stops an attempt in progress without scheduling a retry', () => {
    const { reactor, factory, connector } = setUp();
    connector.failConnection();
    reactor.advance(Math.E);
    expect(connector.state).to.equal('connecting');
    factory.stopTrying();
    expect(connector.stopConnectingCalls).to.equal(1);
    expect(connector.state).to.equal('disconnected');
    expect(reactor.getDelayedCalls()).to.have.length(0);
  });

  it('leaves no retry behind when the reactor stops during a connection attempt', async () => {
    const reactor = new SimulatedReactor({ seed: 1, installSignalHandlers: false });
    reactor.host('server');
    reactor.host('client');
    // Nothing answers through a partition: the attempt is in progress when stop() comes.
    reactor.network.partition('client', 'server');
    const factory = new ReconnectingClientFactory({ jitter: 0 });
    factory.protocol = Client;
    const failures: Failure[] = [];
    factory.clientConnectionFailed = function (connector, reason): void {
      failures.push(reason);
      ReconnectingClientFactory.prototype.clientConnectionFailed.call(this, connector, reason);
    };
    const logs = LogCapture.start();
    try {
      const stopped = reactor.run();
      const connector = reactor.host('client').connectTCP('server', 80, factory);
      reactor.advance(1);
      expect(connector.state).to.equal('connecting');
      reactor.stop();
      await stopped;
    } finally {
      logs.stop();
    }
    expect(failures.map((f) => f.type.name)).to.deep.equal(['UserError']);
    expect(reactor.getDelayedCalls()).to.deep.equal([]);
    expect(factory.pendingRetry).to.equal(null);
    // The factory keeps its state, as in Twisted: it would retry on a new start.
    expect(factory.continueTrying).to.equal(true);
    expect(logs.failures()).to.deep.equal([]);
    expect(logs.messages('error')).to.deep.equal([]);
    expect(logs.messages('warn')).to.deep.equal([]);
  });

  it('drops a retry still pending when the reactor stops', async () => {
    const reactor = new SimulatedReactor({ seed: 1, installSignalHandlers: false });
    const factory = new ReconnectingClientFactory({ jitter: 0 });
    factory.protocol = Client;
    const logs = LogCapture.start();
    try {
      const stopped = reactor.run();
      // Nothing listens on the port: refused at once, then a retry waits e seconds.
      const connector = reactor.connectTCP('127.0.0.1', 1079, factory);
      reactor.advance(0.5);
      expect(connector.state).to.equal('disconnected');
      expect(factory.pendingRetry).not.to.equal(null);
      reactor.stop();
      await stopped;
    } finally {
      logs.stop();
    }
    expect(reactor.getDelayedCalls()).to.deep.equal([]);
    expect(factory.pendingRetry).to.equal(null);
    expect(logs.failures()).to.deep.equal([]);
  });

  it('still retries an attempt the user cancelled with stopConnecting(), as Twisted does', () => {
    const { reactor, factory, connector } = setUp();
    connector.stopConnecting();
    expect(factory.pendingRetry).not.to.equal(null);
    reactor.advance(Math.E);
    expect(connector.connectCalls).to.equal(2);
  });

  it('does not retry a lost connection after stopTrying', () => {
    const { reactor, factory, connector } = setUp();
    connector.completeConnection();
    factory.stopTrying();
    connector.dropConnection();
    expect(reactor.getDelayedCalls()).to.have.length(0);
  });

  it('resetDelay (called from buildProtocol here) starts the backoff over', () => {
    const { reactor, factory, connector } = setUp();
    for (let attempt = 0; attempt < 3; attempt++) {
      connector.failConnection();
      reactor.advance(factory.pendingRetry!.getTime() - reactor.seconds());
    }
    expect(factory.retries).to.equal(3);
    connector.completeConnection();
    expect(factory.retries).to.equal(0);
    expect(factory.delay).to.equal(1);
    connector.dropConnection();
    expect(factory.pendingRetry!.getTime() - reactor.seconds()).to.be.closeTo(Math.E, 1e-9);
  });

  it('without resetDelay, the delay keeps growing across connections', () => {
    const reactor = new MemoryReactorClock();
    const factory = new ReconnectingClientFactory({ clock: reactor, jitter: 0, factor: 2 });
    factory.protocol = Client;
    const connector = reactor.connectTCP('127.0.0.1', 1079, factory);
    connector.failConnection();
    reactor.advance(2);
    connector.completeConnection();
    connector.dropConnection();
    expect(factory.pendingRetry!.getTime() - reactor.seconds()).to.equal(4);
  });

  it('logs an error thrown while reconnecting and schedules another retry', () => {
    const { reactor, factory, connector } = setUp();
    let calls = 0;
    // Replaced after connectTCP's own attempt: the first call here is the retry's.
    factory.startedConnecting = (): void => {
      calls += 1;
      if (calls === 1) throw new Error('startedConnecting broke');
    };
    connector.failConnection();
    const logs = LogCapture.start();
    try {
      expect(() => reactor.advance(Math.E)).not.to.throw();
    } finally {
      logs.stop();
    }
    expect(logs.failures().map((f) => f.getErrorMessage())).to.deep.equal([
      'startedConnecting broke',
    ]);
    expect(factory.retries).to.equal(2);
    expect(factory.pendingRetry).not.to.equal(null);
  });

  it('retry() uses the last connector and throws when there is none', () => {
    const factory = new ReconnectingClientFactory({ jitter: 0 });
    expect(() => factory.retry()).to.throw(Error, /no connector/);
    const { reactor, factory: used, connector } = setUp();
    connector.failConnection();
    used.pendingRetry!.cancel();
    used.retry();
    reactor.advance(100);
    expect(connector.connectCalls).to.equal(2);
  });
});
