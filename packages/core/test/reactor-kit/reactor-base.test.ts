// ReactorBase: the extension points a reactor author uses. A reactor with a
// hand-moved clock shows that time, shutdown and the shared argument checks
// work without any of NodeReactor's I/O.
import { expect } from 'chai';
import { ConnectionDone, ReactorNotRestartable } from '../../src/errors.js';
import { Failure } from '../../src/failure.js';
import type {
  IConnector,
  IListeningPort,
  ITCPTransport,
  ListenTCPOptions,
  ConnectTCPOptions,
} from '../../src/interfaces.js';
import { Deferred } from '../../src/deferred.js';
import { ReactorBase } from '../../src/reactor-kit/reactor-base.js';
import { LogCapture } from '../../src/testing/log-capture.js';
import { IPv4Address } from '../../src/address.js';

/** A reactor whose clock moves only when the test says so. */
class HandClockReactor extends ReactorBase {
  now = 0;
  armedFor: (number | undefined)[] = [];

  constructor(shutdownGracePeriod = 1) {
    super({ installSignalHandlers: false, shutdownGracePeriod });
  }

  seconds(): number {
    return this.now;
  }

  protected override armTimer(nextTime: number | undefined): void {
    this.armedFor.push(nextTime);
  }

  advance(seconds: number): number {
    this.now += seconds;
    return this.runDueCalls();
  }

  next(): number | undefined {
    return this.nextDelayedCallTime();
  }

  resources() {
    return this.openResources;
  }

  listen(port: number, factory: unknown, options: ListenTCPOptions = {}) {
    this.checkOpen();
    return this.checkListenTCP(port, factory, options);
  }

  connect(host: string, port: number, factory: unknown, options: ConnectTCPOptions = {}) {
    return this.checkConnectTCP(host, port, factory, options);
  }
}

/** A connection that closes when asked, or never (to exercise the grace period). */
function fakeTransport(
  reactor: HandClockReactor,
  closesOnLoseConnection: boolean,
): ITCPTransport & { aborted: boolean } {
  const transport = {
    aborted: false,
    loseConnection() {
      if (closesOnLoseConnection) {
        reactor.resources().transportClosed(transport, new Failure(new ConnectionDone()));
      }
    },
    abortConnection() {
      transport.aborted = true;
      reactor.callLater(0, () => {
        reactor.resources().transportClosed(transport, new Failure(new ConnectionDone()));
      });
    },
  } as unknown as ITCPTransport & { aborted: boolean };
  return transport;
}

const factory = { buildProtocol: () => null, doStart() {}, doStop() {} };

describe('ReactorBase', () => {
  let logs: LogCapture;
  beforeEach(() => {
    logs = LogCapture.start();
  });
  afterEach(() => {
    logs.stop();
  });

  describe('time through the subclass clock', () => {
    it('asks the subclass to arm for the earliest deadline and runs calls when it advances', () => {
      const reactor = new HandClockReactor();
      const ran: string[] = [];
      reactor.callLater(2, () => ran.push('two'));
      reactor.callLater(1, () => ran.push('one'));
      expect(reactor.armedFor.at(-1)).to.equal(1);
      expect(reactor.next()).to.equal(1);
      expect(reactor.advance(1)).to.equal(1);
      expect(ran).to.deep.equal(['one']);
      expect(reactor.armedFor.at(-1)).to.equal(2);
      reactor.advance(1);
      expect(ran).to.deep.equal(['one', 'two']);
      expect(reactor.armedFor.at(-1)).to.equal(undefined);
    });

    it('logs a throwing delayed call and still runs the others', () => {
      const reactor = new HandClockReactor();
      const ran: string[] = [];
      reactor.callLater(1, () => {
        throw new Error('boom');
      });
      reactor.callLater(1, () => ran.push('after'));
      reactor.advance(1);
      expect(ran).to.deep.equal(['after']);
      expect(logs.messages()).to.include('Unhandled error in a delayed call');
    });
  });

  describe('shutdown', () => {
    it('closes open ports and connections, then lets run() resolve', async () => {
      const reactor = new HandClockReactor();
      const stopped = new Deferred<void>();
      const port = {
        stopListening() {
          reactor.resources().portClosed(port);
          return stopped;
        },
        getHost: () => new IPv4Address('TCP', '127.0.0.1', 1),
        whenListening: () => new Deferred<IListeningPort>(),
      } as IListeningPort;
      reactor.resources().addPort(port);
      const transport = fakeTransport(reactor, true);
      reactor.resources().addTransport(transport);
      const done = reactor.run();
      reactor.stop();
      await done;
      expect(reactor.resources().empty).to.equal(true);
      expect(transport.aborted).to.equal(false);
      expect(() => reactor.listen(0, factory)).to.throw(ReactorNotRestartable);
    });

    it('aborts connections still open after the grace period', async () => {
      const reactor = new HandClockReactor(2);
      const stubborn = fakeTransport(reactor, false);
      reactor.resources().addTransport(stubborn);
      const connector = {
        state: 'connecting',
        stopConnecting() {
          connector.state = 'disconnected';
          reactor.resources().connectorFinished(connector);
        },
      } as unknown as IConnector & { state: string };
      reactor.resources().connectorStarted(connector);
      const done = reactor.run();
      reactor.stop();
      // Let the shutdown phases reach `during`.
      for (let i = 0; i < 5; i += 1) await Promise.resolve();
      expect(connector.state).to.equal('disconnected');
      expect(stubborn.aborted).to.equal(false);
      reactor.advance(2);
      expect(stubborn.aborted).to.equal(true);
      reactor.advance(0);
      await done;
      expect(reactor.resources().empty).to.equal(true);
      expect(logs.messages()).to.include(
        'Connections still open after the shutdown grace period; aborting them',
      );
    });
  });

  describe('shared argument checks', () => {
    it('fills in listenTCP defaults and rejects bad ports, factories and backlogs', () => {
      const reactor = new HandClockReactor();
      expect(reactor.listen(0, factory)).to.deep.equal({ backlog: 4096, iface: '' });
      expect(reactor.listen(80, factory, { backlog: 5, interface: '::1' })).to.deep.equal({
        backlog: 5,
        iface: '::1',
      });
      expect(() => reactor.listen(65536, factory)).to.throw(RangeError, /port/);
      expect(() => reactor.listen(1.5, factory)).to.throw(RangeError, /port/);
      expect(() => reactor.listen(0, {})).to.throw(TypeError, /buildProtocol/);
      expect(() => reactor.listen(0, factory, { backlog: -1 })).to.throw(RangeError, /backlog/);
    });

    it('fills in connectTCP defaults and rejects bad hosts, ports and timeouts', () => {
      const reactor = new HandClockReactor();
      expect(reactor.connect('h', 1, factory)).to.deep.equal({ timeout: 30 });
      expect(
        reactor.connect('h', 1, factory, { timeout: 2, bindAddress: { host: '127.0.0.1' } }),
      ).to.deep.equal({ timeout: 2, bindAddress: { host: '127.0.0.1' } });
      expect(() => reactor.connect('', 1, factory)).to.throw(TypeError, /host/);
      expect(() => reactor.connect('h', 0, factory)).to.throw(RangeError, /port/);
      expect(() => reactor.connect('h', 1, factory, { timeout: 0 })).to.throw(
        RangeError,
        /timeout/,
      );
    });

    it('rejects a negative shutdown grace period', () => {
      expect(() => new HandClockReactor(-1)).to.throw(RangeError, /shutdownGracePeriod/);
    });
  });
});
