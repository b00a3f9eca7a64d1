/**
 * `EndpointError`: an endpoint description that cannot be used (a bad string
 * for `serverFromString`/`clientFromString`, an option a reactor cannot
 * serve). The message names the field that is wrong.
 *
 * Tests: test/endpoints/server-string.test.ts, test/endpoints/client-string.test.ts
 * @module
 */
import { TorsionError } from '../errors.js';

/** An endpoint string or description that cannot be used; the message names what is wrong. */
export class EndpointError extends TorsionError {
  override readonly code: string = 'TORSION_ERR_ENDPOINT';
}

/**
 * How to get a `:`, `=` or `\` into a value past the shell, for error messages.
 */
export const QUOTING_HINT =
  "a ':', '=' or '\\' inside a value needs a backslash before it, and the endpoint quoted so the shell keeps the backslashes";
