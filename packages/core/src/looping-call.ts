/**
 * `LoopingCall`: call a function every N seconds, as Twisted's
 * `twisted.internet.task.LoopingCall`. Runs stay on the grid of multiples of
 * the interval from the start time; missed intervals are skipped (and can be
 * counted), never replayed in a burst.
 *
 * Tests: test/looping-call.test.ts
 * @module
 */
import { getReactor } from './default-reactor.js';
import { Deferred, maybeDeferred } from './deferred.js';
import type { Failure } from './failure.js';
import type { IDelayedCall, IReactorTime } from './interfaces.js';

/**
 * A fraction of the interval below which a distance from a grid point is
 * floating-point noise: a run that happens that close before a grid point is
 * on it.
 */
const GRID_EPSILON = 1e-9;

/**
 * Calls `fn(...args)` repeatedly, every `interval` seconds, on a clock.
 *
 * @example
 * ```ts
 * const heartbeat = new LoopingCall(() => transport.write('ping\n'));
 * heartbeat.start(30).addErrback((failure) => log.failure('heartbeat failed', failure));
 * // later
 * heartbeat.stop();
 * ```
 *
 * @remarks
 * - If `fn` returns a Deferred or a promise, the next run waits until it
 *   settles, and is then scheduled at the next grid point.
 * - If a run ends after one or more grid points went by, those intervals are
 *   skipped; {@link LoopingCall.withCount} tells `fn` how many elapsed.
 * - If `fn` throws or its Deferred/promise fails, the loop stops and the
 *   Deferred returned by `start()` fails with that error.
 * - `stop()` while a run's Deferred is pending fires `start()`'s Deferred
 *   once that run finishes.
 */
export class LoopingCall<A extends unknown[] = unknown[]> {
  /** The function called on every run. */
  readonly f: (...args: A) => unknown;
  /** Its arguments. */
  readonly args: A;

  #clock: IReactorTime | null = null;
  #running = false;
  #interval: number | undefined = undefined;
  #startTime = 0;
  #runAtStart = false;
  /** The next scheduled run; null while a run is in progress or when stopped. */
  #call: IDelayedCall | null = null;
  #deferred: Deferred<this> | null = null;
  /** When `withCount`'s counter last reported elapsed intervals. */
  #realLastTime: number | undefined = undefined;

  /**
   * @param fn - Called on each run with `args`. May return a Deferred or a
   *   promise to make the next run wait for it.
   * @param args - Arguments for every call.
   */
  constructor(fn: (...args: A) => unknown, ...args: A) {
    this.f = fn;
    this.args = args;
  }

