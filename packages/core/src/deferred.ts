/**
 * `Deferred`: a result that is not there yet, with a mutable chain of
 * callbacks and errbacks, as Twisted's `twisted.internet.defer.Deferred`.
 * Unlike a Promise it fires synchronously, can be cancelled, and its chain
 * belongs to the one object that `addCallback` returns. It is also
 * `PromiseLike`, so `await d` works.
 *
 * Tests: test/deferred.test.ts, test/types/deferred.test-d.ts
 * @module
 */
import { AlreadyCalledError, CancelledError, DeferredTimeoutError } from './errors.js';
import { Failure } from './failure.js';
import { isThenable } from './is-thenable.js';
import type { IReactorTime } from './interfaces.js';
import { Logger } from './log.js';

const log = new Logger('torsion.defer');

/** A chain entry: a callback/errback pair, or the hand-over of our result to a waiting Deferred. */
type Link =
  | {
      readonly callback: ChainFn;
      readonly callbackArgs: readonly unknown[];
      readonly errback: ChainFn;
      readonly errbackArgs: readonly unknown[];
    }
  | { readonly continueTo: Deferred };

type ChainFn = (result: unknown, ...args: readonly unknown[]) => unknown;

/** The extra arguments of {@link Deferred.addCallbacks}. */
export interface CallbackArgs<CA extends readonly unknown[], EA extends readonly unknown[]> {
  /** Passed to the callback after the result. */
  readonly callbackArgs?: CA;
  /** Passed to the errback after the failure. */
  readonly errbackArgs?: EA;
}

// ------------------------------------------------------------ unhandled errors

/**
 * What is kept about a Deferred that ended its chain on a failure: the failure
 * only, never the Deferred, so the Deferred can still be garbage collected.
 */
class DebugInfo {
  failResult: Failure | null = null;
}

/** Failures not handled yet, in the order they became unhandled. */
const pendingFailures = new Set<DebugInfo>();
/** Failures a `then()` observer received: the promise side is responsible for them now. */
const observedFailures = new WeakSet<Failure>();
let registry: FinalizationRegistry<DebugInfo> | null = null;
let exitHookInstalled = false;

function reportUnhandled(info: DebugInfo): void {
  const failure = info.failResult;
  pendingFailures.delete(info);
  if (failure === null) return;
  // Cleared before logging so that an observer that throws cannot cause a second report.
  info.failResult = null;
  log.failure('Unhandled error in Deferred', failure, {}, 'critical');
}

function trackFailure(info: DebugInfo, failure: Failure): void {
  info.failResult = failure;
  pendingFailures.add(info);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // Garbage collection may never come before the process ends: the exit hook
    // is the last chance to say that an error was lost.
    process.once('exit', reportUnhandledFailures);
  }
}

function untrackFailure(info: DebugInfo | null): void {
  if (info === null) return;
  info.failResult = null;
  pendingFailures.delete(info);
}

/**
 * Logs, now, every failure that a live Deferred holds at the end of its chain
 * with no errback left to handle it, exactly as garbage collection would later.
 * Each failure is reported at most once, whichever of this function, the
 * garbage collector or process exit gets to it first.
 *
 * @returns how many failures were reported.
 * @remarks For tests (to assert that nothing, or something, went unhandled)
 * and for an orderly shutdown. A failure reported here and handled later by a
 * late `addErrback` has still been logged once.
 */
export function reportUnhandledFailures(): number {
  const infos = [...pendingFailures];
  for (const info of infos) reportUnhandled(info);
  return infos.length;
}

function passthrough(result: unknown): unknown {
  return result;
}

// -------------------------------------------------------------------- Deferred

