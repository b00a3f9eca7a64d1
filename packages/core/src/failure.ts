/**
 * `Failure`: an error travelling as a value, as Twisted's `twisted.python.failure`.
 * Errbacks and `connectionLost` receive one; `check`/`trap` let them branch on
 * the error's class without try/catch.
 *
 * Tests: test/failure.test.ts, test/types/deferred.test-d.ts
 * @module
 */
import { inspect } from 'node:util';

/** Any error class, including ones that take constructor arguments. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- constructors of every shape must fit
export type ErrorClass = abstract new (...args: any[]) => Error;

/** Turns anything that was thrown into an `Error`, keeping the original as `cause`. */
function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  const text = typeof thrown === 'string' ? thrown : `Non-error thrown: ${inspect(thrown)}`;
  return new Error(text, { cause: thrown });
}

/** The brand every Failure carries (see {@link Failure}). */
const FAILURE_BRAND = Symbol.for('torsion.failure');

/**
 * An error as a value.
 *
 * @remarks
 * Like the errors, a Failure is recognised across two copies of
 * `@torsion/core` in one application: it carries a non-enumerable
 * `Symbol.for('torsion.failure')` brand and `static [Symbol.hasInstance]`
 * accepts a value that has it. So `new Failure(theirFailure)` unwraps a
 * Failure built by another copy instead of wrapping it in a second one.
 */
export class Failure {
  /** The wrapped error. A thrown non-Error value is wrapped in an `Error` whose `cause` is the value. */
  readonly value: Error;

  constructor(error: unknown) {
    Object.defineProperty(this, FAILURE_BRAND, { value: true });
    this.value = error instanceof Failure ? error.value : toError(error);
  }

  /**
   * `value instanceof Failure`: true for a Failure from this copy of
   * `@torsion/core`, and for one from another copy (it carries the brand).
   */
  static [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[FAILURE_BRAND] === true
    );
  }

  /** The error's class. */
  get type(): ErrorClass {
    return this.value.constructor as ErrorClass;
  }

  /**
   * Returns the first of `types` the error is an instance of, or `null`.
   * @example `if (reason.check(ConnectionDone)) { ... }`
   */
  check<T extends ErrorClass>(...types: T[]): T | null {
    for (const type of types) {
      if (this.value instanceof type) return type;
    }
    return null;
  }

  /**
   * Like {@link Failure.check}, but rethrows this failure when none match: an
   * errback uses it to handle the errors it knows and pass the rest down the chain.
   * @throws this `Failure` when the error is none of `types`.
   */
  trap<T extends ErrorClass>(...types: T[]): T {
    const found = this.check(...types);
    if (found === null) {
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- Deferred chains carry Failures as thrown values
      throw this;
    }
    return found;
  }

  /** The error's message. */
  getErrorMessage(): string {
    return this.value.message;
  }

  /** A readable traceback: the error's stack, followed by each `cause` in turn. */
  getTraceback(): string {
    const parts: string[] = [];
    const seen = new Set<unknown>();
    let current: unknown = this.value;
    while (current !== undefined && !seen.has(current)) {
      seen.add(current);
      if (current instanceof Error) {
        parts.push(current.stack ?? `${current.name}: ${current.message}`);
        current = current.cause;
      } else {
        parts.push(inspect(current));
        break;
      }
    }
    return parts.join('\nCaused by: ');
  }

  /** Throws the wrapped error. */
  raiseException(): never {
    throw this.value;
  }

  toString(): string {
    return `[Failure instance: ${this.value.name}: ${this.value.message}]`;
  }
}
