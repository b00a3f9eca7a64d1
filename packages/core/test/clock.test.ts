// Clock: the deterministic IReactorTime for tests (Twisted's task.Clock).
import { expect } from 'chai';
import sinon from 'sinon';
import { Clock } from '../src/clock.js';
import { AlreadyCalledError } from '../src/errors.js';

describe('Clock', () => {
  it('starts at 0 seconds', () => {
    const clock = new Clock();
    expect(clock.seconds()).to.equal(0);
  });

  it('runs nothing until advanced', () => {
    const clock = new Clock();
    const fn = sinon.spy();
    clock.callLater(0, fn);
    expect(fn.called).to.equal(false);
    clock.advance(0);
    expect(fn.calledOnce).to.equal(true);
  });

  it('runs a call exactly when its time is reached, with its arguments', () => {
    const clock = new Clock();
    const fn = sinon.spy();
    clock.callLater(5, fn, 'a', 1);
    clock.advance(4.5);
    expect(fn.called).to.equal(false);
    clock.advance(0.5);
    expect(fn.calledOnceWithExactly('a', 1)).to.equal(true);
    expect(clock.seconds()).to.equal(5);
  });

  it('runs due calls earliest first, same-time calls in scheduling order', () => {
    const clock = new Clock();
    const order: string[] = [];
    clock.callLater(2, () => order.push('b1'));
    clock.callLater(1, () => order.push('a'));
    clock.callLater(2, () => order.push('b2'));
    clock.callLater(3, () => order.push('c'));
    clock.advance(10);
    expect(order).to.deep.equal(['a', 'b1', 'b2', 'c']);
  });

  it('runs zero-delay calls made by due calls in the same advance, relative to the new time', () => {
    const clock = new Clock();
    const order: string[] = [];
    clock.callLater(1, () => {
      order.push('first');
      clock.callLater(0, () => order.push('zero-delay'));
      clock.callLater(0.5, () => order.push('half'));
      clock.callLater(5, () => order.push('too late'));
    });
    clock.advance(2);
    // Time moved to 2 before 'first' ran, so 'half' is due at 2.5.
    expect(order).to.deep.equal(['first', 'zero-delay']);
    expect(clock.getDelayedCalls().map((c) => c.getTime())).to.have.members([2.5, 7]);
  });

  it('getDelayedCalls() lists only calls that are still active', () => {
    const clock = new Clock();
    const kept = clock.callLater(3, () => undefined);
    clock.callLater(1, () => undefined);
    clock.callLater(2, () => undefined).cancel();
    clock.advance(1);
    expect(clock.getDelayedCalls()).to.deep.equal([kept]);
  });

  it('propagates an exception from a call out of advance(), marking the call called', () => {
    const clock = new Clock();
    const boom = new Error('boom');
    const later = sinon.spy();
    const failing = clock.callLater(1, () => {
      throw boom;
    });
    clock.callLater(1, later);
    expect(() => clock.advance(1)).to.throw(boom);
    expect(failing.called).to.equal(true);
    expect(() => failing.cancel()).to.throw(AlreadyCalledError);
    expect(later.called).to.equal(false);
    clock.advance(0);
    expect(later.calledOnce).to.equal(true);
  });

  for (const bad of [-1, NaN, Infinity]) {
    it(`advance(${String(bad)}) throws a RangeError and leaves time alone`, () => {
      const clock = new Clock();
      expect(() => clock.advance(bad)).to.throw(RangeError, String(bad));
      expect(clock.seconds()).to.equal(0);
    });
  }

  it('pump() advances by each step in turn, running due calls after each', () => {
    const clock = new Clock();
    const seen: number[] = [];
    const tick = (): void => {
      seen.push(clock.seconds());
      clock.callLater(1, tick);
    };
    clock.callLater(1, tick);
    clock.pump([1, 1, 0.5, 0.5]);
    expect(seen).to.deep.equal([1, 2, 3]);
    expect(clock.seconds()).to.equal(3);
  });

  it('callLater validates like a reactor: negative delays and non-functions throw', () => {
    const clock = new Clock();
    expect(() => clock.callLater(-1, () => undefined)).to.throw(RangeError);
    expect(() => clock.callLater(1, 'nope' as unknown as () => void)).to.throw(TypeError);
  });

  it('reset() and delay() on a Clock call follow the fake time', () => {
    const clock = new Clock();
    const fn = sinon.spy();
    const call = clock.callLater(10, fn);
    clock.advance(4);
    call.reset(1);
    expect(call.getTime()).to.equal(5);
    call.delay(2);
    clock.advance(2.9);
    expect(fn.called).to.equal(false);
    clock.advance(0.1);
    expect(fn.calledOnce).to.equal(true);
  });

  it('refuses to loop forever when a call keeps rescheduling itself with delay 0', () => {
    const clock = new Clock();
    const again = (): void => {
      clock.callLater(0, again);
    };
    clock.callLater(0, again);
    expect(() => clock.advance(0)).to.throw(Error, 'reschedules itself');
  });
});
