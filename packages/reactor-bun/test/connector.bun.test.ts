// connectTCP on Bun: the IConnector state machine, refused connections,
// timeouts by the reactor's clock (a hand-advanced one here), a failed name
// lookup (injected: no DNS query leaves the machine), cancelling, and
// reconnecting from the factory's callbacks.
import { expect } from 'chai';
import {
  ConnectError,
  ConnectionDone,
  ConnectionRefusedError,
  DNSLookupError,
  NoRouteError,
  TCPTimedOutError,
  TimeoutError,
  UserError,
} from '@torsion/core';
import { OpenResources } from '@torsion/core/reactor-kit';
import type { Failure, IAddress, IConnector, IDelayedCall, IReactorTime } from '@torsion/core';
import { BunTCPConnector, connectErrorFor } from '../src/internal/bun-tcp-connector.js';
import { BunReactor } from '../src/index.js';
import {
  Eventual,
  RecordingClientFactory,
  RecordingProtocol,
  serveOnLoopback,
} from '@torsion/core/testing';
import { until } from './support/helpers.js';

/** Virtual time for the timeout tests: only `advance()` moves it. */
class ManualClock implements IReactorTime {
  now = 0;
  #calls: { time: number; fn: () => void; call: IDelayedCall }[] = [];

  seconds(): number {
    return this.now;
  }

  callLater<A extends unknown[]>(
    delay: number,
    fn: (...args: A) => unknown,
    ...args: A
  ): IDelayedCall {
    let active = true;
    const entry = {
      time: this.now + delay,
      fn: () => {
        active = false;
        fn(...args);
      },
      call: {
        getTime: () => entry.time,
        cancel: () => {
          active = false;
          this.#calls = this.#calls.filter((c) => c !== entry);
        },
        delay: () => undefined,
        reset: () => undefined,
        active: () => active,
      },
    };
    this.#calls.push(entry);
    return entry.call;
  }

  getDelayedCalls(): IDelayedCall[] {
    return this.#calls.map((c) => c.call);
  }

  advance(seconds: number): void {
    this.now += seconds;
    const due = this.#calls.filter((c) => c.time <= this.now);
    this.#calls = this.#calls.filter((c) => c.time > this.now);
    for (const c of due) c.fn();
  }
}

