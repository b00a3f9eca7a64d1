// TCPConnector on its own, driven by a hand-advanced clock: the connect
// timeout fires deterministically before a loopback connect can complete,
// and a failing name lookup is injected (no DNS query leaves the machine).
import { expect } from 'chai';
import { createServer, type Server, type Socket } from 'node:net';
import type { LookupFunction } from 'node:net';
import {
  ConnectBindError,
  ConnectError,
  ConnectionRefusedError,
  DNSLookupError,
  NoRouteError,
  TCPTimedOutError,
  TimeoutError,
  UserError,
} from '../src/errors.js';
import type { IDelayedCall, IReactorTime } from '../src/interfaces.js';
import { Registry } from '../src/internal/registry.js';
import { connectErrorFor, TCPConnector } from '../src/internal/tcp-connector.js';
import { TimerQueue } from '../src/internal/timer-queue.js';
import { RecordingClientFactory, RecordingProtocol } from '../src/testing/index.js';

/** Virtual time: only `advance()` moves it. */
class ManualClock implements IReactorTime {
  now = 0;
  readonly #queue = new TimerQueue(() => this.now);

  seconds(): number {
    return this.now;
  }

  callLater<A extends unknown[]>(
    delay: number,
    fn: (...args: A) => unknown,
    ...args: A
  ): IDelayedCall {
    return this.#queue.schedule(delay, fn, args);
  }

  getDelayedCalls(): IDelayedCall[] {
    return this.#queue.pending();
  }

  advance(seconds: number): void {
    this.now += seconds;
    this.#queue.runDue((err) => {
      throw err;
    });
  }
}

describe('TCPConnector (integration)', () => {
  let server: Server;
  let port: number;
  const accepted = new Set<Socket>();

  beforeEach(async () => {
    server = createServer((socket) => {
      accepted.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });

  afterEach(async () => {
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
      for (const socket of accepted) socket.destroy();
      accepted.clear();
    });
  });

  it('fails with TimeoutError (a UserError and a ConnectError) when the reactor clock passes the timeout before the connection is made', async () => {
    const clock = new ManualClock();
    const registry = new Registry(64 * 1024);
    const factory = new RecordingClientFactory(() => new RecordingProtocol());
    const connector = new TCPConnector(registry, clock, factory, {
      host: '127.0.0.1',
      port,
      timeout: 2,
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
    expect([factory.starts, factory.stops]).to.deep.equal([1, 1]);
    expect(registry.empty).to.equal(true);
    // The abandoned socket never reaches the factory.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(factory.built).to.have.length(0);
  });

  it('cancels the timeout once connected', async () => {
    const clock = new ManualClock();
    const registry = new Registry(64 * 1024);
    const factory = new RecordingClientFactory(() => new RecordingProtocol());
    const connector = new TCPConnector(registry, clock, factory, {
      host: '127.0.0.1',
      port,
      timeout: 2,
    });
    connector.connect();
    await new Promise<void>((resolve) => {
      const poll = (): void => {
        if (factory.built.length > 0) resolve();
        else setTimeout(poll, 1);
      };
      poll();
    });
    expect(clock.getDelayedCalls()).to.have.length(0);
    clock.advance(10);
    expect(connector.state).to.equal('connected');
    factory.built[0]!.transport.loseConnection();
    await factory.lost;
    expect(connector.state).to.equal('disconnected');
  });

  it('reports a failed name lookup as DNSLookupError', async () => {
    const failingLookup: LookupFunction = (hostname, _options, callback) => {
      const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {
        code: 'ENOTFOUND',
      });
      process.nextTick(callback, err, '', 4);
    };
    const clock = new ManualClock();
    const factory = new RecordingClientFactory(() => new RecordingProtocol());
    const connector = new TCPConnector(new Registry(64 * 1024), clock, factory, {
      host: 'no-such-host.invalid',
      port,
      timeout: 30,
      lookup: failingLookup,
    });
    connector.connect();
    const reason = await factory.failed;
    expect(reason.check(DNSLookupError)).to.equal(DNSLookupError);
    expect(reason.getErrorMessage()).to.match(/no-such-host\.invalid/);
  });

  it('classifies Node connect errors by code, including Happy Eyeballs aggregates', () => {
    const errno = (code: string, syscall = 'connect'): Error =>
      Object.assign(new Error(code), { code, syscall });
    expect(connectErrorFor(errno('EAI_AGAIN'), 'x:1')).to.be.instanceOf(DNSLookupError);
    expect(connectErrorFor(new AggregateError([errno('ECONNREFUSED')]), 'x:1').code).to.equal(
      'TORSION_ERR_CONNECTION_REFUSED',
    );
    expect(connectErrorFor(errno('ENETUNREACH'), 'x:1')).to.be.instanceOf(NoRouteError);
    expect(connectErrorFor(errno('EHOSTUNREACH'), 'x:1')).to.be.instanceOf(NoRouteError);
    expect(connectErrorFor(errno('ETIMEDOUT'), 'x:1')).to.be.instanceOf(TCPTimedOutError);
    expect(connectErrorFor(errno('EADDRINUSE', 'bind'), 'x:1')).to.be.instanceOf(ConnectBindError);
    expect(connectErrorFor(errno('EADDRNOTAVAIL', 'bind'), 'x:1')).to.be.instanceOf(
      ConnectBindError,
    );
    // The last address tried decides: an earlier one may have been cut short by Happy Eyeballs.
    const aggregate = connectErrorFor(
      new AggregateError([errno('ETIMEDOUT'), errno('ECONNREFUSED')]),
      'x:1',
    );
    expect(aggregate).to.be.instanceOf(ConnectionRefusedError);
    expect(aggregate.cause).to.be.instanceOf(AggregateError);
    const other = connectErrorFor(errno('EPERM'), 'x:1');
    expect(other.constructor).to.equal(ConnectError);
    expect((other.cause as { code: string }).code).to.equal('EPERM');
  });
});
