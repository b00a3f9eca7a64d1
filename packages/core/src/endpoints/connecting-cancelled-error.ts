/**
 * `ConnectingCancelledError`: what a client endpoint's `connect()` Deferred
 * fails with when it is cancelled while connecting.
 *
 * Tests: test/endpoints/tcp-client-endpoint.test.ts, test/endpoints/hostname-endpoint.test.ts
 * @module
 */
import { CancelledError } from '../errors.js';

/**
 * A connection attempt was cancelled (`connect(...).cancel()`) before it
 * connected; the attempt was stopped and no socket is left.
 *
 * A {@link CancelledError}, so code that handles any cancelled Deferred
 * handles it too. (Twisted's class of the same name is a plain exception.)
 * It carries where the attempt went.
 */
export class ConnectingCancelledError extends CancelledError {
  override readonly code: string = 'TORSION_ERR_CONNECTING_CANCELLED';
  /** The destination of the cancelled attempt, as the endpoint describes it (`127.0.0.1:8007`). */
  readonly destination: string;

  constructor(destination: string, options?: ErrorOptions) {
    super(`The connection attempt to ${destination} was cancelled.`, options);
    this.destination = destination;
  }
}