/** A port nothing listens on: bound once, then closed. */
function freePort(): number {
  const listener = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

describe('BunReactor.connectTCP (loopback)', () => {
  let reactor: BunReactor;
  let done: Promise<void>;

  beforeEach(() => {
    reactor = new BunReactor({ installSignalHandlers: false, shutdownGracePeriod: 1 });
    done = reactor.run();
  });

  afterEach(async () => {
    if (reactor.running) reactor.stop();
    await done;
  });

  it('reports a refused connection as ConnectionRefusedError, after startedConnecting, and stops the factory', async () => {
    const factory = new RecordingClientFactory(() => new RecordingProtocol());
    const connector = reactor.connectTCP('127.0.0.1', freePort(), factory);
    expect(connector.state).to.equal('connecting');
    expect(factory.events).to.deep.equal(['startedConnecting']);
    const reason = await factory.failed;
    expect(reason.check(ConnectionRefusedError)).to.equal(ConnectionRefusedError);
    expect(connector.state).to.equal('disconnected');
    expect(factory.events).to.deep.equal(['startedConnecting', 'clientConnectionFailed']);
    expect([factory.starts, factory.stops]).to.deep.equal([1, 1]);
  });

  it('connects, reports connected, and hears clientConnectionLost with ConnectionDone on disconnect()', async () => {
    const { port } = await serveOnLoopback(reactor, () => new RecordingProtocol());
    const factory = new RecordingClientFactory(() => new RecordingProtocol());
    const connector = reactor.connectTCP('localhost', port, factory);
    expect(connector.getDestination().toString()).to.equal(`localhost:${String(port)}`);
    await until(() => connector.state === 'connected');
    connector.disconnect();
    const reason = await factory.lost;
    expect(reason.check(ConnectionDone)).to.equal(ConnectionDone);
    expect(connector.state).to.equal('disconnected');
    expect(factory.events).to.deep.equal([
      'startedConnecting',
      'buildProtocol',
      'clientConnectionLost',
    ]);
    expect([factory.starts, factory.stops]).to.deep.equal([1, 1]);
  });

  it('reconnects when the factory calls connect() from clientConnectionFailed, staying started', async () => {
    const port = freePort();
    let attempts = 0;
    class Retrying extends RecordingClientFactory {
      readonly gaveUp = new Eventual<Failure>();
      override clientConnectionFailed(connector: IConnector, reason: Failure): void {
        super.clientConnectionFailed(connector, reason);
        attempts++;
        if (attempts < 3) connector.connect();
        else this.gaveUp.callback(reason);
      }
    }
    const factory = new Retrying(() => new RecordingProtocol());
    reactor.connectTCP('127.0.0.1', port, factory);
    const reason = await factory.gaveUp;
    expect([factory.starts, factory.stops]).to.deep.equal([1, 1]);
    expect(attempts).to.equal(3);
    expect(reason.check(ConnectionRefusedError)).to.equal(ConnectionRefusedError);
  });

  it('cancels with stopConnecting(): UserError, a ConnectError, and throws when not connecting', async () => {
    const { port } = await serveOnLoopback(reactor, () => new RecordingProtocol());
    const factory = new RecordingClientFactory(() => new RecordingProtocol());
    const connector = reactor.connectTCP('127.0.0.1', port, factory);
    connector.stopConnecting();
    const reason = await factory.failed;
    expect(reason.check(UserError)).to.equal(UserError);
    expect(reason.check(ConnectError)).to.equal(ConnectError);
    expect(reason.check(ConnectionRefusedError, TimeoutError)).to.equal(null);
    expect(() => connector.stopConnecting()).to.throw(/needs a connection attempt/);
    // The abandoned socket never reaches the factory.
    await Bun.sleep(30);
    expect(factory.built).to.have.length(0);
  });

  it('gives a client whose buildProtocol returns null clientConnectionLost with ConnectionDone', async () => {
    const { port } = await serveOnLoopback(reactor, () => new RecordingProtocol());
    const factory = new (class extends RecordingClientFactory {
      override buildProtocol(addr: IAddress): RecordingProtocol | null {
        super.buildProtocol(addr);
        return null;
      }
    })(() => new RecordingProtocol());
    reactor.connectTCP('127.0.0.1', port, factory);
    const reason = await factory.lost;
    expect(reason.check(ConnectionDone)).to.equal(ConnectionDone);
  });

  it('times out by the reactor clock with TimeoutError (a UserError, a ConnectError), and drops the late connection', async () => {
    const { port } = await serveOnLoopback(reactor, () => new RecordingProtocol());
    const clock = new ManualClock();
    const resources = new OpenResources();
    const factory = new RecordingClientFactory(() => new RecordingProtocol());
    const connector = new BunTCPConnector(resources, clock, factory, {
      host: '127.0.0.1',
      port,
      timeout: 2,
      writeHighWaterMark: 65536,
    });
    connector.connect();
    expect(clock.getDelayedCalls()).to.have.length(1);
    clock.advance(1.999);
    expect(connector.state).to.equal('connecting');
    clock.advance(0.001);
    expect(connector.state).to.equal('disconnected');
    const reason = await factory.failed;
    expect(reason.check(TimeoutError)).to.equal(TimeoutError);
    expect(reason.check(UserError)).to.equal(UserError);
    expect(reason.check(ConnectError)).to.equal(ConnectError);
    expect(factory.events).to.deep.equal(['startedConnecting', 'clientConnectionFailed']);
    expect(resources.empty).to.equal(true);
    await Bun.sleep(30);
    expect(factory.built).to.have.length(0);
  });

  it('cancels the timeout once connected', async () => {
    const { port } = await serveOnLoopback(reactor, () => new RecordingProtocol());
    const clock = new ManualClock();
    const factory = new RecordingClientFactory(() => new RecordingProtocol());
    const connector = new BunTCPConnector(new OpenResources(), clock, factory, {
      host: '127.0.0.1',
      port,
      timeout: 2,
      writeHighWaterMark: 65536,
    });
    connector.connect();
    await until(() => factory.built.length === 1);
    expect(clock.getDelayedCalls()).to.have.length(0);
    clock.advance(10);
    expect(connector.state).to.equal('connected');
    factory.built[0]!.transport.loseConnection();
    await factory.lost;
  });

  it('reports a failed name lookup as DNSLookupError', async () => {
    const factory = new RecordingClientFactory(() => new RecordingProtocol());
    const connector = new BunTCPConnector(new OpenResources(), new ManualClock(), factory, {
      host: 'no-such-host.invalid',
      port: 7,
      timeout: 30,
      writeHighWaterMark: 65536,
      lookup: (hostname) =>
        Promise.reject(
          Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }),
        ),
    });
    connector.connect();
    const reason = await factory.failed;
    expect(reason.check(DNSLookupError)).to.equal(DNSLookupError);
    expect(reason.getErrorMessage()).to.match(/no-such-host\.invalid/);
  });

  it('classifies Bun connect errors by code', () => {
    const errno = (code: string): Error => Object.assign(new Error(code), { code });
    expect(connectErrorFor(errno('ECONNREFUSED'), 'x:1')).to.be.instanceOf(ConnectionRefusedError);
    expect(connectErrorFor(errno('ENOTFOUND'), 'x:1')).to.be.instanceOf(DNSLookupError);
    expect(connectErrorFor(errno('EAI_AGAIN'), 'x:1')).to.be.instanceOf(DNSLookupError);
    expect(connectErrorFor(errno('DNS_ENOTFOUND'), 'x:1')).to.be.instanceOf(DNSLookupError);
    expect(connectErrorFor(errno('ENETUNREACH'), 'x:1')).to.be.instanceOf(NoRouteError);
    expect(connectErrorFor(errno('EHOSTUNREACH'), 'x:1')).to.be.instanceOf(NoRouteError);
    expect(connectErrorFor(errno('ETIMEDOUT'), 'x:1')).to.be.instanceOf(TCPTimedOutError);
    const other = connectErrorFor(errno('EPERM'), 'x:1');
    expect(other.constructor).to.equal(ConnectError);
    expect(other.cause).to.be.instanceOf(Error);
  });
});
