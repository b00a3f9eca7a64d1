/**
 * `errorCode`: reads the `code` of an error of unknown shape (a Node system
 * error's `ECONNREFUSED`, a module loader's `ERR_MODULE_NOT_FOUND`, a
 * TorsionError's `TORSION_ERR_*`), so that every package reads it the same
 * safe way: anything may be thrown, including `null` or a string.
 *
 * Tests: test/error-code.test.ts
 * @module
 */

/**
 * The `code` of `err` when it is a string, else `undefined`. Never throws,
 * whatever `err` is.
 * @example
 * ```ts
 * if (errorCode(reason.value.cause) === 'ECONNRESET') retry();
 * ```
 */
export function errorCode(err: unknown): string | undefined {
  if ((typeof err !== 'object' && typeof err !== 'function') || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}
