/**
 * `deferLater`: a Deferred that fires after a delay, as Twisted's
 * `twisted.internet.task.deferLater`.
 *
 * Tests: test/defer-later.test.ts
 * @module
 */
import { Deferred } from './deferred.js';
import type { IReactorTime } from './interfaces.js';

/**
 * Returns a Deferred that fires `delaySeconds` from now on `clock`: with
 * `undefined` when no function is given, else with the result of
 * `fn(...args)` (waiting for it if it is a Deferred or a promise, failing if
 * it throws or fails).
 *
 * Cancelling the Deferred before the delay is over cancels the delayed call:
 * `fn` never runs and the Deferred fails with `CancelledError`.
 *
 * @example
 * ```ts
 * const greeting = await deferLater(reactor, 0.5, (name: string) => `hello ${name}`, 'bob');
 * ```
 * @param clock - What schedules the call: a reactor, or a `Clock` in tests.
 * @param delaySeconds - A finite number of seconds, zero or more.
 * @throws RangeError if `delaySeconds` is negative or not a finite number
 *   (thrown by `clock.callLater`, synchronously).
 */
export function deferLater(clock: IReactorTime, delaySeconds: number): Deferred<undefined>;
export function deferLater<R, A extends unknown[]>(
  clock: IReactorTime,
  delaySeconds: number,
  fn: (...args: A) => R | PromiseLike<R>,
  ...args: A
): Deferred<R>;
export function deferLater<R, A extends unknown[]>(
  clock: IReactorTime,
  delaySeconds: number,
  fn?: (...args: A) => R | PromiseLike<R>,
  ...args: A
): Deferred<R | undefined> {
  const deferred = new Deferred<undefined>(() => {
    call.cancel();
  });
  const call = clock.callLater(delaySeconds, () => {
    deferred.callback(undefined);
  });
  if (fn === undefined) return deferred;
  return deferred.addCallback(() => fn(...args));
}
