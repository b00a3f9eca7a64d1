/**
 * `systemError`: an Error shaped like Node's system errors (`code`), which the
 * simulated network gives as the cause of a CannotListenError or ConnectError
 * so that tests check the same `cause.code` they would on a real reactor.
 *
 * Tests: test/testing/simulated/simulated-reactor.test.ts
 * @module
 */

/** An Error with a Node-style `code`, e.g. `EADDRINUSE`. */
export function systemError(code: string, message: string): Error {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}