  /**
   * Builds a LoopingCall whose function receives how many intervals elapsed
   * since it last ran: normally 1, more when runs were missed because the
   * process was busy, a run was slow, or a test advanced a `Clock` by several
   * intervals at once. With an interval of 0 it always receives 1.
   * @param countCallable - Called with the number of elapsed intervals.
   */
  static withCount(countCallable: (count: number) => unknown): LoopingCall<[]> {
    const loop = new LoopingCall<[]>((): unknown => loop.#countElapsed(countCallable));
    return loop;
  }

  /**
   * What schedules the runs. Defaults to the process reactor (`getReactor()`),
   * looked up when first needed, so tests can set a `Clock` first.
   */
  get clock(): IReactorTime {
    this.#clock ??= getReactor();
    return this.#clock;
  }

  set clock(clock: IReactorTime) {
    this.#clock = clock;
  }

  /** True between `start()` and `stop()` (or a failure). */
  get running(): boolean {
    return this.#running;
  }

  /** The interval in seconds given to `start()`, or `undefined` before the first start. */
  get interval(): number | undefined {
    return this.#interval;
  }

  /**
   * Starts the loop.
   * @param intervalSeconds - Seconds between runs, zero or more; 0 runs once
   *   per reactor turn (`callLater(0)`).
   * @param now - Run at once (default) rather than after the first interval.
   * @returns A Deferred that fires with this LoopingCall when `stop()` is
   *   called, or fails with the error that stopped the loop.
   * @throws Error if the loop is already running.
   * @throws RangeError if `intervalSeconds` is negative or not a finite number.
   */
  start(intervalSeconds: number, now = true): Deferred<this> {
    if (this.#running) throw new Error('Tried to start a LoopingCall that was already running');
    if (
      typeof intervalSeconds !== 'number' ||
      !(intervalSeconds >= 0) ||
      intervalSeconds === Infinity
    ) {
      throw new RangeError(
        `LoopingCall interval must be a finite number of seconds >= 0, got ${String(intervalSeconds)}`,
      );
    }
    const clock = this.clock;
    this.#running = true;
    const deferred = new Deferred<this>();
    this.#deferred = deferred;
    this.#startTime = clock.seconds();
    this.#interval = intervalSeconds;
    this.#runAtStart = now;
    this.#realLastTime = undefined;
    if (now) this.#run();
    else this.#scheduleFrom(this.#startTime);
    return deferred;
  }

  /**
   * Stops the loop; the Deferred `start()` returned fires with this LoopingCall
   * (at once, or when a run in progress finishes).
   * @throws Error if the loop is not running.
   */
  stop(): void {
    if (!this.#running) throw new Error('Tried to stop a LoopingCall that was not running');
    this.#running = false;
    if (this.#call !== null) {
      this.#call.cancel();
      this.#call = null;
      this.#finish();
    }
  }

  /**
   * Restarts the interval grid from now: the next run is one interval away.
   * Does nothing while a run is in progress.
   * @throws Error if the loop is not running.
   */
  reset(): void {
    if (!this.#running) throw new Error('Tried to reset a LoopingCall that was not running');
    if (this.#call !== null) {
      this.#call.cancel();
      this.#call = null;
      this.#startTime = this.clock.seconds();
      this.#scheduleFrom(this.#startTime);
    }
  }

  readonly #run = (): void => {
    this.#call = null;
    maybeDeferred(this.f, ...this.args).addCallbacks(
      () => {
        if (this.#running) this.#scheduleFrom(this.clock.seconds());
        else this.#finish();
      },
      (failure: Failure) => {
        this.#running = false;
        const deferred = this.#deferred;
        this.#deferred = null;
        deferred?.errback(failure);
      },
    );
  };

  #finish(): void {
    const deferred = this.#deferred;
    this.#deferred = null;
    deferred?.callback(this);
  }

  /** Schedules the next run at the first grid point after `when`. */
  #scheduleFrom(when: number): void {
    const interval = this.#interval ?? 0;
    let delay = 0;
    if (interval > 0) {
      const start = this.#startTime;
      // Grid points are computed from the start, never accumulated, and the
      // call is placed a hair early: a clock advanced by repeated fractions
      // (0.1 + 0.1 + ...) drifts below the exact grid and would otherwise miss
      // a run by one rounding error.
      const next = start + (this.#intervalOf(when) + 1) * interval;
      delay = Math.max(0, next - when - interval * GRID_EPSILON);
    }
    this.#call = this.clock.callLater(delay, this.#run);
  }

  #intervalOf(time: number): number {
    return Math.floor((time - this.#startTime) / (this.#interval ?? 1) + GRID_EPSILON);
  }

  #countElapsed(countCallable: (count: number) => unknown): unknown {
    const now = this.clock.seconds();
    const interval = this.#interval ?? 0;
    if (interval === 0) {
      this.#realLastTime = now;
      return countCallable(1);
    }
    let lastTime = this.#realLastTime;
    if (lastTime === undefined) {
      lastTime = this.#startTime;
      // The run at start counts as the first interval.
      if (this.#runAtStart) lastTime -= interval;
    }
    const count = this.#intervalOf(now) - this.#intervalOf(lastTime);
    if (count <= 0) return undefined;
    this.#realLastTime = now;
    return countCallable(count);
  }
}
