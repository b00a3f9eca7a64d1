/**
 * Time: `seconds()`, `callLater` ordering, the `IDelayedCall` operations and
 * their errors, `getDelayedCalls()`, and errors thrown by delayed calls.
 * @module
 */
import { describe } from 'mocha';
import { expect } from 'chai';
import { AlreadyCalledError, AlreadyCancelledError } from '@torsion/core';
import type { IDelayedCall } from '@torsion/core';
import { Harness, reactorTest } from '../internal/harness.js';
import type { TestSpec } from '../internal/harness.js';
import { Eventual } from '@torsion/core/testing';
import type { SuiteSettings } from '../internal/settings.js';

/** Floating-point slack for comparing times computed two ways. */
const EPSILON = 1e-6;
/**
 * How much earlier than `seconds()` a delay may count from: a reactor may read
 * its clock once per job and count every delay scheduled in that job from it
 * (`ReactorBase.schedulingTime`; NodeReactor does), never from a later time.
 */
const SCHEDULING_SLACK = 0.01;

/** Registers the time tests. */
export function timeTests(settings: SuiteSettings): void {
  const test = (title: string, body: (h: Harness) => Promise<void> | void, spec: TestSpec = {}) => {
    reactorTest(settings, title, spec, body);
  };

  /** Schedules `fn` and resolves after it (and everything due before it) ran. */
  const last = (h: Harness, delay: number): Eventual<void> => {
    const done = new Eventual<void>();
    h.reactor.callLater(delay, () => {
      done.callback();
    });
    return done;
  };

  const expectThrows = (call: IDelayedCall, type: typeof AlreadyCalledError) => {
    expect(() => {
      call.cancel();
    }, 'cancel()').to.throw(type);
    expect(() => {
      call.reset(1);
    }, 'reset()').to.throw(type);
    expect(() => {
      call.delay(1);
    }, 'delay()').to.throw(type);
  };

  describe('time', () => {
    test('seconds() never goes backwards and has moved on by at least the delay when a call runs', async (h) => {
      const { reactor } = h;
      let previous = reactor.seconds();
      for (let i = 0; i < 1000; i++) {
        const now = reactor.seconds();
        expect(now).to.be.at.least(previous);
        previous = now;
      }
      const start = reactor.seconds();
      const ranAt = new Eventual<number>();
      reactor.callLater(0.05, () => {
        ranAt.callback(reactor.seconds());
      });
      expect((await ranAt) - start).to.be.at.least(0.05 - SCHEDULING_SLACK);
      expect(reactor.seconds()).to.be.at.least(await ranAt);
    });

    test('getTime() is the time of scheduling plus the delay, and the call runs no earlier than that', async (h) => {
      const { reactor } = h;
      const before = reactor.seconds();
      const ranAt = new Eventual<number>();
      const call = reactor.callLater(0.03, () => {
        ranAt.callback(reactor.seconds());
      });
      const after = reactor.seconds();
      expect(call.getTime()).to.be.within(before + 0.03 - SCHEDULING_SLACK, after + 0.03 + EPSILON);
      expect(await ranAt).to.be.at.least(call.getTime() - EPSILON);
    });

    test('runs delayed calls in deadline order, whatever order they were scheduled in', async (h) => {
      const order: number[] = [];
      for (const delay of [0.03, 0.01, 0.05, 0, 0.02, 0.04]) {
        h.reactor.callLater(delay, () => order.push(delay));
      }
      await last(h, 0.06);
      expect(order).to.deep.equal([0, 0.01, 0.02, 0.03, 0.04, 0.05]);
    });

    test('runs calls due at the same time in the order they were scheduled', async (h) => {
      const order: string[] = [];
      for (const tag of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']) {
        h.reactor.callLater(0, () => order.push(tag));
      }
      h.reactor.callLater(0.01, () => order.push('late 1'));
      h.reactor.callLater(0.01, () => order.push('late 2'));
      await last(h, 0.02);
      expect(order).to.deep.equal(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'late 1', 'late 2']);
    });

    test('passes the extra arguments of callLater to the function', async (h) => {
      const got = new Eventual<string>();
      h.reactor.callLater(
        0,
        (a: string, b: number, c: { d: boolean }) => {
          got.callback(`${a} ${String(b)} ${String(c.d)}`);
        },
        'x',
        2,
        { d: true },
      );
      expect(await got).to.equal('x 2 true');
    });

    test('active() is true until the call ran and getDelayedCalls() lists only pending calls', async (h) => {
      const first = h.reactor.callLater(0, () => undefined);
      const second = h.reactor.callLater(5, () => undefined);
      expect(first.active()).to.equal(true);
      expect(h.delayedCalls()).to.have.members([first, second]);
      await last(h, 0);
      expect(first.active()).to.equal(false);
      expect(second.active()).to.equal(true);
      expect(h.delayedCalls()).to.deep.equal([second]);
      second.reset(0);
      await last(h, 0);
      expect(second.active()).to.equal(false);
      expect(h.delayedCalls()).to.deep.equal([]);
    });

    test('a cancelled call never runs, is no longer active and leaves getDelayedCalls()', async (h) => {
      const ran: string[] = [];
      const cancelled = h.reactor.callLater(0, () => ran.push('cancelled'));
      const kept = h.reactor.callLater(0, () => ran.push('kept'));
      cancelled.cancel();
      expect(cancelled.active()).to.equal(false);
      expect(h.delayedCalls()).to.deep.equal([kept]);
      await last(h, 0.02);
      expect(ran).to.deep.equal(['kept']);
    });

    test('cancel, reset and delay on a call that already ran throw AlreadyCalledError', async (h) => {
      const call = h.reactor.callLater(0, () => undefined);
      await last(h, 0);
      expect(call.active()).to.equal(false);
      expectThrows(call, AlreadyCalledError);
    });

    test('cancel, reset and delay on a cancelled call throw AlreadyCancelledError', (h) => {
      const call = h.reactor.callLater(1, () => undefined);
      call.cancel();
      expectThrows(call, AlreadyCancelledError);
    });

    test('reset() reschedules relative to the time of the reset, not of the original schedule', async (h) => {
      const { reactor } = h;
      const call = reactor.callLater(5, () => undefined);
      const scheduledAt = call.getTime() - 5;
      await h.wait(0.05);
      const before = reactor.seconds();
      call.reset(0.01);
      const after = reactor.seconds();
      expect(call.getTime()).to.be.within(before + 0.01 - SCHEDULING_SLACK, after + 0.01 + EPSILON);
      expect(call.getTime()).to.be.at.least(scheduledAt + 0.05 + 0.01 - EPSILON);
      expect(call.active()).to.equal(true);
    });

    test('reset() moves a call earlier or later among the others', async (h) => {
      const { reactor } = h;
      const order: string[] = [];
      const sooner = reactor.callLater(5, () => order.push('sooner'));
      const later = reactor.callLater(0, () => order.push('later'));
      reactor.callLater(0.02, () => order.push('middle'));
      sooner.reset(0.01);
      later.reset(0.03);
      await last(h, 0.04);
      expect(order).to.deep.equal(['sooner', 'middle', 'later']);
    });

    test('delay() moves a call later by exactly that many seconds', async (h) => {
      const { reactor } = h;
      const order: string[] = [];
      const moved = reactor.callLater(0.01, () => order.push('moved'));
      reactor.callLater(0.02, () => order.push('fixed'));
      const was = moved.getTime();
      moved.delay(0.02);
      expect(moved.getTime()).to.be.closeTo(was + 0.02, EPSILON);
      await last(h, 0.04);
      expect(order).to.deep.equal(['fixed', 'moved']);
    });

    test('callLater throws RangeError for a negative, NaN or infinite delay and schedules nothing', (h) => {
      for (const delay of [-1, -0.001, Number.NaN, Infinity, -Infinity]) {
        expect(() => h.reactor.callLater(delay, () => undefined), String(delay)).to.throw(
          RangeError,
        );
      }
      expect(h.delayedCalls()).to.deep.equal([]);
    });

    test(
      'an exception in a delayed call is logged with its stack and the other calls still run',
      async (h) => {
        const ran: string[] = [];
        h.reactor.callLater(0, () => ran.push('before'));
        h.reactor.callLater(0, () => {
          throw new RangeError('timer trouble');
        });
        h.reactor.callLater(0, () => ran.push('after'));
        await last(h, 0.01);
        expect(ran).to.deep.equal(['before', 'after']);
        const failures = h.logs.failures();
        expect(failures).to.have.length(1);
        expect(failures[0]?.check(RangeError)).to.equal(RangeError);
        expect(failures[0]?.getTraceback()).to.match(/timer trouble[\s\S]*\bat\b/);
        expect(h.reactor.running).to.equal(true);
      },
      { logsErrors: true },
    );

    test('a call scheduled with delay 0 by a running call runs after the calls already due', async (h) => {
      const order: string[] = [];
      h.reactor.callLater(0, () => {
        order.push('outer');
        h.reactor.callLater(0, () => order.push('inner'));
      });
      h.reactor.callLater(0, () => order.push('sibling'));
      await last(h, 0.01);
      expect(order).to.deep.equal(['outer', 'sibling', 'inner']);
    });

    test('a call cancelled by an earlier call due at the same time does not run', async (h) => {
      const ran: string[] = [];
      let victim: IDelayedCall | null = null;
      h.reactor.callLater(0, () => {
        ran.push('first');
        victim?.cancel();
      });
      victim = h.reactor.callLater(0, () => ran.push('victim'));
      await last(h, 0.01);
      expect(ran).to.deep.equal(['first']);
    });
  });
}
