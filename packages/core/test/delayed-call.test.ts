// DelayedCall: cancel/reset/delay semantics and their errors (Twisted's
// AlreadyCalled / AlreadyCancelled rules), driven through a TimerQueue.
import { expect } from 'chai';
import { DelayedCall } from '../src/delayed-call.js';
import { AlreadyCalledError, AlreadyCancelledError } from '../src/errors.js';
import { TimerQueue } from '../src/internal/timer-queue.js';

const rethrow = (error: unknown): never => {
  throw error;
};

describe('DelayedCall', () => {
  let now: number;
  let queue: TimerQueue;
  let order: string[];

  beforeEach(() => {
    now = 0;
    queue = new TimerQueue(() => now);
    order = [];
  });

  function schedule(delay: number, name: string): DelayedCall {
    return queue.schedule(delay, (n: string) => order.push(n), [name]);
  }

  function advanceTo(time: number): void {
    now = time;
    queue.runDue(rethrow);
  }

  it('is a DelayedCall with called and cancelled both false while pending', () => {
    const call = schedule(1, 'a');
    expect(call).to.be.instanceOf(DelayedCall);
    expect([call.called, call.cancelled, call.active()]).to.deep.equal([false, false, true]);
  });

  describe('cancel()', () => {
    it('stops the call from running and marks it cancelled', () => {
      const call = schedule(1, 'a');
      call.cancel();
      advanceTo(5);
      expect(order).to.deep.equal([]);
      expect([call.called, call.cancelled, call.active()]).to.deep.equal([false, true, false]);
      expect(queue.size).to.equal(0);
    });

    it('throws AlreadyCancelledError the second time', () => {
      const call = schedule(1, 'a');
      call.cancel();
      expect(() => call.cancel()).to.throw(AlreadyCancelledError);
    });

    it('throws AlreadyCalledError after the call ran', () => {
      const call = schedule(1, 'a');
      advanceTo(1);
      expect([call.called, call.active()]).to.deep.equal([true, false]);
      expect(() => call.cancel()).to.throw(AlreadyCalledError);
    });

    it('throws AlreadyCalledError when a call cancels itself while running', () => {
      let thrown: unknown;
      const call: DelayedCall = queue.schedule(
        0,
        () => {
          try {
            call.cancel();
          } catch (error) {
            thrown = error;
          }
        },
        [],
      );
      advanceTo(0);
      expect(thrown).to.be.instanceOf(AlreadyCalledError);
    });
  });

  describe('reset()', () => {
    it('reschedules the call relative to now, not to its old time', () => {
      const call = schedule(10, 'a');
      now = 3;
      call.reset(2);
      expect(call.getTime()).to.equal(5);
      advanceTo(5);
      expect(order).to.deep.equal(['a']);
    });

    it('can move a call earlier', () => {
      const call = schedule(10, 'a');
      call.reset(1);
      advanceTo(1);
      expect(order).to.deep.equal(['a']);
    });

    it('places the call after others due at the same time, as if newly scheduled', () => {
      const first = schedule(1, 'first');
      schedule(1, 'second');
      first.reset(1);
      advanceTo(1);
      expect(order).to.deep.equal(['second', 'first']);
    });

    it('throws AlreadyCancelledError after cancel and AlreadyCalledError after running', () => {
      const cancelled = schedule(1, 'a');
      cancelled.cancel();
      expect(() => cancelled.reset(1)).to.throw(AlreadyCancelledError);
      const ran = schedule(1, 'b');
      advanceTo(1);
      expect(() => ran.reset(1)).to.throw(AlreadyCalledError);
    });

    for (const bad of [-1, NaN, Infinity]) {
      it(`throws a RangeError for ${String(bad)} and leaves the call where it was`, () => {
        const call = schedule(4, 'a');
        expect(() => call.reset(bad)).to.throw(RangeError, String(bad));
        expect(call.getTime()).to.equal(4);
        expect(call.active()).to.equal(true);
      });
    }
  });

  describe('delay()', () => {
    it('adds to the scheduled time rather than to now', () => {
      const call = schedule(10, 'a');
      now = 3;
      call.delay(2);
      expect(call.getTime()).to.equal(12);
      advanceTo(11.5);
      expect(order).to.deep.equal([]);
      advanceTo(12);
      expect(order).to.deep.equal(['a']);
    });

    it('accepts a negative amount, which moves the call earlier', () => {
      const call = schedule(10, 'a');
      call.delay(-9);
      expect(call.getTime()).to.equal(1);
      advanceTo(1);
      expect(order).to.deep.equal(['a']);
    });

    it('places the call after others due at the same time, as if newly scheduled', () => {
      const first = schedule(1, 'first');
      schedule(2, 'second');
      first.delay(1);
      advanceTo(2);
      expect(order).to.deep.equal(['second', 'first']);
    });

    it('throws AlreadyCancelledError after cancel and AlreadyCalledError after running', () => {
      const cancelled = schedule(1, 'a');
      cancelled.cancel();
      expect(() => cancelled.delay(1)).to.throw(AlreadyCancelledError);
      const ran = schedule(1, 'b');
      advanceTo(1);
      expect(() => ran.delay(1)).to.throw(AlreadyCalledError);
    });

    for (const bad of [NaN, Infinity, -Infinity]) {
      it(`throws a RangeError for ${String(bad)}`, () => {
        const call = schedule(4, 'a');
        expect(() => call.delay(bad)).to.throw(RangeError, String(bad));
        expect(call.getTime()).to.equal(4);
      });
    }
  });

  it('error codes are the stable Torsion codes', () => {
    const call = schedule(1, 'a');
    call.cancel();
    try {
      call.cancel();
      expect.fail('cancel() should have thrown');
    } catch (error) {
      expect((error as AlreadyCancelledError).code).to.equal('TORSION_ERR_ALREADY_CANCELLED');
    }
  });

  it('toString() names the function, the time and the state', () => {
    const call = queue.schedule(1.5, function tick() {}, []);
    expect(call.toString()).to.equal('<DelayedCall tick at 1.5s>');
    call.cancel();
    expect(call.toString()).to.equal('<DelayedCall tick at 1.5s cancelled>');
  });
});
