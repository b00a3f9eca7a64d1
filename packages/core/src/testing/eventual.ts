/**
 * `Eventual`: a value a test waits for, settled once, that never rejects.
 *
 * Tests: test/testing/eventual.test.ts
 * @module
 */

/**
 * A value that arrives later: `await eventual` waits for it.
 *
 * @remarks
 * A `Deferred` does not fit here: a `Failure` passed to its `callback` turns
 * into an errback, and a Failure nobody handles is logged as "Unhandled
 * error in Deferred". Tests often wait for a Failure as a plain value (the
 * reason `connectionLost` was given), and many of those values are never
 * awaited at all. An `Eventual` only ever fulfils, so it never logs and never
 * causes an unhandled rejection, whatever it holds and whether or not anyone
 * waits for it. The first {@link Eventual.callback} wins; later calls are
 * ignored, so a recorder can report every event without checking first.
 *
 * @example
 * ```ts
 * const reason = new Eventual<Failure>();
 * protocol.connectionLost = (r) => reason.callback(r);
 * expect((await reason).check(ConnectionDone)).to.equal(ConnectionDone);
 * ```
 */
export class Eventual<T> implements PromiseLike<T> {
  /** The underlying promise, for `Promise.all` and friends. It never rejects. */
  readonly promise: Promise<T>;
  #resolve!: (value: T) => void;
  #value: { readonly value: T } | null = null;

  constructor() {
    this.promise = new Promise<T>((resolve) => {
      this.#resolve = resolve;
    });
  }

  /** True once {@link Eventual.callback} was called. */
  get called(): boolean {
    return this.#value !== null;
  }

  /**
   * The value, once called.
   * @throws Error before {@link Eventual.callback} was called.
   */
  get value(): T {
    if (this.#value === null) throw new Error('Eventual.value read before it was called');
    return this.#value.value;
  }

  /** Supplies the value; later calls are ignored (the first value wins). */
  callback(value: T): void {
    if (this.#value !== null) return;
    this.#value = { value };
    this.#resolve(value);
  }

  /** Lets a test `await` it, or chain on it as on a promise. */
  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.promise.then(onFulfilled, onRejected);
  }
}
