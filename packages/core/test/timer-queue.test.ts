// TimerQueue: ordering, the run-due rule for calls scheduled during a run, the
// earliest-changed notifications, and a model check against a sorted list.
import { expect } from 'chai';
import fc from 'fast-check';
import sinon from 'sinon';
import type { DelayedCall } from '../src/delayed-call.js';
import { TimerQueue } from '../src/internal/timer-queue.js';

function makeQueue(): { queue: TimerQueue; setNow: (t: number) => void } {
  let now = 0;
  const queue = new TimerQueue(() => now);
  return {
    queue,
    setNow: (t) => {
      now = t;
    },
  };
}

const rethrow = (error: unknown): never => {
  throw error;
};

describe('TimerQueue', () => {
  describe('schedule()', () => {
    it('schedules at now() + delay and returns an active DelayedCall', () => {
      const { queue, setNow } = makeQueue();
      setNow(10);
      const call = queue.schedule(2.5, () => undefined, []);
      expect(call.getTime()).to.equal(12.5);
      expect(call.active()).to.equal(true);
      expect(queue.size).to.equal(1);
      expect(queue.nextTime()).to.equal(12.5);
    });

    it('stores the arguments array as given, without copying it', () => {
      const { queue } = makeQueue();
      const args: [number, string] = [1, 'x'];
      const fn = (_n: number, _s: string): void => undefined;
      const call = queue.schedule(1, fn, args);
      expect(call.args).to.equal(args);
      expect(call.func).to.equal(fn);
    });

    for (const bad of [-1, -0.001, NaN, Infinity, -Infinity, '1', null, undefined]) {
      it(`throws a RangeError naming the value (or a non-number's type) for delay ${String(bad)}`, () => {
        const { queue } = makeQueue();
        expect(() => queue.schedule(bad as number, () => undefined, [])).to.throw(
          RangeError,
          // A wrong type is named with describeType, as in every other argument check.
          typeof bad === 'string' ? 'got string' : String(bad),
        );
        expect(queue.size).to.equal(0);
      });
    }

    it('accepts a delay of zero', () => {
      const { queue } = makeQueue();
      expect(queue.schedule(0, () => undefined, []).getTime()).to.equal(0);
    });

    for (const bad of [null, 42, 'fn', {}]) {
      it(`throws a TypeError naming the type when fn is ${JSON.stringify(bad)}`, () => {
        const { queue } = makeQueue();
        const expected = bad === null ? 'null' : typeof bad === 'object' ? 'Object' : typeof bad;
        expect(() => queue.schedule(1, bad as unknown as () => void, [])).to.throw(
          TypeError,
          expected,
        );
      });
    }
  });

  describe('nextTime()', () => {
    it('is undefined when the queue is empty', () => {
      expect(makeQueue().queue.nextTime()).to.equal(undefined);
    });

    it('tracks the earliest active call through schedule and cancel', () => {
      const { queue } = makeQueue();
      const late = queue.schedule(5, () => undefined, []);
      const early = queue.schedule(1, () => undefined, []);
      expect(queue.nextTime()).to.equal(1);
      early.cancel();
      expect(queue.nextTime()).to.equal(5);
      late.cancel();
      expect(queue.nextTime()).to.equal(undefined);
    });
  });

  describe('runDue()', () => {
    it('runs only the calls due at or before now(), earliest first', () => {
      const { queue, setNow } = makeQueue();
      const order: string[] = [];
      queue.schedule(3, () => order.push('3'), []);
      queue.schedule(1, () => order.push('1'), []);
      queue.schedule(2, () => order.push('2'), []);
      setNow(2);
      expect(queue.runDue(rethrow)).to.equal(2);
      expect(order).to.deep.equal(['1', '2']);
      expect(queue.size).to.equal(1);
      expect(queue.nextTime()).to.equal(3);
    });

    it('runs calls due at the same time in scheduling order', () => {
      const { queue, setNow } = makeQueue();
      const order: number[] = [];
      for (let i = 0; i < 50; i++) queue.schedule(1, (n: number) => order.push(n), [i]);
      setNow(1);
      queue.runDue(rethrow);
      expect(order).to.deep.equal([...Array(50).keys()]);
    });

    it('passes the stored arguments and no `this`', () => {
      const { queue } = makeQueue();
      const fn = sinon.spy();
      queue.schedule(0, fn, [1, 'two', null]);
      queue.runDue(rethrow);
      expect(fn.calledOnceWithExactly(1, 'two', null)).to.equal(true);
      expect(fn.firstCall.thisValue).to.equal(undefined);
    });

    it('marks a call called before running it', () => {
      const { queue } = makeQueue();
      let seen: [boolean, boolean] | undefined;
      const call: DelayedCall = queue.schedule(
        0,
        () => {
          seen = [call.called, call.active()];
        },
        [],
      );
      queue.runDue(rethrow);
      expect(seen).to.deep.equal([true, false]);
    });

    it('does not run calls scheduled while it runs, even with delay 0', () => {
      const { queue } = makeQueue();
      let runs = 0;
      const again = (): void => {
        runs++;
        queue.schedule(0, again, []);
      };
      queue.schedule(0, again, []);
      expect(queue.runDue(rethrow)).to.equal(1);
      expect(runs).to.equal(1);
      expect(queue.size).to.equal(1);
      expect(queue.nextTime()).to.equal(0);
      expect(queue.runDue(rethrow)).to.equal(1);
      expect(runs).to.equal(2);
    });

    it('counts calls scheduled during a run in size and pending() before they join the heap', () => {
      const { queue } = makeQueue();
      let during: [number, number] | undefined;
      queue.schedule(
        0,
        () => {
          queue.schedule(5, () => undefined, []);
          during = [queue.size, queue.pending().length];
        },
        [],
      );
      queue.runDue(rethrow);
      expect(during).to.deep.equal([1, 1]);
      expect(queue.nextTime()).to.equal(5);
    });

    it('defers a call reset during a run to the next run, as if newly scheduled', () => {
      const { queue, setNow } = makeQueue();
      const order: string[] = [];
      const other = queue.schedule(1, () => order.push('other'), []);
      queue.schedule(
        0,
        () => {
          other.reset(0);
          other.delay(0);
        },
        [],
      );
      setNow(1);
      expect(queue.runDue(rethrow)).to.equal(1);
      expect(order).to.deep.equal([]);
      expect(queue.pending()).to.deep.equal([other]);
      expect(queue.runDue(rethrow)).to.equal(1);
      expect(order).to.deep.equal(['other']);
    });

    it('forgets a call scheduled and cancelled during the same run', () => {
      const { queue } = makeQueue();
      const fn = sinon.spy();
      queue.schedule(
        0,
        () => {
          queue.schedule(0, fn, []).cancel();
        },
        [],
      );
      queue.runDue(rethrow);
      expect(queue.size).to.equal(0);
      expect(queue.pending()).to.deep.equal([]);
      expect(queue.nextTime()).to.equal(undefined);
      queue.runDue(rethrow);
      expect(fn.called).to.equal(false);
    });

    it('does not run a due call cancelled by an earlier call of the same run', () => {
      const { queue } = makeQueue();
      const fn = sinon.spy();
      const victims: DelayedCall[] = [];
      queue.schedule(0, () => victims[0]?.cancel(), []);
      victims.push(queue.schedule(0, fn, []));
      expect(queue.runDue(rethrow)).to.equal(1);
      expect(fn.called).to.equal(false);
    });

    it('passes exceptions to onError with the call and keeps running', () => {
      const { queue } = makeQueue();
      const boom = new Error('boom');
      const after = sinon.spy();
      const failing = queue.schedule(
        0,
        () => {
          throw boom;
        },
        [],
      );
      queue.schedule(0, after, []);
      const onError = sinon.spy();
      expect(queue.runDue(onError)).to.equal(2);
      expect(onError.calledOnceWithExactly(boom, failing)).to.equal(true);
      expect(after.calledOnce).to.equal(true);
    });

    it('stops and propagates when onError throws, leaving the rest scheduled', () => {
      const { queue } = makeQueue();
      const after = sinon.spy();
      const failing = queue.schedule(
        0,
        () => {
          throw new Error('boom');
        },
        [],
      );
      queue.schedule(0, after, []);
      expect(() => queue.runDue(rethrow)).to.throw('boom');
      expect(failing.called).to.equal(true);
      expect(after.called).to.equal(false);
      expect(queue.size).to.equal(1);
      queue.runDue(rethrow);
      expect(after.calledOnce).to.equal(true);
    });

    it('reads now() once, so a call due only after the run began waits', () => {
      let now = 0;
      const queue = new TimerQueue(() => now);
      const late = sinon.spy();
      queue.schedule(
        0,
        () => {
          now = 5;
        },
        [],
      );
      queue.schedule(5, late, []);
      queue.runDue(rethrow);
      expect(late.called).to.equal(false);
      queue.runDue(rethrow);
      expect(late.calledOnce).to.equal(true);
    });

    it('returns 0 and does nothing when nothing is due', () => {
      const { queue } = makeQueue();
      const fn = sinon.spy();
      queue.schedule(1, fn, []);
      expect(queue.runDue(rethrow)).to.equal(0);
      expect(fn.called).to.equal(false);
    });
  });

  describe('onEarliestChanged', () => {
    it('fires when a call becomes the earliest, not when a later one is added', () => {
      const { queue } = makeQueue();
      const changed = sinon.spy();
      queue.onEarliestChanged = changed;
      queue.schedule(5, () => undefined, []);
      expect(changed.callCount).to.equal(1);
      queue.schedule(7, () => undefined, []);
      expect(changed.callCount).to.equal(1);
      queue.schedule(1, () => undefined, []);
      expect(changed.callCount).to.equal(2);
    });

    it('fires when reset or delay moves a call before the earliest', () => {
      const { queue } = makeQueue();
      queue.schedule(2, () => undefined, []);
      const later = queue.schedule(5, () => undefined, []);
      const changed = sinon.spy();
      queue.onEarliestChanged = changed;
      later.reset(1);
      expect(changed.callCount).to.equal(1);
      expect(queue.nextTime()).to.equal(1);
      later.delay(-0.5);
      expect(changed.callCount).to.equal(2);
      expect(queue.nextTime()).to.equal(0.5);
    });

    it('stays silent when the earliest call is cancelled or postponed while others remain', () => {
      const { queue } = makeQueue();
      const first = queue.schedule(1, () => undefined, []);
      const second = queue.schedule(2, () => undefined, []);
      queue.schedule(3, () => undefined, []);
      const changed = sinon.spy();
      queue.onEarliestChanged = changed;
      first.delay(5);
      expect(queue.nextTime()).to.equal(2);
      second.cancel();
      expect(queue.nextTime()).to.equal(3);
      expect(changed.called).to.equal(false);
    });

    it('fires when the last active call is cancelled, leaving nextTime() undefined', () => {
      const { queue } = makeQueue();
      const first = queue.schedule(1, () => undefined, []);
      const second = queue.schedule(2, () => undefined, []);
      const changed = sinon.spy(() => {
        expect(queue.nextTime()).to.equal(undefined);
      });
      queue.onEarliestChanged = changed;
      second.cancel();
      expect(changed.called).to.equal(false);
      first.cancel();
      expect(changed.calledOnce).to.equal(true);
      expect(changed.threw()).to.equal(false);
      expect(queue.size).to.equal(0);
    });

    it('never fires while runDue runs', () => {
      const { queue } = makeQueue();
      const changed = sinon.spy();
      const other = queue.schedule(3, () => undefined, []);
      queue.schedule(
        0,
        () => {
          queue.schedule(0, () => undefined, []);
          other.reset(0);
          queue.schedule(1, () => undefined, []).cancel();
        },
        [],
      );
      queue.onEarliestChanged = changed;
      queue.runDue(rethrow);
      expect(changed.called).to.equal(false);
    });
  });

  describe('cancelled and moved calls', () => {
    it('keeps order and size exact while most calls are cancelled and reset', () => {
      const { queue, setNow } = makeQueue();
      const ran: number[] = [];
      const calls: DelayedCall[] = [];
      for (let i = 0; i < 2000; i++) {
        calls.push(queue.schedule((i * 7919) % 1000, (n: number) => ran.push(n), [i]));
      }
      for (let i = 0; i < 2000; i++) if (i % 10 !== 0) calls[i]!.cancel();
      for (let i = 0; i < 2000; i += 20) calls[i]!.reset(2000 - i);
      expect(queue.size).to.equal(200);
      expect(queue.pending()).to.have.length(200);
      setNow(5000);
      queue.runDue(rethrow);
      const expected = calls
        .map((call, i) => ({ call, i }))
        .filter(({ i }) => i % 10 === 0)
        .sort((a, b) => a.call.getTime() - b.call.getTime())
        .map(({ i }) => i);
      expect(ran).to.deep.equal(expected);
      expect(queue.size).to.equal(0);
      expect(queue.nextTime()).to.equal(undefined);
    });
  });

  describe('lists', () => {
    it('groups calls by delay, so a thousand calls with one timeout are one list', () => {
      const { queue, setNow } = makeQueue();
      for (let i = 0; i < 1000; i++) {
        setNow(i / 10);
        queue.schedule(30, () => undefined, []);
      }
      queue.schedule(5, () => undefined, []);
      expect(queue.size).to.equal(1001);
      expect(queue._listCount).to.equal(2);
      expect(queue.nextTime()).to.equal(30);
    });

    it('drops a list as soon as its last call is cancelled', () => {
      const { queue } = makeQueue();
      const calls = Array.from({ length: 500 }, (_, i) => queue.schedule(i, () => undefined, []));
      for (const call of calls.slice(1)) call.cancel();
      expect(queue._listCount).to.equal(1);
      calls[0]!.cancel();
      expect(queue._listCount).to.equal(0);
      expect(queue.nextTime()).to.equal(undefined);
    });

    it('moves the next call up when the head of a list is cancelled', () => {
      const { queue, setNow } = makeQueue();
      const first = queue.schedule(10, () => undefined, []);
      setNow(1);
      queue.schedule(10, () => undefined, []);
      expect(queue.nextTime()).to.equal(10);
      first.cancel();
      expect(queue.nextTime()).to.equal(11);
    });

    it('keeps exact order when the clock goes backwards between calls of one delay', () => {
      const { queue, setNow } = makeQueue();
      const ran: string[] = [];
      setNow(5);
      queue.schedule(1, () => ran.push('at 6'), []);
      setNow(2);
      queue.schedule(1, () => ran.push('at 3'), []);
      setNow(10);
      queue.runDue(rethrow);
      expect(ran).to.deep.equal(['at 3', 'at 6']);
    });
  });

  describe('pending()', () => {
    it('lists exactly the active calls', () => {
      const { queue } = makeQueue();
      const a = queue.schedule(1, () => undefined, []);
      const b = queue.schedule(2, () => undefined, []);
      const c = queue.schedule(0, () => undefined, []);
      b.cancel();
      queue.runDue(rethrow);
      expect(queue.pending()).to.deep.equal([a]);
      expect(c.called).to.equal(true);
    });
  });

  it('agrees with a sorted-list model under random schedule, cancel, reset, delay and run', () => {
    type Op =
      | { kind: 'schedule'; delay: number }
      | { kind: 'cancel'; pick: number }
      | { kind: 'reset'; pick: number; delay: number }
      | { kind: 'delay'; pick: number; by: number }
      | { kind: 'advance'; by: number };
    const delayArb = fc.integer({ min: 0, max: 8 }).map((n) => n / 2);
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('schedule' as const), delay: delayArb }),
      fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('reset' as const), pick: fc.nat(), delay: delayArb }),
      fc.record({
        kind: fc.constant('delay' as const),
        pick: fc.nat(),
        by: fc.integer({ min: -4, max: 4 }).map((n) => n / 2),
      }),
      fc.record({ kind: fc.constant('advance' as const), by: delayArb }),
    );
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 200 }), (ops) => {
        let now = 0;
        let seq = 0;
        const queue = new TimerQueue(() => now);
        const model = new Map<number, { time: number; seq: number }>();
        const calls: { id: number; call: DelayedCall }[] = [];
        const ran: number[] = [];
        let nextId = 0;
        // A reactor-like owner: re-arms for nextTime() when told and after each run.
        let armedFor: number | undefined;
        queue.onEarliestChanged = () => {
          armedFor = queue.nextTime();
        };
        const activeCalls = (): { id: number; call: DelayedCall }[] =>
          calls.filter((c) => c.call.active());
        for (const op of ops) {
          const active = activeCalls();
          const target =
            active.length > 0 && 'pick' in op ? active[op.pick % active.length] : undefined;
          switch (op.kind) {
            case 'schedule': {
              const id = nextId++;
              calls.push({ id, call: queue.schedule(op.delay, (n: number) => ran.push(n), [id]) });
              model.set(id, { time: now + op.delay, seq: seq++ });
              break;
            }
            case 'cancel':
              if (target !== undefined) {
                target.call.cancel();
                model.delete(target.id);
              }
              break;
            case 'reset':
              if (target !== undefined) {
                target.call.reset(op.delay);
                model.set(target.id, { time: now + op.delay, seq: seq++ });
              }
              break;
            case 'delay':
              if (target !== undefined) {
                target.call.delay(op.by);
                const entry = model.get(target.id)!;
                model.set(target.id, { time: entry.time + op.by, seq: seq++ });
              }
              break;
            case 'advance': {
              now += op.by;
              const due = [...model.entries()]
                .filter(([, e]) => e.time <= now)
                .sort(([, a], [, b]) => a.time - b.time || a.seq - b.seq)
                .map(([id]) => id);
              ran.length = 0;
              queue.runDue(rethrow);
              armedFor = queue.nextTime();
              expect(ran).to.deep.equal(due);
              for (const id of due) model.delete(id);
              break;
            }
          }
          expect(queue.size).to.equal(model.size);
          const times = [...model.values()].map((e) => e.time);
          expect(queue.nextTime()).to.equal(times.length > 0 ? Math.min(...times) : undefined);
          for (const call of queue.pending()) {
            expect(call.active()).to.equal(true);
            // The owner is never armed later than an active call's time.
            expect(armedFor).to.be.a('number');
            expect(call.getTime()).to.be.at.least(armedFor!);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
