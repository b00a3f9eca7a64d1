/**
 * `Clock`: a deterministic {@link IReactorTime} for tests, as Twisted's
 * `twisted.internet.task.Clock`. Time stands still until the test moves it
 * with {@link Clock.advance}; nothing ever runs on its own.
 *
 * Tests: test/clock.test.ts
 * @module
 */
import type { DelayedCall } from './delayed-call.js';
import type { IDelayedCall, IReactorTime } from './interfaces.js';
import { TimerQueue } from './internal/timer-queue.js';

/**
 * How many rounds of due calls one `advance` may run before it decides that a
 * call keeps rescheduling itself with delay 0 and would never finish.
 */
const MAX_ROUNDS_PER_ADVANCE = 100_000;

const rethrow = (error: unknown): never => {
  throw error;
};

/**
 * A fake clock: pass it wherever an {@link IReactorTime} is accepted, then
 * drive time by hand. Time is in seconds and starts at 0.
 *
 * @example
 * ```ts
 * const clock = new Clock();
 * const fired: number[] = [];
 * clock.callLater(5, () => fired.push(clock.seconds()));
 * clock.advance(4.9); // fired: []
 * clock.advance(0.1); // fired: [5]
 * ```
 *
 * @remarks
 * Unlike a reactor, an exception thrown by a delayed call propagates out of
 * {@link Clock.advance} (after the call was marked called), so a test sees it;
 * the calls not yet run stay scheduled. And unlike a reactor, `advance` also
 * runs calls that become due because earlier calls scheduled them (a
 * `callLater(0)` made by a call runs in the same `advance`), as Twisted's
 * `Clock` does.
 */
export class Clock implements IReactorTime {
  #now = 0;
  readonly #queue = new TimerQueue(() => this.#now);

  /** The current fake time in seconds (0 at construction). */
  seconds(): number {
    return this.#now;
  }

  /**
   * Schedules `fn(...args)` `delaySeconds` from the current fake time.
   * @returns The call's handle (cancel, reset, delay).
   * @throws RangeError if `delaySeconds` is negative or not a finite number.
   * @throws TypeError if `fn` is not a function.
   */
  callLater<A extends unknown[]>(
    delaySeconds: number,
    fn: (...args: A) => unknown,
    ...args: A
  ): DelayedCall<A> {
    return this.#queue.schedule(delaySeconds, fn, args);
  }

  /** Every call that is scheduled and has neither run nor been cancelled, in no particular order. */
  getDelayedCalls(): IDelayedCall[] {
    return this.#queue.pending();
  }

  /**
   * Moves time forward by `seconds`, then runs every call now due, earliest
   * first (same-time calls in scheduling order), including calls those calls
   * schedule for no later than the new time.
   * @param seconds - A finite number of seconds, zero or more; `advance(0)`
   *   runs what is due now.
   * @throws RangeError if `seconds` is negative or not a finite number.
   * @throws whatever a delayed call throws; that call counts as called and
   *   the remaining due calls run on the next `advance`.
   * @throws Error if calls keep scheduling new due calls for more than
   *   100,000 rounds (a `callLater(0)` loop would otherwise never return).
   */
  advance(seconds: number): void {
    if (typeof seconds !== 'number' || !(seconds >= 0) || seconds === Infinity) {
      throw new RangeError(
        `advance() needs a finite number of seconds >= 0, got ${String(seconds)}`,
      );
    }
    this.#now += seconds;
    const queue = this.#queue;
    for (let round = 0; ; round++) {
      const next = queue.nextTime();
      if (next === undefined || next > this.#now) return;
      if (round === MAX_ROUNDS_PER_ADVANCE) {
        throw new Error(
          `Clock.advance() ran ${MAX_ROUNDS_PER_ADVANCE} rounds of due calls and more keep ` +
            'arriving: a call probably reschedules itself with delay 0',
        );
      }
      queue.runDue(rethrow);
    }
  }

  /**
   * Advances by each amount in turn, running due calls after each step:
   * `pump([1, 1, 1])` is three `advance(1)` calls.
   * @throws as {@link Clock.advance}.
   */
  pump(timings: Iterable<number>): void {
    for (const seconds of timings) this.advance(seconds);
  }
}
