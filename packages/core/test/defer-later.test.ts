// deferLater: a Deferred that fires after a delay on a clock; cancellable.
import { expect } from 'chai';
import sinon from 'sinon';
import { Clock } from '../src/clock.js';
import { deferLater } from '../src/defer-later.js';
import { Deferred } from '../src/deferred.js';
import { CancelledError } from '../src/errors.js';
import type { Failure } from '../src/failure.js';

describe('deferLater', () => {
  let clock: Clock;

  beforeEach(() => {
    clock = new Clock();
  });

  it('fires with undefined after the delay when no function is given', () => {
    const fired = sinon.spy();
    deferLater(clock, 2).addCallback(fired);
    clock.advance(1.9);
    expect(fired.called).to.equal(false);
    clock.advance(0.1);
    expect(fired.calledOnceWithExactly(undefined)).to.equal(true);
  });

  it('calls the function with its arguments after the delay and fires with its result', () => {
    const fn = sinon.spy((a: number, b: number) => a + b);
    const results: number[] = [];
    deferLater(clock, 1, fn, 2, 3).addCallback((sum) => results.push(sum));
    expect(fn.called).to.equal(false);
    clock.advance(1);
    expect(fn.calledOnceWithExactly(2, 3)).to.equal(true);
    expect(results).to.deep.equal([5]);
  });

  it('fails with what the function throws', () => {
    const boom = new Error('boom');
    let reason: unknown;
    deferLater(clock, 1, () => {
      throw boom;
    }).addErrback((failure: Failure) => (reason = failure.value));
    clock.advance(1);
    expect(reason).to.equal(boom);
  });

  it('waits for a Deferred the function returns', () => {
    const inner = new Deferred<string>();
    const results: string[] = [];
    deferLater(clock, 1, () => inner).addCallback((value) => results.push(value));
    clock.advance(1);
    expect(results).to.deep.equal([]);
    inner.callback('done');
    expect(results).to.deep.equal(['done']);
  });

  it('can be awaited', async () => {
    const d = deferLater(clock, 1, () => 'late');
    clock.advance(1);
    expect(await d).to.equal('late');
  });

  it('cancel() before the delay cancels the call: the function never runs', () => {
    const fn = sinon.spy();
    const d = deferLater(clock, 1, fn);
    let reason: unknown;
    d.addErrback((failure: Failure) => (reason = failure.value));
    expect(clock.getDelayedCalls()).to.have.length(1);
    d.cancel();
    expect(reason).to.be.instanceOf(CancelledError);
    expect(clock.getDelayedCalls()).to.have.length(0);
    clock.advance(5);
    expect(fn.called).to.equal(false);
  });

  it('cancel() after it fired changes nothing', () => {
    const results: string[] = [];
    const d = deferLater(clock, 1, () => 'x').addCallback((v) => results.push(v));
    clock.advance(1);
    d.cancel();
    expect(results).to.deep.equal(['x']);
  });

  it('throws a RangeError at once for a negative delay', () => {
    expect(() => deferLater(clock, -1)).to.throw(RangeError);
  });
});
