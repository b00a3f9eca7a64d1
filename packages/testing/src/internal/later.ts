/**
 * `Later`: a promise with its resolve function, for results that may be
 * Failures (a Deferred would errback on them) and for events a test waits for.
 * @module
 */

/** A value that arrives later; `await later` waits for it. */
export class Later<T> implements PromiseLike<T> {
  readonly #promise: Promise<T>;
  #resolve!: (value: T) => void;
  #value: { readonly value: T } | null = null;

  constructor() {
    this.#promise = new Promise<T>((resolve) => {
      this.#resolve = resolve;
    });
  }

  /** True once {@link Later.callback} was called. */
  get called(): boolean {
    return this.#value !== null;
  }

  /** The value, once called. @throws Error before. */
  get value(): T {
    if (this.#value === null) throw new Error('Later.value read before it was called');
    return this.#value.value;
  }

  /** Supplies the value; later calls are ignored (the first value wins). */
  callback(value: T): void {
    if (this.#value !== null) return;
    this.#value = { value };
    this.#resolve(value);
  }

  /** Lets a test `await` it. */
  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.#promise.then(onFulfilled, onRejected);
  }
}
