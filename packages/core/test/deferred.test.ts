// Deferred: Twisted's callback chain semantics, cancellation, timeouts,
// awaiting, and the unhandled-error rule.
import { expect } from 'chai';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  Deferred,
  fail,
  maybeDeferred,
  reportUnhandledFailures,
  succeed,
} from '../src/deferred.js';
import {
  AlreadyCalledError,
  CancelledError,
  ConnectError,
  DeferredTimeoutError,
  TimeoutError,
} from '../src/errors.js';
import { Failure } from '../src/failure.js';
import type { IDelayedCall, IReactorTime } from '../src/interfaces.js';
import { addLogObserver, type LogEvent } from '../src/log.js';

/** A minimal IReactorTime whose time only moves when the test says so. */
class FakeClock implements IReactorTime {
  now = 0;
  calls: { time: number; fn: () => void; state: 'pending' | 'called' | 'cancelled' }[] = [];

  seconds(): number {
    return this.now;
  }

  callLater<A extends unknown[]>(
    delaySeconds: number,
    fn: (...args: A) => unknown,
    ...args: A
  ): IDelayedCall {
    const entry = {
      time: this.now + delaySeconds,
      fn: () => void fn(...args),
      state: 'pending' as 'pending' | 'called' | 'cancelled',
    };
    this.calls.push(entry);
    return {
      getTime: () => entry.time,
      cancel: () => {
        if (entry.state !== 'pending') throw new Error(`cancel() of a ${entry.state} call`);
        entry.state = 'cancelled';
      },
      delay: (s: number) => {
        entry.time += s;
      },
      reset: (s: number) => {
        entry.time = this.now + s;
      },
      active: () => entry.state === 'pending',
    };
  }

  getDelayedCalls(): IDelayedCall[] {
    throw new Error('not used by these tests');
  }

  pendingCount(): number {
    return this.calls.filter((c) => c.state === 'pending').length;
  }

  advance(seconds: number): void {
    this.now += seconds;
    for (const call of this.calls) {
      if (call.state === 'pending' && call.time <= this.now) {
        call.state = 'called';
        call.fn();
      }
    }
  }
}

/** Records what the Deferred delivers, in order. */
function recorder(d: Deferred): unknown[] {
  const seen: unknown[] = [];
  d.addCallbacks(
    (r) => {
      seen.push(r);
      return r;
    },
    (f) => {
      seen.push(f);
      return null;
    },
  );
  return seen;
}

/** Captures 'Unhandled error in Deferred' events about `error` until `stop()`. */
function captureUnhandled(error: Error): { events: LogEvent[]; stop: () => void } {
  const events: LogEvent[] = [];
  const stop = addLogObserver((event) => {
    const failure = event.fields.failure;
    if (failure instanceof Failure && failure.value === error) events.push(event);
  });
  return { events, stop };
}

