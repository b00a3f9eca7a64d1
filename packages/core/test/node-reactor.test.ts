// NodeReactor: time (callLater on one re-armed Node timer), the run/stop
// lifecycle with its system event triggers, signal handling and shutdown.
import { expect } from 'chai';
import * as sinon from 'sinon';
import { Deferred } from '../src/deferred.js';
import { ReactorAlreadyRunning, ReactorNotRestartable, ReactorNotRunning } from '../src/errors.js';
import type { IDelayedCall } from '../src/interfaces.js';
import { NodeReactor } from '../src/node-reactor.js';
import { LogCapture } from '../src/testing/log-capture.js';

describe('NodeReactor', () => {
  let logs: LogCapture;
  const started: NodeReactor[] = [];

  function make(options: ConstructorParameters<typeof NodeReactor>[0] = {}): NodeReactor {
    const reactor = new NodeReactor({ installSignalHandlers: false, ...options });
    started.push(reactor);
    return reactor;
  }

  beforeEach(() => {
    logs = LogCapture.start();
  });

  afterEach(async () => {
    logs.stop();
    for (const reactor of started.splice(0)) {
      if (reactor.running) {
        const finished = new Promise<void>((resolve) => {
          reactor.addSystemEventTrigger('after', 'shutdown', resolve);
        });
        reactor.stop();
        await finished;
      }
    }
  });

  describe('time', () => {
    it('counts delays from the first callLater of the job, and reads the clock again after it', async () => {
      const reactor = make();
      const first = reactor.callLater(1, () => undefined);
      const spinUntil = performance.now() + 15;
      while (performance.now() < spinUntil) {
        // A long synchronous job.
      }
      const sameJob = reactor.callLater(1, () => undefined);
      expect(sameJob.getTime()).to.equal(first.getTime());
      expect(reactor.seconds()).to.be.greaterThan(first.getTime() - 1 + 0.014);
      await Promise.resolve();
      const nextJob = reactor.callLater(1, () => undefined);
      expect(nextJob.getTime()).to.be.greaterThan(first.getTime() + 0.014);
      for (const call of [first, sameJob, nextJob]) call.cancel();
    });

    it('reports monotonic seconds from performance.now()', () => {
      const reactor = make();
      const a = reactor.seconds();
      const b = reactor.seconds();
      expect(b).to.be.at.least(a);
      expect(Math.abs(a - performance.now() / 1000)).to.be.lessThan(1);
    });

    it('runs callLater calls in deadline order, ties in scheduling order, with their arguments, without run()', async () => {
      const reactor = make();
      const order: string[] = [];
      const finished = new Deferred<void>();
      reactor.callLater(
        0.02,
        (tag: string) => {
          order.push(tag);
          finished.callback(undefined);
        },
        'late',
      );
      reactor.callLater(0, (tag: string) => order.push(tag), 'first');
      reactor.callLater(0, (tag: string) => order.push(tag), 'second');
      reactor.callLater(0.01, (a: number, b: number) => order.push(String(a + b)), 1, 2);
      await finished;
      expect(order).to.deep.equal(['first', 'second', '3', 'late']);
    });

    it('does not run a cancelled call and lists only pending calls', async () => {
      const reactor = make();
      const ran: string[] = [];
      const cancelled = reactor.callLater(0, () => ran.push('cancelled'));
      const kept = reactor.callLater(0.005, () => ran.push('kept'));
      expect(reactor.getDelayedCalls()).to.have.members([cancelled, kept]);
      cancelled.cancel();
      expect(reactor.getDelayedCalls()).to.deep.equal([kept]);
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(ran).to.deep.equal(['kept']);
      expect(reactor.getDelayedCalls()).to.deep.equal([]);
    });

    it('logs an exception thrown by a delayed call and keeps running the others', async () => {
      const reactor = make();
      const after = new Deferred<void>();
      reactor.callLater(0, () => {
        throw new Error('timer trouble');
      });
      reactor.callLater(0, () => {
        after.callback(undefined);
      });
      await after;
      const failure = logs.failures()[0];
      expect(failure?.getErrorMessage()).to.equal('timer trouble');
      expect(logs.events[0]?.namespace).to.equal('torsion.reactor');
    });

    it('rejects a negative or non-finite delay and a non-function', () => {
      const reactor = make();
      expect(() => reactor.callLater(-1, () => undefined)).to.throw(RangeError);
      expect(() => reactor.callLater(Number.NaN, () => undefined)).to.throw(RangeError);
      expect(() => reactor.callLater(Infinity, () => undefined)).to.throw(RangeError);
      expect(() => reactor.callLater(1, 'nope' as unknown as () => void)).to.throw(TypeError);
    });

    describe('with fake timers', () => {
      let clock: sinon.SinonFakeTimers;

      beforeEach(() => {
        clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
      });

      afterEach(() => {
        clock.restore();
      });

      it('arms one Node timer for the earliest deadline and re-arms it as calls are added, moved and cancelled', () => {
        const reactor = make();
        const ran: string[] = [];
        const far = reactor.callLater(10, () => ran.push('far'));
        reactor.callLater(5, () => ran.push('near'));
        expect(clock.countTimers()).to.equal(1);
        clock.tick(5000);
        expect(ran).to.deep.equal(['near']);
        far.reset(1);
        clock.tick(999);
        expect(ran).to.deep.equal(['near']);
        clock.tick(1);
        expect(ran).to.deep.equal(['near', 'far']);
        expect(clock.countTimers()).to.equal(0);
      });

      it('lets calls run by a timer turn count their delays from that turn, not from the job before', () => {
        const reactor = make();
        let inner: IDelayedCall | null = null;
        reactor.callLater(2, () => {
          inner = reactor.callLater(1, () => undefined);
        });
        clock.tick(2000);
        expect(inner!.getTime()).to.equal(3);
      });

      it('waits beyond the 2^31-1 ms limit of a Node timer by re-arming', () => {
        const reactor = make();
        let ran = false;
        const days30 = 30 * 24 * 3600;
        reactor.callLater(days30, () => {
          ran = true;
        });
        clock.tick(2 ** 31 - 1);
        expect(ran).to.equal(false);
        // One spare millisecond: re-arming rounds up, never fires early.
        clock.tick(days30 * 1000 - (2 ** 31 - 1) + 1);
        expect(ran).to.equal(true);
      });

      it('runs calls scheduled by a running call on a later timer turn', () => {
        const reactor = make();
        const ran: string[] = [];
        reactor.callLater(1, () => {
          ran.push('outer');
          reactor.callLater(0, () => ran.push('inner'));
        });
        clock.tick(1000);
        expect(ran).to.deep.equal(['outer']);
        clock.tick(0);
        clock.tick(1);
        expect(ran).to.deep.equal(['outer', 'inner']);
      });
    });
  });

  describe('lifecycle', () => {
    it('fires startup triggers in phase order, then callWhenRunning calls, before run() returns', () => {
      const reactor = make();
      const seen: string[] = [];
      reactor.callWhenRunning(() => seen.push(`whenRunning running=${String(reactor.running)}`));
      reactor.addSystemEventTrigger('after', 'startup', () => seen.push('after'));
      reactor.addSystemEventTrigger('during', 'startup', () => seen.push('during'));
      reactor.addSystemEventTrigger('before', 'startup', () =>
        seen.push(`before running=${String(reactor.running)}`),
      );
      void reactor.run();
      expect(seen).to.deep.equal([
        'before running=false',
        'during',
        'whenRunning running=true',
        'after',
      ]);
      expect(reactor.running).to.equal(true);
    });

    it('runs callWhenRunning soon when already running', async () => {
      const reactor = make();
      void reactor.run();
      const ran = new Deferred<string>();
      reactor.callWhenRunning((x: string) => {
        ran.callback(x);
      }, 'later');
      expect(ran.called).to.equal(false);
      expect(await ran).to.equal('later');
    });

    it('throws ReactorAlreadyRunning, ReactorNotRunning and ReactorNotRestartable as Twisted does', async () => {
      const reactor = make();
      expect(() => {
        reactor.stop();
      }).to.throw(ReactorNotRunning);
      const done = reactor.run();
      expect(() => reactor.run()).to.throw(ReactorAlreadyRunning);
      reactor.stop();
      expect(() => {
        reactor.stop();
      }).to.throw(ReactorNotRunning);
      await done;
      expect(reactor.running).to.equal(false);
      expect(() => {
        reactor.stop();
      }).to.throw(ReactorNotRunning);
      expect(() => reactor.run()).to.throw(ReactorNotRestartable);
    });

    it('waits for Deferreds and promises returned by shutdown triggers, phase by phase', async () => {
      const reactor = make();
      const seen: string[] = [];
      const slow = new Deferred<void>();
      reactor.addSystemEventTrigger('before', 'shutdown', () => {
        seen.push('before');
        return slow;
      });
      reactor.addSystemEventTrigger('before', 'shutdown', async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        seen.push('before (promise) done');
      });
      reactor.addSystemEventTrigger('during', 'shutdown', () => seen.push('during'));
      reactor.addSystemEventTrigger('after', 'shutdown', () => seen.push('after'));
      const done = reactor.run();
      reactor.stop();
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(seen).to.deep.equal(['before', 'before (promise) done']);
      expect(reactor.running).to.equal(true);
      slow.callback(undefined);
      await done;
      expect(seen).to.deep.equal(['before', 'before (promise) done', 'during', 'after']);
      expect(reactor.running).to.equal(false);
    });

    it('logs a trigger that throws or fails and carries on with shutdown', async () => {
      const reactor = make();
      const seen: string[] = [];
      reactor.addSystemEventTrigger('before', 'shutdown', () => {
        throw new Error('sync trouble');
      });
      reactor.addSystemEventTrigger('before', 'shutdown', () =>
        Promise.reject(new Error('async trouble')),
      );
      reactor.addSystemEventTrigger('after', 'shutdown', () => seen.push('after'));
      const done = reactor.run();
      reactor.stop();
      await done;
      expect(seen).to.deep.equal(['after']);
      expect(logs.failures().map((f) => f.getErrorMessage())).to.have.members([
        'sync trouble',
        'async trouble',
      ]);
    });

    it('does not run a removed trigger and throws for an unknown id', async () => {
      const reactor = make();
      const seen: string[] = [];
      const id = reactor.addSystemEventTrigger('during', 'shutdown', () => seen.push('removed'));
      reactor.addSystemEventTrigger('before', 'shutdown', () => {
        reactor.removeSystemEventTrigger(id);
      });
      const done = reactor.run();
      reactor.stop();
      await done;
      expect(seen).to.deep.equal([]);
      expect(() => {
        reactor.removeSystemEventTrigger(id);
      }).to.throw(Error);
      expect(() =>
        reactor.addSystemEventTrigger('sometime' as 'before', 'startup', () => 0),
      ).to.throw(TypeError);
    });

    it('begins shutdown after startup when stop() is called during startup', async () => {
      const reactor = make();
      const seen: string[] = [];
      reactor.addSystemEventTrigger('during', 'startup', () => {
        seen.push('during startup');
        reactor.stop();
      });
      reactor.addSystemEventTrigger('after', 'startup', () => seen.push('after startup'));
      reactor.addSystemEventTrigger('before', 'shutdown', () => seen.push('before shutdown'));
      await reactor.run();
      expect(seen).to.deep.equal(['during startup', 'after startup', 'before shutdown']);
    });

    it('stops on SIGTERM while running and removes its signal handlers afterwards', async () => {
      const reactor = make({ installSignalHandlers: true });
      const before = process.listenerCount('SIGTERM');
      const done = reactor.run();
      expect(process.listenerCount('SIGTERM')).to.equal(before + 1);
      expect(process.listenerCount('SIGINT')).to.be.at.least(1);
      process.emit('SIGTERM', 'SIGTERM');
      // A second signal during shutdown is only logged.
      process.emit('SIGTERM', 'SIGTERM');
      await done;
      expect(reactor.running).to.equal(false);
      expect(process.listenerCount('SIGTERM')).to.equal(before);
      expect(logs.events.some((e) => e.message.includes('SIGTERM'))).to.equal(true);
    });

    it('drops pending delayed calls once stopped so the process can exit', async () => {
      const reactor = make();
      let ran = false;
      reactor.callLater(0.01, () => {
        ran = true;
      });
      const done = reactor.run();
      reactor.stop();
      await done;
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(ran).to.equal(false);
    });

    it('validates its options', () => {
      expect(() => new NodeReactor({ shutdownGracePeriod: -1 })).to.throw(RangeError);
      expect(() => new NodeReactor({ writeHighWaterMark: 1.5 })).to.throw(RangeError);
    });
  });
});
