/**
 * What every receiver does when user code throws from one of its callbacks:
 * log the error with its stack and drop that one connection.
 *
 * Tests: test/line-receiver.test.ts (and the other receivers' tests)
 * @module
 */
import { Logger } from '@torsion/core';
import type { ITransport } from '@torsion/core';

/** The package's logger. */
export const log = new Logger('torsion.line');

/**
 * Logs `error`, thrown by `protocol`'s `callback`, and drops the connection:
 * `abortConnection()` when the transport has it (unsent replies to a broken
 * conversation are not worth flushing), `loseConnection()` otherwise.
 */
export function callbackFailed(
  protocol: object,
  callback: string,
  error: unknown,
  transport: ITransport,
): void {
  const name = protocol.constructor.name;
  log.failure(`${name}.${callback} raised; dropping the connection`, error, {
    protocol: name,
    callback,
  });
  dropConnection(transport);
}

/** Closes at once when the transport can, cleanly otherwise. */
export function dropConnection(transport: ITransport): void {
  const abortable = transport as Partial<{ abortConnection: () => void }>;
  if (typeof abortable.abortConnection === 'function') abortable.abortConnection();
  else transport.loseConnection();
}

/** The transport's reading side, when it can be paused (TCP can; a bare ITransport need not). */
export interface PausableReads {
  pauseProducing(): void;
  resumeProducing(): void;
  stopProducing(): void;
}

/** Returns the transport as {@link PausableReads} when it has those methods. */
export function pausableReads(transport: ITransport): Partial<PausableReads> {
  return transport as Partial<PausableReads>;
}
