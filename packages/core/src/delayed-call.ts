/**
 * `DelayedCall`: the handle `callLater` returns, as Twisted's
 * `twisted.internet.base.DelayedCall`. It lets the caller cancel the call or
 * move it in time until it has run.
 *
 * Tests: test/delayed-call.test.ts
 * @module
 */
import { AlreadyCalledError, AlreadyCancelledError } from './errors.js';
import type { IDelayedCall } from './interfaces.js';
import type { TimerQueue } from './internal/timer-queue.js';

// Life-cycle states, kept in one small integer so the hot path checks one field.
/** @internal Active, with a live entry in its queue's heap. */
export const IN_HEAP = 0;
/** @internal Active, parked because it was scheduled or moved while its queue was running calls. */
export const PARKED = 1;
/** @internal Ran (or is running). */
export const CALLED = 2;
/** @internal Cancelled. */
export const CANCELLED = 3;

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

  /** @internal Scheduled time in the queue's seconds. */
  _time: number;
  /** @internal Scheduling order; breaks ties between calls due at the same time. */
  _seq: number;
  /** @internal IN_HEAP, PARKED, CALLED or CANCELLED. */
  _state: number = IN_HEAP;
  /** @internal */
  readonly _queue: TimerQueue;

  /**
   * Created by the timer queue of a reactor or {@link Clock}; not for user code.
   * @internal
   * @param queue - The owning queue.
   * @param time - When the call is due, in the queue's seconds.
   * @param seq - The queue's scheduling sequence number.
   * @param func - The function to run.
   * @param args - Its arguments (kept as given).
   */
  constructor(
    queue: TimerQueue,
    time: number,
    seq: number,
    func: (...args: A) => unknown,
    args: A,
  ) {
    this._queue = queue;
    this._time = time;
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
    return this._time;
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
    this.#checkPending('cancel');
    this._queue._cancel(this);
  }

  /**
   * Reschedules the call to run `secondsFromNow` seconds from now.
   * @param secondsFromNow - A finite number of seconds, zero or more.
   * @throws RangeError if `secondsFromNow` is negative or not a finite number.
   * @throws AlreadyCalledError / AlreadyCancelledError as {@link DelayedCall.cancel}.
   */
  reset(secondsFromNow: number): void {
    this.#checkPending('reset');
    validateDelay(secondsFromNow, 'reset');
    this._queue._move(this, this._queue._now() + secondsFromNow);
  }

  /**
   * Moves the call `secondsLater` seconds later than it is now scheduled
   * (a negative number moves it earlier).
   * @param secondsLater - A finite number of seconds.
   * @throws RangeError if `secondsLater` is not a finite number.
   * @throws AlreadyCalledError / AlreadyCancelledError as {@link DelayedCall.cancel}.
   */
  delay(secondsLater: number): void {
    this.#checkPending('delay');
    if (typeof secondsLater !== 'number' || !Number.isFinite(secondsLater)) {
      throw new RangeError(
        `delay() needs a finite number of seconds, got ${describe(secondsLater)}`,
      );
    }
    this._queue._move(this, this._time + secondsLater);
  }

  #checkPending(operation: string): void {
    if (this._state === CALLED) {
      throw new AlreadyCalledError(`Cannot ${operation} a delayed call that has already run`);
    }
    if (this._state === CANCELLED) {
      throw new AlreadyCancelledError(`Cannot ${operation} a delayed call that was cancelled`);
    }
  }

  toString(): string {
    const name = this.func.name === '' ? 'anonymous' : this.func.name;
    const state = this.called ? ' called' : this.cancelled ? ' cancelled' : '';
    return `<DelayedCall ${name} at ${this._time}s${state}>`;
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
      `${operation}() needs a finite number of seconds >= 0, got ${describe(seconds)}`,
    );
  }
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