/**
 * A promise of a result that fires synchronously: `callback(result)` runs the
 * callbacks added so far, in order, before it returns, and a callback added
 * after that runs at once.
 *
 * Each callback receives the previous one's return value. A callback that
 * throws (or returns a {@link Failure}) switches the chain to the errback
 * path; an errback that returns a value switches it back. A callback that
 * returns a Deferred or any other thenable pauses the chain until that fires.
 *
 * @remarks `addCallback` and friends return the same object, re-typed: the
 * chain is mutated, not copied. Errors thrown by callbacks are never thrown
 * out of `callback()`/`errback()`; they travel down the chain. A failure that
 * reaches the end of the chain unhandled is logged (see
 * {@link reportUnhandledFailures} and docs/deferred.md for the exact rule).
 */
export class Deferred<T = unknown> implements PromiseLike<T> {
  // Typed without T so that T stays covariant for assignability (a
  // `Deferred<undefined>` is a `Deferred<void>`), as for Promise.
  readonly #canceller: ((d: Deferred) => void) | null;
  #chain: Link[] = [];
  /** Index of the next link to run: shifting a long array for every link would be quadratic. */
  #next = 0;
  #called = false;
  #result: unknown = undefined;
  #pauseCount = 0;
  /** The Deferred a callback returned and this one is waiting on. */
  #chainedTo: Deferred | null = null;
  #runningCallbacks = false;
  #suppressAlreadyCalled = false;
  #debugInfo: DebugInfo | null = null;

  /**
   * @param canceller called by {@link Deferred.cancel} while no result has
   * arrived: it should stop the work and may fire the Deferred itself (with an
   * error of its choice); if it does not, `cancel()` errbacks with `CancelledError`.
   */
  constructor(canceller?: (d: Deferred<T>) => void) {
    this.#canceller = (canceller as ((d: Deferred) => void) | undefined) ?? null;
  }

  /** True once `callback()` or `errback()` has been called (even if the chain is still paused). */
  get called(): boolean {
    return this.#called;
  }

  /** True while the chain is paused, by {@link Deferred.pause} or waiting on a Deferred a callback returned. */
  get paused(): boolean {
    return this.#pauseCount > 0 || this.#chainedTo !== null;
  }

  /**
   * Adds a callback; it receives the result and its return value becomes the next result.
   * @param fn called with the result and `args`. May return a Deferred or a thenable to pause the chain.
   * @returns this same Deferred, typed by `fn`'s result.
   */
  addCallback<R, A extends readonly unknown[] = []>(
    fn: (result: T, ...args: A) => R | PromiseLike<R>,
    ...args: A
  ): Deferred<R> {
    this.#addLink(fn as ChainFn, args, null, []);
    // The same object: only the type of its result changes.
    return this as unknown as Deferred<R>;
  }

  /**
   * Adds an errback; it receives a {@link Failure}. Returning a value resumes
   * the callback path; throwing, or returning a Failure, continues the errback path.
   * @returns this same Deferred.
   */
  addErrback<R = never, A extends readonly unknown[] = []>(
    fn: (failure: Failure, ...args: A) => R | PromiseLike<R>,
    ...args: A
  ): Deferred<T | Exclude<R, Failure>> {
    this.#addLink(null, [], fn as ChainFn, args);
    // The same object, typed with what the errback may resume with; `this`
    // as the return type would hide that widening.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- see above
    return this as Deferred<T | Exclude<R, Failure>>;
  }

