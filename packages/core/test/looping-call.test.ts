// LoopingCall: runs on the interval grid, skips (and counts) missed intervals,
// waits for Deferreds, stops on failure; driven by a Clock.
import { expect } from 'chai';
import sinon from 'sinon';
import { Clock } from '../src/clock.js';
import { Deferred } from '../src/deferred.js';
import type { Failure } from '../src/failure.js';
import { LoopingCall } from '../src/looping-call.js';

function loopOn<A extends unknown[]>(
  clock: Clock,
  fn: (...args: A) => unknown,
  ...args: A
): LoopingCall<A> {
  const loop = new LoopingCall(fn, ...args);
  loop.clock = clock;
  return loop;
}

describe('LoopingCall', () => {
  let clock: Clock;

  beforeEach(() => {
    clock = new Clock();
  });

  it('runs at once and then every interval, with its arguments', () => {
    const times: number[] = [];
    const loop = loopOn(clock, (tag: string) => times.push(clock.seconds()) && tag, 'x');
    loop.start(1);
    expect(times).to.deep.equal([0]);
    clock.pump([1, 1, 1]);
    expect(times).to.deep.equal([0, 1, 2, 3]);
    expect(loop.running).to.equal(true);
    expect(loop.interval).to.equal(1);
    expect(loop.args).to.deep.equal(['x']);
  });

  it('with now=false waits one interval before the first run', () => {
    const fn = sinon.spy();
    loopOn(clock, fn).start(2, false);
    expect(fn.called).to.equal(false);
    clock.advance(1.9);
    expect(fn.called).to.equal(false);
    clock.advance(0.1);
    expect(fn.calledOnce).to.equal(true);
  });

  it('stop() cancels the next run and fires the start Deferred with the LoopingCall', () => {
    const fn = sinon.spy();
    const loop = loopOn(clock, fn);
    const done = sinon.spy();
    loop.start(1).addCallback(done);
    loop.stop();
    expect(done.calledOnceWithExactly(loop)).to.equal(true);
    expect(loop.running).to.equal(false);
    clock.advance(5);
    expect(fn.callCount).to.equal(1);
    expect(clock.getDelayedCalls()).to.have.length(0);
  });

  it('can be stopped from inside its own function', () => {
    const done = sinon.spy();
    let runs = 0;
    const loop = loopOn(clock, () => {
      runs++;
      if (runs === 3) loop.stop();
    });
    loop.start(1).addCallback(done);
    clock.pump([1, 1, 1, 1]);
    expect(runs).to.equal(3);
    expect(done.calledOnce).to.equal(true);
    expect(clock.getDelayedCalls()).to.have.length(0);
  });

  it('throws when stopped or reset while not running, and when started twice', () => {
    const loop = loopOn(clock, () => undefined);
    expect(() => loop.stop()).to.throw(Error, 'not running');
    expect(() => loop.reset()).to.throw(Error, 'not running');
    loop.start(1);
    expect(() => loop.start(1)).to.throw(Error, 'already running');
  });

  for (const bad of [-1, NaN, Infinity]) {
    it(`start(${String(bad)}) throws a RangeError and does not run`, () => {
      const fn = sinon.spy();
      const loop = loopOn(clock, fn);
      expect(() => loop.start(bad)).to.throw(RangeError);
      expect(fn.called).to.equal(false);
      expect(loop.running).to.equal(false);
    });
  }

  it('keeps to the grid of the start time when a run is late, skipping missed intervals', () => {
    const times: number[] = [];
    const loop = loopOn(clock, () => times.push(clock.seconds()));
    loop.start(1);
    clock.advance(3.5); // one run at 3.5 for the intervals 1, 2 and 3
    clock.advance(0.5); // back on the grid at 4
    expect(times).to.deep.equal([0, 3.5, 4]);
  });

  it('waits for a Deferred returned by the function before scheduling the next run', () => {
    const pending: Deferred<undefined>[] = [];
    const times: number[] = [];
    const loop = loopOn(clock, () => {
      times.push(clock.seconds());
      const d = new Deferred<undefined>();
      pending.push(d);
      return d;
    });
    loop.start(1);
    clock.advance(5);
    expect(times).to.deep.equal([0]);
    clock.advance(0.5);
    pending[0]!.callback(undefined); // done at 5.5: next grid point is 6
    clock.advance(0.4);
    expect(times).to.deep.equal([0]);
    clock.advance(0.1);
    expect(times).to.deep.equal([0, 6]);
  });

  it('stop() during a pending run fires the start Deferred when that run finishes', () => {
    let pending: Deferred<undefined> | undefined;
    const loop = loopOn(clock, () => (pending = new Deferred<undefined>()));
    const done = sinon.spy();
    loop.start(1).addCallback(done);
    loop.stop();
    expect(done.called).to.equal(false);
    pending!.callback(undefined);
    expect(done.calledOnceWithExactly(loop)).to.equal(true);
  });

  it('waits for a promise returned by the function', async () => {
    let resolve: (() => void) | undefined;
    const fn = sinon.spy(() => new Promise<void>((r) => (resolve = r)));
    const loop = loopOn(clock, fn);
    loop.start(1);
    clock.advance(3);
    expect(fn.callCount).to.equal(1);
    resolve!();
    await new Promise((r) => setImmediate(r));
    clock.advance(1);
    expect(fn.callCount).to.equal(2);
    loop.stop();
  });

  it('stops and fails the start Deferred when the function throws', () => {
    const boom = new Error('boom');
    const fn = sinon.spy(() => {
      if (clock.seconds() >= 2) throw boom;
    });
    const loop = loopOn(clock, fn);
    const failed = sinon.spy((failure: Failure) => failure.value);
    loop.start(1).addErrback(failed);
    clock.pump([1, 1, 1, 1]);
    expect(fn.callCount).to.equal(3);
    expect(loop.running).to.equal(false);
    expect(failed.calledOnce).to.equal(true);
    expect(failed.firstCall.returnValue).to.equal(boom);
    expect(clock.getDelayedCalls()).to.have.length(0);
  });

  it('stops and fails the start Deferred when the returned Deferred fails', () => {
    const boom = new Error('later boom');
    const loop = loopOn(clock, () => {
      const d = new Deferred<undefined>();
      clock.callLater(0.5, () => d.errback(boom));
      return d;
    });
    let reason: unknown;
    loop.start(1).addErrback((failure: Failure) => (reason = failure.value));
    clock.advance(0.5);
    expect(reason).to.equal(boom);
    expect(loop.running).to.equal(false);
  });

  it('can be restarted after stop()', () => {
    const fn = sinon.spy();
    const loop = loopOn(clock, fn);
    loop.start(1);
    loop.stop();
    loop.start(2);
    clock.advance(2);
    expect(fn.callCount).to.equal(3);
  });

  it('reset() restarts the grid from now', () => {
    const times: number[] = [];
    const loop = loopOn(clock, () => times.push(clock.seconds()));
    loop.start(2);
    clock.advance(1.5);
    loop.reset();
    clock.advance(0.5);
    expect(times).to.deep.equal([0]);
    clock.advance(1.5);
    expect(times).to.deep.equal([0, 3.5]);
  });

  it('interval 0 runs once per timer round (callLater(0)), not in a tight loop', () => {
    let runs = 0;
    const loop = loopOn(clock, () => {
      runs++;
      if (runs === 5) loop.stop();
    });
    loop.start(0);
    expect(runs).to.equal(1);
    expect(clock.getDelayedCalls()).to.have.length(1);
    clock.advance(0);
    expect(runs).to.equal(5);
  });

  it('stays on the grid with fractional intervals despite floating-point error', () => {
    let runs = 0;
    const loop = loopOn(clock, () => runs++);
    loop.start(0.1);
    for (let i = 0; i < 100; i++) clock.advance(0.1);
    expect(runs).to.equal(101);
    loop.stop();
  });

  it('uses the clock set on it rather than the default reactor', () => {
    const loop = new LoopingCall(() => undefined);
    loop.clock = clock;
    loop.start(1);
    expect(loop.clock).to.equal(clock);
    expect(clock.getDelayedCalls()).to.have.length(1);
    loop.stop();
  });

  describe('withCount()', () => {
    it('passes 1 per run when on time, and the number of elapsed intervals when late', () => {
      const counts: number[] = [];
      const loop = LoopingCall.withCount((count) => counts.push(count));
      loop.clock = clock;
      loop.start(1);
      clock.advance(1);
      clock.advance(3);
      clock.advance(1);
      expect(counts).to.deep.equal([1, 1, 3, 1]);
    });

    it('counts from the start time when started with now=false', () => {
      const counts: number[] = [];
      const loop = LoopingCall.withCount((count) => counts.push(count));
      loop.clock = clock;
      loop.start(1, false);
      clock.advance(2.5);
      expect(counts).to.deep.equal([2]);
    });

    it('passes 1 for an interval of 0', () => {
      const counts: number[] = [];
      const loop = LoopingCall.withCount((count) => {
        counts.push(count);
        if (counts.length === 3) loop.stop();
      });
      loop.clock = clock;
      loop.start(0);
      clock.advance(0);
      expect(counts).to.deep.equal([1, 1, 1]);
    });
  });
});
