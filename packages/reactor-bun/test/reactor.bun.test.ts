// BunReactor itself: construction and options, the clock, delayed calls on
// Bun's timers, the lifecycle from ReactorBase, and runtime detection.
import { expect } from 'chai';
import { Factory, ReactorNotRestartable, ReactorNotRunning } from '@torsion/core';
import { BunReactor, bunVersion, isBun } from '../src/index.js';
import { RecordingProtocol } from '@torsion/core/testing';

describe('BunReactor', () => {
  it('is made with no arguments, as the runner does', () => {
    const reactor = new BunReactor();
    expect(reactor.running).to.equal(false);
    expect(reactor.getDelayedCalls()).to.deep.equal([]);
  });

  it('rejects a bad writeHighWaterMark or grace period with RangeError', () => {
    expect(() => new BunReactor({ writeHighWaterMark: -1 })).to.throw(RangeError);
    expect(() => new BunReactor({ writeHighWaterMark: 1.5 })).to.throw(RangeError);
    expect(() => new BunReactor({ shutdownGracePeriod: -1 })).to.throw(RangeError);
  });

  it('has a monotonic clock in seconds', async () => {
    const reactor = new BunReactor();
    const t0 = reactor.seconds();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const t1 = reactor.seconds();
    expect(t1 - t0).to.be.within(0.015, 1);
    expect(t0).to.be.below(Date.now() / 1000 / 2); // not the Unix epoch
  });

  it('runs delayed calls in time order on Bun timers, and cancels', async () => {
    const reactor = new BunReactor({ installSignalHandlers: false });
    const order: string[] = [];
    reactor.callLater(0.02, () => order.push('b'));
    reactor.callLater(0.01, () => order.push('a'));
    const c = reactor.callLater(0.015, () => order.push('cancelled'));
    c.cancel();
    const start = reactor.seconds();
    await new Promise<void>((resolve) => reactor.callLater(0.03, resolve));
    expect(order).to.deep.equal(['a', 'b']);
    expect(reactor.seconds() - start).to.be.at.least(0.029);
  });

  it('logs a delayed call that throws and keeps running the others', async () => {
    const reactor = new BunReactor({ installSignalHandlers: false });
    const ran: number[] = [];
    reactor.callLater(0, () => {
      throw new Error('boom');
    });
    reactor.callLater(0, () => ran.push(1));
    await new Promise<void>((resolve) => reactor.callLater(0.005, resolve));
    expect(ran).to.deep.equal([1]);
  });

  it('runs startup and shutdown triggers and cannot be restarted', async () => {
    const reactor = new BunReactor({ installSignalHandlers: false });
    const events: string[] = [];
    reactor.addSystemEventTrigger('before', 'startup', () => events.push('before startup'));
    reactor.callWhenRunning(() => {
      events.push('running');
      reactor.stop();
    });
    reactor.addSystemEventTrigger('after', 'shutdown', () => events.push('after shutdown'));
    await reactor.run();
    expect(events).to.deep.equal(['before startup', 'running', 'after shutdown']);
    expect(() => reactor.stop()).to.throw(ReactorNotRunning);
    expect(() => reactor.run()).to.throw(ReactorNotRestartable);
    expect(() =>
      reactor.listenTCP(0, Factory.forProtocol(RecordingProtocol), { interface: '127.0.0.1' }),
    ).to.throw(ReactorNotRestartable);
  });

  it('checks listenTCP and connectTCP arguments as every reactor does', () => {
    const reactor = new BunReactor({ installSignalHandlers: false });
    const factory = Factory.forProtocol(RecordingProtocol);
    expect(() => reactor.listenTCP(70000, factory)).to.throw(RangeError);
    expect(() => reactor.listenTCP(0, {} as never)).to.throw(TypeError);
    expect(() => reactor.connectTCP('', 1, factory as never)).to.throw(TypeError);
    expect(() => reactor.connectTCP('127.0.0.1', 0, factory as never)).to.throw(RangeError);
  });

  it('says bindAddress is not supported instead of ignoring it', () => {
    const reactor = new BunReactor({ installSignalHandlers: false });
    expect(() =>
      reactor.connectTCP('127.0.0.1', 9, Factory.forProtocol(RecordingProtocol) as never, {
        bindAddress: { host: '127.0.0.1' },
      }),
    ).to.throw(/bindAddress/);
  });

  it('detects the Bun runtime', () => {
    expect(isBun()).to.equal(true);
    expect(bunVersion()).to.equal(process.versions.bun);
    expect(bunVersion()).to.match(/^\d+\.\d+\.\d+/);
  });
});