  /**
   * Adds a callback and an errback at the same level of the chain: exactly one
   * of them runs, and the errback does not see errors thrown by the callback.
   * @param errback `null` passes failures through.
   * @returns this same Deferred.
   */
  addCallbacks<
    R,
    E = never,
    CA extends readonly unknown[] = [],
    EA extends readonly unknown[] = [],
  >(
    callback: (result: T, ...args: CA) => R | PromiseLike<R>,
    errback: ((failure: Failure, ...args: EA) => E | PromiseLike<E>) | null,
    options: CallbackArgs<CA, EA> = {},
  ): Deferred<R | Exclude<E, Failure>> {
    this.#addLink(
      callback as ChainFn,
      options.callbackArgs ?? [],
      errback as ChainFn | null,
      options.errbackArgs ?? [],
    );
    // The same object: only the type of its result changes.
    return this as unknown as Deferred<R | Exclude<E, Failure>>;
  }

  /**
   * Adds one function as both callback and errback (like `finally` that can change the result).
   * @returns this same Deferred.
   */
  addBoth<R, A extends readonly unknown[] = []>(
    fn: (result: T | Failure, ...args: A) => R | PromiseLike<R>,
    ...args: A
  ): Deferred<Exclude<R, Failure>> {
    this.#addLink(fn as ChainFn, args, fn as ChainFn, args);
    // The same object: only the type of its result changes.
    return this as unknown as Deferred<Exclude<R, Failure>>;
  }

  /**
   * Fires the callback chain with `result`. A {@link Failure} as `result` fires the errback path.
   * @throws AlreadyCalledError if the Deferred was already fired (except the one
   *   late call that {@link Deferred.cancel} swallows).
   * @throws TypeError if `result` is a Deferred: chain it with `addCallback` instead.
   */
  callback(result: T): void {
    if (result instanceof Deferred) {
      throw new TypeError('callback() was given a Deferred; return it from a callback to chain it');
    }
    this.#start(result);
  }

  /**
   * Fires the errback chain. `failure` may be a {@link Failure}, an Error, or any
   * thrown value (wrapped in a Failure); with no argument, an Error says so.
   * @throws AlreadyCalledError as {@link Deferred.callback}.
   */
  errback(...failure: [failure?: unknown]): void {
    const value =
      failure.length === 0 ? new Error('errback() called without a failure') : failure[0];
    this.#start(value instanceof Failure ? value : new Failure(value));
  }

  /**
   * Stops pending work. If there is no result yet, runs the canceller; if that
   * did not fire the Deferred (or there is none), errbacks with `CancelledError`
   * and then silently ignores exactly one later `callback()`/`errback()` (the
   * work it could not stop finishing). If the chain is waiting on a Deferred a
   * callback returned, cancels that one instead. Otherwise does nothing.
   * @remarks A canceller that throws is logged; the Deferred is still cancelled.
   */
  cancel(): void {
    if (!this.#called) {
      if (this.#canceller !== null) {
        try {
          this.#canceller(this);
        } catch (err) {
          log.failure('Canceller of a Deferred threw', err);
        }
      }
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the canceller may have fired it
      if (!this.#called) {
        // Armed first, so a late fire from inside the errback chain is swallowed too.
        this.#suppressAlreadyCalled = true;
        this.errback(new Failure(new CancelledError()));
      }
    } else if (this.#chainedTo !== null) {
      this.#chainedTo.cancel();
    }
  }

  /** Stops running callbacks (they queue up) until a matching {@link Deferred.unpause}. Nests. */
  pause(): void {
    this.#pauseCount += 1;
  }

  /**
   * Undoes one {@link Deferred.pause}; when none are left, runs the queued callbacks.
   * @throws Error if the Deferred is not paused by `pause()`.
   */
  unpause(): void {
    if (this.#pauseCount === 0)
      throw new Error('unpause() called on a Deferred that was not paused');
    this.#pauseCount -= 1;
    if (this.#pauseCount === 0 && this.#called) this.#runCallbacks();
  }

  /**
   * Fails with `DeferredTimeoutError` unless a result arrives within
   * `seconds`: on timeout, the Deferred is cancelled and the resulting
   * `CancelledError` becomes a `DeferredTimeoutError` (not `TimeoutError`,
   * which is a ConnectError: a failed connect). When the chain gets past this
   * point first, the timer is cancelled.
   * @param clock the reactor (or a test clock) whose `callLater` times it.
   * @param onTimeoutCancel replaces the conversion: called with the result of
   *   the cancellation and `seconds`; its return value (or throw) continues the chain.
   * @returns this same Deferred.
   */
  addTimeout(
    seconds: number,
    clock: IReactorTime,
    onTimeoutCancel?: (result: T | Failure, seconds: number) => unknown,
  ): this {
    let timedOut = false;
    const delayedCall = clock.callLater(seconds, () => {
      timedOut = true;
      this.cancel();
    });
    this.addBoth((result: T | Failure): unknown => {
      if (!timedOut) return result;
      if (onTimeoutCancel !== undefined) return onTimeoutCancel(result, seconds);
      if (result instanceof Failure && result.check(CancelledError) !== null) {
        throw new DeferredTimeoutError(`Deferred timed out after ${seconds} seconds`, {
          cause: result.value,
        });
      }
      return result;
    });
    this.addBoth((result: unknown): unknown => {
      if (delayedCall.active()) delayedCall.cancel();
      return result;
    });
    return this;
  }

  /**
   * Observes the result as a native Promise, so `await d` works: fulfils with
   * the result, or rejects with the failure's underlying Error (`failure.value`).
   * The Deferred's own chain continues with the same result, unchanged; a
   * failure observed this way counts as handled (the Promise now carries it).
   */
  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    const observed = new Promise<T>((resolve, reject) => {
      this.#addLink(
        (result) => {
          resolve(result as T);
          return result;
        },
        [],
        (failure) => {
          observedFailures.add(failure as Failure);
          reject((failure as Failure).value);
          return failure;
        },
        [],
      );
    });
    return observed.then(onFulfilled, onRejected);
  }

  #addLink(
    callback: ChainFn | null,
    callbackArgs: readonly unknown[],
    errback: ChainFn | null,
    errbackArgs: readonly unknown[],
  ): void {
    this.#chain.push({
      callback: callback ?? passthrough,
      callbackArgs,
      errback: errback ?? passthrough,
      errbackArgs,
    });
    if (this.#called) this.#runCallbacks();
  }

  #start(result: unknown): void {
    if (this.#called) {
      if (this.#suppressAlreadyCalled) {
        this.#suppressAlreadyCalled = false;
        return;
      }
      throw new AlreadyCalledError('The Deferred has already been fired');
    }
    this.#called = true;
    this.#result = result;
    this.#runCallbacks();
  }

  /**
   * Runs chains without recursion: when a callback returns an unfired Deferred,
   * that Deferred gets a link back to this one, and whoever later fires it walks
   * back up the stack of waiting Deferreds in this same loop.
   */
  #runCallbacks(): void {
    // A callback that adds callbacks (or unpauses) must not run the chain
    // underneath the loop that is already running it: that loop picks them up.
    if (this.#runningCallbacks) return;
    const stack: Deferred[] = [this];
    for (let current = stack.at(-1); current !== undefined; current = stack.at(-1)) {
      // Paused, waiting on an inner Deferred, or already inside its own loop:
      // whoever ends that state resumes the chain.
      if (current.#pauseCount > 0 || current.#chainedTo !== null || current.#runningCallbacks) {
        return;
      }
      let finished = true;
      for (let link = current.#takeLink(); link !== undefined; link = current.#takeLink()) {
        if ('continueTo' in link) {
          const chainee = link.continueTo;
          chainee.#result = current.#result;
          current.#result = undefined;
          untrackFailure(current.#debugInfo);
          chainee.#chainedTo = null;
          stack.push(chainee);
          finished = false;
          break;
        }
        const isFailure = current.#result instanceof Failure;
        const fn = isFailure ? link.errback : link.callback;
        const args = isFailure ? link.errbackArgs : link.callbackArgs;
        let value: unknown;
        current.#runningCallbacks = true;
        try {
          value = fn(current.#result, ...args);
        } catch (err) {
          value = err instanceof Failure ? err : new Failure(err);
        } finally {
          current.#runningCallbacks = false;
        }
        if (value === current) {
          value = new Failure(
            new TypeError(
              'A callback returned the Deferred it was attached to; that would wait forever',
            ),
          );
        } else if (!(value instanceof Deferred) && isThenable(value)) {
          value = Deferred.fromPromise(value);
        }
        if (value instanceof Deferred) {
          const inner = value as Deferred;
          if (
            inner.#called &&
            inner.#pauseCount === 0 &&
            inner.#chainedTo === null &&
            !inner.#runningCallbacks &&
            inner.#next === inner.#chain.length
          ) {
            // The inner Deferred already has its final result: take it over.
            current.#result = inner.#result;
            inner.#result = undefined;
            untrackFailure(inner.#debugInfo);
            continue;
          }
          current.#result = undefined;
          current.#chainedTo = inner;
          inner.#chain.push({ continueTo: current });
          // If inner is running its own loop right now (it fired us), that loop
          // will reach the link; otherwise it runs when inner is fired.
          break;
        }
        current.#result = value;
      }
      if (finished) {
        const result = current.#result;
        if (
          result instanceof Failure &&
          current.#chainedTo === null &&
          !observedFailures.has(result)
        ) {
          current.#debugInfo ??= current.#newDebugInfo();
          trackFailure(current.#debugInfo, result);
        } else {
          untrackFailure(current.#debugInfo);
        }
        stack.pop();
      }
    }
  }

  #takeLink(): Link | undefined {
    const link = this.#chain[this.#next];
    if (link === undefined) {
      this.#chain = [];
      this.#next = 0;
    } else {
      this.#next += 1;
    }
    return link;
  }

  #newDebugInfo(): DebugInfo {
    const info = new DebugInfo();
    registry ??= new FinalizationRegistry(reportUnhandled);
    registry.register(this, info);
    return info;
  }

  /**
   * A Deferred that fires when `promise` settles: with its value, or with a
   * Failure of its rejection reason. A Deferred is returned as it is.
   * @remarks The Deferred fires asynchronously (promises always do).
   * Cancelling it errbacks at once with `CancelledError`; the promise's
   * eventual settlement is then ignored.
   */
  static fromPromise<T>(promise: PromiseLike<T>): Deferred<T> {
    if (promise instanceof Deferred) return promise as Deferred<T>;
    const d = new Deferred<T>();
    void promise.then(
      (value) => {
        if (value instanceof Deferred) {
          // A custom thenable can resolve to a Deferred; chain it instead of refusing it.
          (value as Deferred<T>).addBoth((r) => {
            d.#start(r);
          });
        } else {
          d.#start(value);
        }
      },
      (reason: unknown) => {
        d.#start(new Failure(reason));
      },
    );
    return d;
  }
}

/**
 * A Deferred that has already fired with `result`.
 * @example `succeed(42).addCallback((n) => n + 1)`
 */
export function succeed<T>(result: T): Deferred<T> {
  const d = new Deferred<T>();
  d.callback(result);
  return d;
}

/**
 * A Deferred that has already failed with `error` (an Error, a Failure, or any value).
 * @remarks Add an errback before the Deferred is dropped, or the failure is logged as unhandled.
 */
export function fail<T = never>(...error: [error?: unknown]): Deferred<T> {
  const d = new Deferred<T>();
  d.errback(...error);
  return d;
}

/**
 * Calls `fn(...args)` and always gives back a Deferred: a returned Deferred as
 * it is, a thenable converted with {@link Deferred.fromPromise}, a plain value
 * as {@link succeed}, and a thrown error as {@link fail}.
 */
export function maybeDeferred<R, A extends readonly unknown[]>(
  fn: (...args: A) => R | PromiseLike<R>,
  ...args: A
): Deferred<R> {
  let value: R | PromiseLike<R>;
  try {
    value = fn(...args);
  } catch (err) {
    return fail<R>(err);
  }
  if (value instanceof Deferred) return value as Deferred<R>;
  if (isThenable(value)) return Deferred.fromPromise(value);
  return succeed(value);
}
