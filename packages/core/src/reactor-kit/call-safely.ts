/**
 * The wrappers through which the reactor and its ports and connectors call
 * user code that is not on a per-chunk hot path (factory hooks, triggers,
 * connector callbacks): an exception is logged with its stack and never
 * escapes into Node's event loop, where it would kill the process.
 *
 * Tests: test/reactor-kit/call-safely.test.ts
 * @module
 */
import type { Logger } from '../log.js';

/** Returned by `callSafely` and {@link callMethodSafely} when the call threw (the error was logged). */
export const THREW: unique symbol = Symbol('torsion.threw');

/**
 * Calls `fn(...args)`; if it throws, logs the error (with its stack) and
 * returns {@link THREW}.
 *
 * @param log - where to report an exception.
 * @param message - what was being called, e.g. `'Unhandled error in a shutdown trigger'`.
 * @param fields - context for the log event.
 * @param fn - the user function.
 * @param args - its arguments.
 * @returns what `fn` returned, or {@link THREW}.
 */
export function callSafely<A extends unknown[], R>(
  log: Logger,
  message: string,
  fields: Record<string, unknown>,
  fn: (...args: A) => R,
  ...args: A
): R | typeof THREW {
  try {
    return fn(...args);
  } catch (err) {
    log.failure(message, err, fields);
    return THREW;
  }
}

/** The parameters of method `K` of `T` (`never` if it is not a method). */
export type MethodArgs<T, K extends keyof T> = T[K] extends (...args: infer A) => unknown
  ? A
  : never;
/** The return type of method `K` of `T` (`never` if it is not a method). */
export type MethodResult<T, K extends keyof T> = T[K] extends (...args: never[]) => infer R
  ? R
  : never;

/**
 * Calls `target[method](...args)` with `this` bound to `target`; if it throws,
 * logs the error (with its stack) and returns {@link THREW}.
 *
 * @param log - where to report an exception.
 * @param message - what was being called, e.g. `'Unhandled error in MyFactory.buildProtocol'`.
 * @param fields - context for the log event (peer address, port…).
 * @param target - the user object (a factory, a producer).
 * @param method - the name of the method to call.
 * @param args - its arguments.
 * @returns what the method returned, or {@link THREW}.
 * @remarks Takes the receiver and a method name rather than a closure, so
 *   callers allocate nothing per call.
 */
export function callMethodSafely<T extends object, K extends keyof T>(
  log: Logger,
  message: string,
  fields: Record<string, unknown>,
  target: T,
  method: K,
  ...args: MethodArgs<T, K>
): MethodResult<T, K> | typeof THREW {
  try {
    const fn = target[method] as (...a: MethodArgs<T, K>) => MethodResult<T, K>;
    return fn.apply(target, args);
  } catch (err) {
    log.failure(message, err, fields);
    return THREW;
  }
}
