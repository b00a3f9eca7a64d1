/**
 * Calls into user code that is not on a per-chunk hot path (factory hooks,
 * connector callbacks): an exception is logged with its stack and never
 * escapes into Bun's event loop.
 *
 * Tests: test/fault-isolation.bun.test.ts, test/connector.bun.test.ts
 * @module
 */
import type { Logger } from '@torsion/core';

/** Returned by {@link callMethodSafely} when the call threw (the error was logged). */
export const THREW: unique symbol = Symbol('torsion.bun.threw');

type MethodArgs<T, K extends keyof T> = T[K] extends (...args: infer A) => unknown ? A : never;
type MethodResult<T, K extends keyof T> = T[K] extends (...args: never[]) => infer R ? R : never;

/**
 * Calls `target[method](...args)`; if it throws, logs the error (with its
 * stack) and returns {@link THREW}. Takes the receiver and a method name, not
 * a closure, so callers allocate nothing per call.
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