describe('Deferred', () => {
  let removeObserver: (() => void) | null = null;

  afterEach(() => {
    removeObserver?.();
    removeObserver = null;
  });

  describe('callback chain', () => {
    it('runs callbacks in order, each receiving the previous return value', () => {
      const d = new Deferred<number>();
      const order: string[] = [];
      d.addCallback((n) => {
        order.push(`a${n}`);
        return n + 1;
      })
        .addCallback((n) => {
          order.push(`b${n}`);
          return String(n * 10);
        })
        .addCallback((s) => {
          order.push(`c${s}`);
        });
      expect(order).to.deep.equal([]);
      d.callback(1);
      expect(order).to.deep.equal(['a1', 'b2', 'c20']);
    });

    it('fires synchronously, and a callback added after firing runs at once', () => {
      const d = new Deferred<string>();
      d.callback('x');
      let seen: string | null = null;
      d.addCallback((r) => {
        seen = r;
      });
      expect(seen).to.equal('x');
    });

    it('addCallback, addErrback, addBoth and addCallbacks return the same object', () => {
      const d = new Deferred<number>();
      expect(d.addCallback((n) => n)).to.equal(d);
      expect(d.addErrback(() => 0)).to.equal(d);
      expect(d.addBoth((r) => r)).to.equal(d);
      expect(d.addCallbacks((n) => n, null)).to.equal(d);
      d.callback(1);
    });

    it('passes extra arguments after the result', () => {
      const d = succeed(2);
      const got: unknown[] = [];
      d.addCallback((n, a: string, b: number) => got.push(n, a, b), 'x', 3);
      d.addCallback(() => {
        throw new Error('e');
      });
      d.addErrback((f, tag: string) => got.push(f.getErrorMessage(), tag), 'eb');
      expect(got).to.deep.equal([2, 'x', 3, 'e', 'eb']);
    });

    it('turns a thrown value into a Failure and skips to the next errback', () => {
      const d = new Deferred<number>();
      const boom = new RangeError('boom');
      const skipped: unknown[] = [];
      let received: Failure | null = null;
      d.addCallback(() => {
        throw boom;
      })
        .addCallback((r) => skipped.push(r))
        .addErrback((f) => {
          received = f;
        });
      d.callback(1);
      expect(skipped).to.deep.equal([]);
      expect(received).to.be.instanceOf(Failure);
      expect(received!.value).to.equal(boom);
    });

    it('wraps a thrown non-Error in a Failure whose Error keeps it as cause', () => {
      const d = succeed(1).addCallback(() => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- the rule under test
        throw 'plain string';
      });
      const seen = recorder(d);
      const failure = seen[0] as Failure;
      expect(failure.value.message).to.equal('plain string');
      expect(failure.value.cause).to.equal('plain string');
    });

    it('resumes the callback path when an errback returns a value', () => {
      const seen = recorder(fail<number>(new Error('x')).addErrback(() => 7));
      expect(seen).to.deep.equal([7]);
    });

    it('continues the errback path when an errback throws or returns a Failure', () => {
      const first = new Error('first');
      const second = new Error('second');
      const d = fail(first)
        .addErrback((f) => f)
        .addCallback(() => 'not reached')
        .addErrback(() => {
          throw second;
        });
      const seen = recorder(d);
      expect((seen[0] as Failure).value).to.equal(second);
    });

    it('lets trap() pass unmatched failures down the chain and stop matched ones', () => {
      const matched = recorder(
        fail(new CancelledError()).addErrback((f) => {
          f.trap(CancelledError);
          return 'trapped';
        }),
      );
      expect(matched).to.deep.equal(['trapped']);
      const other = new TypeError('other');
      const unmatched = recorder(
        fail(other).addErrback((f) => {
          f.trap(CancelledError);
          return 'trapped';
        }),
      );
      expect((unmatched[0] as Failure).value).to.equal(other);
    });

    it('addCallbacks: the errback does not see an error thrown by its paired callback', () => {
      const calls: string[] = [];
      const d = succeed(1).addCallbacks(
        () => {
          throw new Error('cb');
        },
        () => {
          calls.push('paired errback');
          return 0;
        },
        {},
      );
      const seen = recorder(d);
      expect(calls).to.deep.equal([]);
      expect((seen[0] as Failure).getErrorMessage()).to.equal('cb');
    });

    it('addCallbacks passes callbackArgs and errbackArgs', () => {
      const got: unknown[] = [];
      succeed('r').addCallbacks((r, a: number) => got.push(r, a), null, { callbackArgs: [1] });
      fail(new Error('f')).addCallbacks(
        (r) => r,
        (f, b: string) => got.push(f.getErrorMessage(), b),
        { errbackArgs: ['b'] },
      );
      expect(got).to.deep.equal(['r', 1, 'f', 'b']);
    });

    it('addBoth receives either the result or the Failure', () => {
      const got: unknown[] = [];
      succeed(5).addBoth((r) => got.push(r));
      const err = new Error('e');
      fail(err).addBoth((r) => {
        got.push(r instanceof Failure ? r.value : r);
      });
      expect(got).to.deep.equal([5, err]);
    });

    it('callback(aFailure) runs the errback path', () => {
      const d = new Deferred<unknown>();
      const failure = new Failure(new Error('as value'));
      const seen = recorder(d);
      d.callback(failure);
      expect(seen).to.deep.equal([failure]);
    });

    it('runs callbacks added from inside a callback after the current one, in the same run', () => {
      const d = new Deferred<number>();
      const order: string[] = [];
      d.addCallback((n) => {
        d.addCallback((m) => {
          order.push(`inner ${m}`);
          return m;
        });
        order.push('outer');
        return n + 1;
      });
      d.callback(1);
      expect(order).to.deep.equal(['outer', 'inner 2']);
    });
  });

  describe('firing', () => {
    const twice: [string, (d: Deferred<number>) => void, (d: Deferred<number>) => void][] = [
      ['callback then callback', (d) => d.callback(1), (d) => d.callback(2)],
      ['callback then errback', (d) => d.callback(1), (d) => d.errback(new Error('x'))],
      ['errback then callback', (d) => d.errback(new Error('x')), (d) => d.callback(2)],
      ['errback then errback', (d) => d.errback(new Error('x')), (d) => d.errback(new Error('y'))],
    ];
    for (const [name, first, second] of twice) {
      it(`throws AlreadyCalledError on ${name}`, () => {
        const d = new Deferred<number>();
        d.addErrback(() => 0);
        first(d);
        expect(() => second(d)).to.throw(AlreadyCalledError);
      });
    }

    it('refuses callback() with a Deferred, and stays unfired', () => {
      const d = new Deferred<unknown>();
      expect(() => d.callback(new Deferred())).to.throw(TypeError, /Deferred/);
      expect(d.called).to.equal(false);
    });

    it('reports called once fired, even while paused', () => {
      const d = new Deferred<number>();
      expect(d.called).to.equal(false);
      d.pause();
      d.callback(1);
      expect(d.called).to.equal(true);
      d.unpause();
    });

    const errbackInputs: [string, () => unknown[], (f: Failure) => void][] = [
      [
        'an Error is wrapped',
        () => [new RangeError('r')],
        (f) => expect(f.value).to.be.instanceOf(RangeError),
      ],
      [
        'a Failure is passed as it is',
        () => [new Failure(new Error('same'))],
        (f) => expect(f.getErrorMessage()).to.equal('same'),
      ],
      ['a string is wrapped', () => ['text'], (f) => expect(f.getErrorMessage()).to.equal('text')],
      [
        'no argument gives an Error saying so',
        () => [],
        (f) => expect(f.getErrorMessage()).to.equal('errback() called without a failure'),
      ],
    ];
    for (const [name, args, check] of errbackInputs) {
      it(`errback(): ${name}`, () => {
        const d = new Deferred<unknown>();
        const seen = recorder(d);
        d.errback(...(args() as [unknown?]));
        expect(seen[0]).to.be.instanceOf(Failure);
        check(seen[0] as Failure);
      });
    }

    it('errback(aFailure) delivers that very Failure object', () => {
      const failure = new Failure(new Error('same'));
      const seen = recorder(fail(failure));
      expect(seen[0]).to.equal(failure);
    });
  });

  describe('chaining on a returned Deferred', () => {
    it('pauses the outer chain until the inner Deferred fires, then continues with its result', () => {
      const outer = new Deferred<number>();
      const inner = new Deferred<string>();
      const seen = recorder(outer.addCallback(() => inner));
      outer.callback(1);
      expect(outer.paused).to.equal(true);
      expect(seen).to.deep.equal([]);
      inner.callback('inner result');
      expect(outer.paused).to.equal(false);
      expect(seen).to.deep.equal(['inner result']);
    });

    it("consumes the inner Deferred's result (its later callbacks see undefined)", () => {
      const inner = new Deferred<string>();
      const outer = succeed(1).addCallback(() => inner);
      inner.callback('x');
      const seen = recorder(outer);
      const innerSeen = recorder(inner);
      expect(seen).to.deep.equal(['x']);
      expect(innerSeen).to.deep.equal([undefined]);
    });

    it('continues at once with the result of an already-fired Deferred', () => {
      const seen = recorder(succeed(1).addCallback((n) => succeed(n + 1)));
      expect(seen).to.deep.equal([2]);
    });

    it('switches to the errback path when the inner Deferred fails, without reporting it twice', () => {
      const err = new Error('inner failed');
      const capture = captureUnhandled(err);
      removeObserver = capture.stop;
      const inner = new Deferred<number>();
      const seen = recorder(succeed(1).addCallback(() => inner));
      inner.errback(err);
      expect((seen[0] as Failure).value).to.equal(err);
      reportUnhandledFailures();
      expect(capture.events).to.have.length(0);
    });

    it('queues callbacks added to the outer Deferred while it waits', () => {
      const inner = new Deferred<number>();
      const outer = succeed(0).addCallback(() => inner);
      const order: number[] = [];
      outer.addCallback((n) => {
        order.push(n);
        return n + 1;
      });
      outer.addCallback((n) => order.push(n));
      expect(order).to.deep.equal([]);
      inner.callback(10);
      expect(order).to.deep.equal([10, 11]);
    });

    it('waits on a returned Promise and continues with its value', async () => {
      const outer = succeed(1).addCallback((n) => Promise.resolve(n + 41));
      expect(outer.paused).to.equal(true);
      expect(await outer).to.equal(42);
    });

    it('takes a rejected Promise to the errback path with the rejection reason', async () => {
      const err = new Error('rejected');
      const outer = succeed(1).addCallback(() => Promise.reject(err));
      let received: Error | null = null;
      await outer.addErrback((f) => {
        received = f.value;
      });
      expect(received).to.equal(err);
    });

    it('waits on any thenable, not only native promises', async () => {
      const thenable: PromiseLike<string> = {
        then(onFulfilled) {
          return Promise.resolve(onFulfilled?.('from thenable'));
        },
      } as PromiseLike<string>;
      expect(await succeed(1).addCallback(() => thenable)).to.equal('from thenable');
    });

    it('turns returning the Deferred itself into a Failure with a clear message', () => {
      const d = new Deferred<number>();
      d.addCallback(() => d as Deferred);
      const seen = recorder(d);
      d.callback(1);
      expect((seen[0] as Failure).value).to.be.instanceOf(TypeError);
      expect((seen[0] as Failure).getErrorMessage()).to.match(
        /returned the Deferred it was attached to/,
      );
    });

    it('handles 10,000 nested Deferreds fired from the innermost without overflowing the stack', () => {
      const depth = 10_000;
      const innermost = new Deferred<number>();
      let current: Deferred<number> = innermost;
      for (let i = 0; i < depth; i++) {
        const waitOn = current;
        current = succeed(0).addCallback(() => waitOn.addCallback((n) => n + 1));
      }
      const seen = recorder(current);
      expect(seen).to.deep.equal([]);
      innermost.callback(0);
      expect(seen).to.deep.equal([depth]);
    });

    it('handles a chain of 10,000 Deferreds, each waiting on the next, fired at the end', () => {
      const count = 10_000;
      const ds = Array.from({ length: count }, () => new Deferred<number>());
      const outermost = ds[0]!;
      ds.forEach((d, i) => {
        const next = ds[i + 1];
        if (next !== undefined) d.addCallback(() => next);
      });
      const seen = recorder(outermost);
      for (const d of ds.slice(0, -1)) d.callback(0);
      expect(seen).to.deep.equal([]);
      ds[count - 1]!.callback(99);
      expect(seen).to.deep.equal([99]);
    });

    it('handles 10,000 callbacks each returning an already-fired Deferred', () => {
      const d = succeed(0);
      for (let i = 0; i < 10_000; i++) d.addCallback((n) => succeed(n + 1));
      expect(recorder(d)).to.deep.equal([10_000]);
    });
  });

  describe('pause() and unpause()', () => {
    it('queues callbacks while paused and runs them on the matching unpause', () => {
      const d = succeed(1);
      d.pause();
      d.pause();
      const seen = recorder(d);
      expect(d.paused).to.equal(true);
      d.unpause();
      expect(seen).to.deep.equal([]);
      d.unpause();
      expect(d.paused).to.equal(false);
      expect(seen).to.deep.equal([1]);
    });

    it('unpause() on an unfired Deferred runs nothing', () => {
      const d = new Deferred<number>();
      const seen = recorder(d);
      d.pause();
      d.unpause();
      expect(seen).to.deep.equal([]);
      d.callback(3);
      expect(seen).to.deep.equal([3]);
    });

    it('throws when unpause() is called without a pause()', () => {
      expect(() => new Deferred().unpause()).to.throw(Error, /not paused/);
    });
  });

  describe('cancel()', () => {
    it('without a canceller: errbacks with CancelledError', () => {
      const d = new Deferred<number>();
      const seen = recorder(d);
      d.cancel();
      expect((seen[0] as Failure).check(CancelledError)).to.equal(CancelledError);
    });

    it('swallows exactly one late callback or errback; a second late fire throws', () => {
      for (const late of [
        (d: Deferred<number>) => d.callback(1),
        (d: Deferred<number>) => d.errback(new Error('late')),
      ]) {
        const d = new Deferred<number>();
        d.addErrback(() => 0);
        d.cancel();
        expect(() => late(d)).not.to.throw();
        expect(() => late(d)).to.throw(AlreadyCalledError);
      }
    });

    it('runs the canceller with the Deferred; if it does not fire, errbacks with CancelledError', () => {
      const calls: unknown[] = [];
      const d = new Deferred<number>((arg) => calls.push(arg));
      const seen = recorder(d);
      d.cancel();
      expect(calls).to.deep.equal([d]);
      expect((seen[0] as Failure).check(CancelledError)).to.equal(CancelledError);
    });

    it('keeps the result of a canceller that fires the Deferred, and swallows no late fire', () => {
      const own = new Error('canceller error');
      const d = new Deferred<number>((self) => self.errback(own));
      const seen = recorder(d);
      d.cancel();
      expect((seen[0] as Failure).value).to.equal(own);
      expect(() => d.callback(1)).to.throw(AlreadyCalledError);
    });

    it('logs a canceller that throws and still cancels', () => {
      const bug = new Error('canceller bug');
      const events: LogEvent[] = [];
      removeObserver = addLogObserver((e) => events.push(e));
      const d = new Deferred<number>(() => {
        throw bug;
      });
      const seen = recorder(d);
      d.cancel();
      expect((seen[0] as Failure).check(CancelledError)).to.equal(CancelledError);
      const logged = events.find((e) => (e.fields.failure as Failure | undefined)?.value === bug);
      expect(logged?.level).to.equal('error');
    });

    it('does nothing once the Deferred has a result', () => {
      let cancellerCalls = 0;
      const d = new Deferred<number>(() => (cancellerCalls += 1));
      d.callback(5);
      d.cancel();
      expect(cancellerCalls).to.equal(0);
      expect(recorder(d)).to.deep.equal([5]);
      expect(() => d.callback(6)).to.throw(AlreadyCalledError);
    });

    it('forwards to the inner Deferred the chain is waiting on', () => {
      let innerCancelled = 0;
      const inner = new Deferred<number>(() => (innerCancelled += 1));
      const outer = succeed(1).addCallback(() => inner);
      const seen = recorder(outer);
      outer.cancel();
      expect(innerCancelled).to.equal(1);
      expect((seen[0] as Failure).check(CancelledError)).to.equal(CancelledError);
    });

    it('a fromPromise Deferred cancels at once and ignores the later settlement', async () => {
      let resolve!: (v: number) => void;
      const p = new Promise<number>((r) => (resolve = r));
      const d = Deferred.fromPromise(p);
      const seen = recorder(d);
      d.cancel();
      resolve(1);
      await p;
      await new Promise((r) => setImmediate(r));
      expect(seen).to.have.length(1);
      expect((seen[0] as Failure).check(CancelledError)).to.equal(CancelledError);
    });
  });

  describe('addTimeout()', () => {
    it('fails with DeferredTimeoutError (not a connect TimeoutError) and cancels when no result arrives in time', () => {
      const clock = new FakeClock();
      let cancelled = 0;
      const d = new Deferred<number>(() => (cancelled += 1)).addTimeout(5, clock);
      const seen = recorder(d);
      clock.advance(4.9);
      expect(seen).to.deep.equal([]);
      clock.advance(0.1);
      expect(cancelled).to.equal(1);
      const failure = seen[0] as Failure;
      expect(failure.check(DeferredTimeoutError)).to.equal(DeferredTimeoutError);
      // A Deferred timing out says nothing about a connection attempt.
      expect(failure.check(TimeoutError, ConnectError)).to.equal(null);
      expect(failure.value.cause).to.be.instanceOf(CancelledError);
    });

    it('cancels the timer when the Deferred fires first, and keeps the result', () => {
      const clock = new FakeClock();
      const d = new Deferred<number>().addTimeout(5, clock);
      expect(clock.pendingCount()).to.equal(1);
      d.callback(3);
      expect(clock.pendingCount()).to.equal(0);
      expect(recorder(d)).to.deep.equal([3]);
    });

    it('keeps a failure that arrives before the timeout as it is', () => {
      const clock = new FakeClock();
      const err = new Error('early');
      const d = new Deferred<number>().addTimeout(5, clock);
      d.errback(err);
      expect((recorder(d)[0] as Failure).value).to.equal(err);
      expect(clock.pendingCount()).to.equal(0);
    });

    it('lets onTimeoutCancel decide the result of a timeout', () => {
      const clock = new FakeClock();
      const args: unknown[] = [];
      const d = new Deferred<string>().addTimeout(2, clock, (result, seconds) => {
        args.push(result instanceof Failure ? result.type : result, seconds);
        return 'fallback';
      });
      clock.advance(2);
      expect(args).to.deep.equal([CancelledError, 2]);
      expect(recorder(d)).to.deep.equal(['fallback']);
    });

    it('times out a chain waiting on an inner Deferred by cancelling the inner one', () => {
      const clock = new FakeClock();
      let innerCancelled = 0;
      const inner = new Deferred<number>(() => (innerCancelled += 1));
      const d = succeed(0)
        .addCallback(() => inner)
        .addTimeout(1, clock);
      const seen = recorder(d);
      clock.advance(1);
      expect(innerCancelled).to.equal(1);
      expect((seen[0] as Failure).value).to.be.instanceOf(DeferredTimeoutError);
    });
  });

  describe('then() and await', () => {
    it('await gives the result', async () => {
      expect(await succeed(5)).to.equal(5);
    });

    it('await waits for a Deferred fired later', async () => {
      const d = new Deferred<string>();
      setImmediate(() => d.callback('later'));
      expect(await d).to.equal('later');
    });

    it('await of a failed Deferred rejects with the underlying Error, not the Failure', async () => {
      const err = new RangeError('bad');
      let caught: unknown = null;
      try {
        await fail(err);
      } catch (e) {
        caught = e;
      }
      expect(caught).to.equal(err);
    });

    it("does not change the Deferred's own chain", async () => {
      const d = new Deferred<number>();
      const before = d.then((n) => n * 2);
      d.callback(21);
      expect(await before).to.equal(42);
      expect(recorder(d)).to.deep.equal([21]);

      const err = new Error('kept');
      const f = fail(err);
      await f.then(undefined, () => null);
      expect((recorder(f)[0] as Failure).value).to.equal(err);
    });

    it('passes onFulfilled and onRejected through like Promise.then', async () => {
      expect(await succeed(1).then((n) => n + 1)).to.equal(2);
      const err = new Error('x');
      expect(await fail(err).then(undefined, (e: unknown) => e)).to.equal(err);
    });

    it('marks a failure observed through then() as handled', async () => {
      const err = new Error('observed');
      const capture = captureUnhandled(err);
      removeObserver = capture.stop;
      await fail(err).then(undefined, () => null);
      reportUnhandledFailures();
      expect(capture.events).to.have.length(0);
    });
  });

  describe('fromPromise, succeed, fail, maybeDeferred', () => {
    it('fromPromise fires with the value of a fulfilled promise', async () => {
      const d = Deferred.fromPromise(Promise.resolve('v'));
      expect(d.called).to.equal(false);
      expect(await d).to.equal('v');
    });

    it('fromPromise fails with the reason of a rejected promise', async () => {
      const err = new Error('r');
      const d = Deferred.fromPromise(Promise.reject(err));
      let received: unknown = null;
      await d.addErrback((f) => {
        received = f.value;
      });
      expect(received).to.equal(err);
    });

    it('fromPromise returns a Deferred as it is', () => {
      const d = new Deferred<number>();
      expect(Deferred.fromPromise(d)).to.equal(d);
    });

    it('succeed and fail return fired Deferreds', () => {
      expect(recorder(succeed('s'))).to.deep.equal(['s']);
      const err = new Error('f');
      expect((recorder(fail(err))[0] as Failure).value).to.equal(err);
    });

    it('maybeDeferred wraps a plain return value', () => {
      expect(recorder(maybeDeferred((a: number, b: number) => a + b, 1, 2))).to.deep.equal([3]);
    });

    it('maybeDeferred turns a throw into a failed Deferred', () => {
      const err = new Error('thrown');
      const d = maybeDeferred(() => {
        throw err;
      });
      expect((recorder(d)[0] as Failure).value).to.equal(err);
    });

    it('maybeDeferred returns a returned Deferred as it is', () => {
      const d = new Deferred<number>();
      expect(maybeDeferred(() => d)).to.equal(d);
    });

    it('maybeDeferred converts a returned promise', async () => {
      const d = maybeDeferred(() => Promise.resolve(9));
      expect(d).to.be.instanceOf(Deferred);
      expect(await d).to.equal(9);
    });
  });

  describe('unhandled failures', () => {
    it('logs a failure left at the end of a chain once, at critical, with the failure', () => {
      const err = new Error('nobody handles me');
      const capture = captureUnhandled(err);
      removeObserver = capture.stop;
      const d = new Deferred<number>();
      d.addCallback((n) => n);
      d.errback(err);
      reportUnhandledFailures();
      reportUnhandledFailures();
      expect(capture.events).to.have.length(1);
      const event = capture.events[0]!;
      expect(event.level).to.equal('critical');
      expect(event.namespace).to.equal('torsion.defer');
      expect(event.message).to.equal('Unhandled error in Deferred');
    });

    it('does not log when an errback is added synchronously after the failure', () => {
      const err = new Error('handled right after');
      const capture = captureUnhandled(err);
      removeObserver = capture.stop;
      const d = fail(err);
      d.addErrback(() => null);
      reportUnhandledFailures();
      expect(capture.events).to.have.length(0);
    });

    it('does not log a failure handled by an errback added later, after a tick', async () => {
      const err = new Error('handled later');
      const capture = captureUnhandled(err);
      removeObserver = capture.stop;
      const d = fail(err);
      await new Promise((r) => setImmediate(r));
      d.addErrback(() => null);
      reportUnhandledFailures();
      expect(capture.events).to.have.length(0);
    });

    it('logs a failure that an errback passes on', () => {
      const err = new Error('passed on');
      const capture = captureUnhandled(err);
      removeObserver = capture.stop;
      fail(err).addErrback((f) => f);
      reportUnhandledFailures();
      expect(capture.events).to.have.length(1);
    });

    it('logs when an unhandled failing Deferred is garbage collected', async () => {
      setFlagsFromString('--expose_gc');
      const gc = runInNewContext('gc') as () => void;
      const err = new Error('collected unhandled');
      const capture = captureUnhandled(err);
      removeObserver = capture.stop;
      (() => {
        fail(err);
      })();
      // Finalizers run as tasks after a collection; a few rounds are plenty.
      for (let i = 0; i < 20 && capture.events.length === 0; i++) {
        gc();
        await new Promise((r) => setImmediate(r));
      }
      expect(capture.events).to.have.length(1);
      reportUnhandledFailures();
      expect(capture.events).to.have.length(1);
    });
  });
});
