/**
 * `exitReason`: the reason `processExited`/`processEnded` get for a child's
 * exit status or signal, alike on every reactor.
 *
 * Tests: test/process/process-errors.test.ts
 * @module
 */
import { Failure } from '../failure.js';
import { ProcessDone, ProcessTerminated } from './process-errors.js';

/**
 * ProcessDone for exit code 0, ProcessTerminated for another code or a signal.
 * @param exitCode - the exit status, or null when a signal ended the child.
 * @param signal - the signal's name (`'SIGTERM'`), or null.
 * @param signals - the system's signal numbers, to fill in `signalNumber`.
 */
export function exitReason(
  exitCode: number | null,
  signal: string | null,
  signals?: Readonly<Record<string, number>>,
): Failure {
  if (signal === null && exitCode === 0) return new Failure(new ProcessDone());
  return new Failure(
    new ProcessTerminated(exitCode, signal, {
      signalNumber: signal === null ? null : (signals?.[signal] ?? null),
    }),
  );
}
