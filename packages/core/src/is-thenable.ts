/**
 * `isThenable`: the one test Torsion uses for "this result is a promise (or
 * any PromiseLike) to wait for", shared by Deferred, the reactors' shutdown
 * triggers and the thread pool, so they agree on what counts.
 *
 * Tests: test/is-thenable.test.ts
 * @module
 */

/**
 * True when `value` is an object or function with a callable `then`: a
 * Promise, or any PromiseLike (the Promises/A+ definition of a thenable).
 */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
