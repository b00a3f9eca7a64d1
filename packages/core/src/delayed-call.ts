/**
 * `DelayedCall`: the handle `callLater` returns, as Twisted's
 * `twisted.internet.base.DelayedCall`. It lets the caller cancel the call or
 * move it in time until it has run.
 *
 * Tests: test/delayed-call.test.ts
 * @module
 */
import { describeType } from './describe-type.js';
import { AlreadyCalledError, AlreadyCancelledError } from './errors.js';
import type { IDelayedCall } from './interfaces.js';
import type { TimerList } from './internal/timer-queue.js';

// Life-cycle states, kept in one small integer so the hot path checks one field.
/** @internal Active, linked into one of its queue's lists. */
export const LINKED = 0;
/** @internal Active, parked because it was scheduled or moved while its queue was running calls. */
export const PARKED = 1;
/** @internal Ran (or is running). */
export const CALLED = 2;
/** @internal Cancelled. */
export const CANCELLED = 3;

/**
 * @internal An instant calls were scheduled at. One object serves every call
 * scheduled at the same time, so that no call needs a double of its own
 * (which V8 would box in a separate object per call).
 */
export interface TimeBase {
  readonly t: number;
}

/**
 * The function a {@link DelayedCall} runs. Declared with method syntax, which
 * TypeScript checks bivariantly, so that a `DelayedCall<[number]>` is also a
 * plain `DelayedCall` (a list of pending calls holds calls of every shape).
 */
export type DelayedFunction<A extends unknown[]> = {
  bivariant(...args: A): unknown;
}['bivariant'];

/**
 * A call scheduled by {@link IReactorTime.callLater}. Reactors and {@link Clock}
 * create them; user code never constructs one.
 *
 * @remarks
 * Once the call has run, `cancel`, `reset` and `delay` throw
 * {@link AlreadyCalledError}; once it was cancelled they throw
 * {@link AlreadyCancelledError}, as in Twisted. `reset` and `delay` place the
 * call after every other call due at the same instant, exactly as if it had
 * just been scheduled.
 */
export class DelayedCall<A extends unknown[] = unknown[]> implements IDelayedCall {
  /** The function that runs. */
  readonly func: DelayedFunction<A>;
  /** The arguments it receives, stored as given (not copied). */
  readonly args: A;

  // The fields below are shared with TimerQueue (same package, never
  // published): the heap reads them on every comparison, and a `#private`
  // field cannot be read from another class.

  /** @internal The list it is (or will be) linked into; the list's delay is part of its time. */
  _list: TimerList;
  /** @internal The instant it was scheduled at; shared by calls scheduled together. */
  _base: TimeBase;
  /** @internal Scheduling order; breaks ties between calls due at the same time. */
  _seq: number;
  /** @internal LINKED, PARKED, CALLED or CANCELLED. */
  _state: number = LINKED;
  /** @internal Neighbours in its list while linked. */
  _prev: DelayedCall | null = null;
  /** @internal */
  _next: DelayedCall | null = null;

  /**
   * Created by the timer queue of a reactor or {@link Clock}; not for user code.
   * @internal
   * @param list - The queue's list it joins.
   * @param base - The instant its delay counts from.
   * @param seq - The queue's scheduling sequence number.
   * @param func - The function to run.
   * @param args - Its arguments (kept as given).
   */
  constructor(
    list: TimerList,
    base: TimeBase,
    seq: number,
    func: (...args: A) => unknown,
    args: A,
  ) {
    this._list = list;
    this._base = base;
    this._seq = seq;
    this.func = func;
    this.args = args;
  }

  /** True once the call has run (it is marked before `func` is invoked). */
  get called(): boolean {
    return this._state === CALLED;
  }

  /** True once the call was cancelled. */
  get cancelled(): boolean {
    return this._state === CANCELLED;
  }

  /** When the call runs (or ran), in the owning reactor's `seconds()` time. */
  getTime(): number {
    return this._base.t + this._list.delay;
  }

  /** True until the call has run or was cancelled. */
  active(): boolean {
    return this._state < CALLED;
  }

  /**
   * Unschedules the call.
   * @throws AlreadyCalledError if it already ran.
   * @throws AlreadyCancelledError if it was already cancelled.
   */
  cancel(): void {
    checkPending(this, 'cancel');
    this._list.queue._cancel(this);
  }

  /**
   * Reschedules the call to run `secondsFromNow` seconds from now.
   * @param secondsFromNow - A finite number of seconds, zero or more.
   * @throws RangeError if `secondsFromNow` is negative or not a finite number.
   * @throws AlreadyCalledError / AlreadyCancelledError as {@link DelayedCall.cancel}.
   */
  reset(secondsFromNow: number): void {
    checkPending(this, 'reset');
    validateDelay(secondsFromNow, 'reset');
    this._list.queue._reset(this, secondsFromNow);
  }

  /**
   * Moves the call `secondsLater` seconds later than it is now scheduled
   * (a negative number moves it earlier).
   * @param secondsLater - A finite number of seconds.
   * @throws RangeError if `secondsLater` is not a finite number.
   * @throws AlreadyCalledError / AlreadyCancelledError as {@link DelayedCall.cancel}.
   */
  delay(secondsLater: number): void {
    checkPending(this, 'delay');
    if (typeof secondsLater !== 'number' || !Number.isFinite(secondsLater)) {
      throw new RangeError(
        `delay() needs a finite number of seconds, got ${typeof secondsLater === 'number' ? String(secondsLater) : describeType(secondsLater)}`,
      );
    }
    this._list.queue._delay(this, this.getTime() + secondsLater);
  }

  toString(): string {
    const name = this.func.name === '' ? 'anonymous' : this.func.name;
    const state = this.called ? ' called' : this.cancelled ? ' cancelled' : '';
    return `<DelayedCall ${name} at ${this.getTime()}s${state}>`;
  }
}

/**
 * Throws unless `call` is still active. A function rather than a `#private`
 * method: a class with private methods brands every instance as it is
 * constructed, which measurably slows `callLater`.
 */
function checkPending(call: DelayedCall, operation: string): void {
  if (call._state === CALLED) {
    throw new AlreadyCalledError(`Cannot ${operation} a delayed call that has already run`);
  }
  if (call._state === CANCELLED) {
    throw new AlreadyCancelledError(`Cannot ${operation} a delayed call that was cancelled`);
  }
}

/**
 * Checks a delay in seconds: a finite number, zero or more.
 * @internal
 * @throws RangeError naming the bad value.
 */
export function validateDelay(seconds: unknown, operation: string): asserts seconds is number {
  // `!(x >= 0)` also rejects NaN.
  if (typeof seconds !== 'number' || !(seconds >= 0) || seconds === Infinity) {
    throw new RangeError(
      `${operation}() needs a finite number of seconds >= 0, got ${typeof seconds === 'number' ? String(seconds) : describeType(seconds)}`,
    );
  }
}
