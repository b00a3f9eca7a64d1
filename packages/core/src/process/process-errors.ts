/**
 * Why a child process ended, and the errors of the process API: the reasons
 * `processExited`/`processEnded` receive ({@link ProcessDone},
 * {@link ProcessTerminated}, {@link ProcessSpawnError}), and what
 * `signalProcess` and the `getProcessOutput` family throw or fail with.
 *
 * `ProcessDone` is a `ConnectionDone` and `ProcessTerminated` a
 * `ConnectionLost`, as in Twisted, so code that checks a stream's reason
 * reads a process's the same way.
 *
 * Tests: test/process/process-errors.test.ts
 * @module
 */
import { ConnectionDone, ConnectionLost, TorsionError } from '../errors.js';

/** The signal numbers Linux and the BSDs agree on, for naming a signal a child died of. */
const SIGNAL_NUMBERS: Readonly<Record<string, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGKILL: 9,
  SIGSEGV: 11,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
};

/**
 * The number of signal `name` (`'SIGTERM'` → 15) on this system, or `null`
 * when it is not known. Reads `os.constants.signals` where the runtime has it
 * (passed in by the reactor), else the numbers every POSIX system shares.
 */
export function signalNumber(
  name: string,
  table: Readonly<Record<string, number>> = SIGNAL_NUMBERS,
): number | null {
  return table[name] ?? SIGNAL_NUMBERS[name] ?? null;
}

/** The child exited with status 0 (Twisted's `ProcessDone`). `processEnded` then gets it. */
export class ProcessDone extends ConnectionDone {
  override readonly code: string = 'TORSION_ERR_PROCESS_DONE';
  /** Always 0. */
  readonly exitCode = 0 as const;
  /** Always null: the child exited on its own. */
  readonly signal = null;
  constructor(
    message = 'A process has ended without apparent errors: process finished with exit code 0.',
  ) {
    super(message);
  }
}

/**
 * The child exited with a non-zero status, or was killed by a signal
 * (Twisted's `ProcessTerminated`). Exactly one of `exitCode` and `signal` is
 * non-null.
 */
export class ProcessTerminated extends ConnectionLost {
  override readonly code: string = 'TORSION_ERR_PROCESS_TERMINATED';
  /** The exit status (1–255), or null when a signal ended the child. */
  readonly exitCode: number | null;
  /** The signal's name (`'SIGTERM'`), or null when the child exited. */
  readonly signal: string | null;
  /** The signal's number (15), or null when the child exited or the number is unknown. */
  readonly signalNumber: number | null;

  constructor(
    exitCode: number | null,
    signal: string | null,
    options?: ErrorOptions & { signalNumber?: number | null },
  ) {
    const how =
      signal !== null
        ? `process ended by signal ${signal}`
        : `process ended with exit code ${String(exitCode)}`;
    super(`A process has ended with a probable error condition: ${how}.`, options);
    this.exitCode = signal !== null ? null : exitCode;
    this.signal = signal;
    this.signalNumber = signal === null ? null : (options?.signalNumber ?? signalNumber(signal));
  }
}

/**
 * The child could not be started: the executable is missing (`ENOENT`), not
 * executable (`EACCES`), the working directory does not exist, or the system
 * refused (`EAGAIN`, `EMFILE`). `spawnProcess` does not throw it: it reaches
 * `processExited` and `processEnded` on a later turn, as every other way a
 * child ends does. `cause` holds the system error; `errorCode(cause)` its code.
 */
export class ProcessSpawnError extends ConnectionLost {
  override readonly code: string = 'TORSION_ERR_PROCESS_SPAWN';
  /** The executable that was asked for, as given. */
  readonly executable: string;
  /** The system's error code, e.g. `'ENOENT'`, `'EACCES'`; `'UNKNOWN'` when it gave none. */
  readonly systemCode: string;

  constructor(executable: string, systemCode: string, options?: ErrorOptions) {
    super(
      `Could not start ${JSON.stringify(executable)}: ${describeSpawnCode(systemCode)}`,
      options,
    );
    this.executable = executable;
    this.systemCode = systemCode;
  }
}

function describeSpawnCode(code: string): string {
  switch (code) {
    case 'ENOENT':
      return 'ENOENT (no such executable, or the working directory does not exist)';
    case 'EACCES':
      return 'EACCES (not executable, or permission denied)';
    case 'EPERM':
      return 'EPERM (not permitted: uid/gid need privileges)';
    default:
      return code;
  }
}

/**
 * `signalProcess()` was called after the child exited (Twisted's
 * `ProcessExitedAlready`): there is no process left to signal, and its pid
 * may already belong to another one.
 */
export class ProcessExitedAlready extends TorsionError {
  override readonly code: string = 'TORSION_ERR_PROCESS_EXITED_ALREADY';
  constructor(message = 'The process has already exited.') {
    super(message);
  }
}

/**
 * `getProcessOutput` and `getProcessOutputAndValue` collected `maxOutputBytes`
 * of output and the child wrote more: the child is killed (SIGKILL) and the
 * Deferred fails with this error. `output` holds what was collected.
 */
export class ProcessOutputLimitError extends TorsionError {
  override readonly code: string = 'TORSION_ERR_PROCESS_OUTPUT_LIMIT';
  /** The limit that was passed, in bytes. */
  readonly maxOutputBytes: number;
  /** What the child wrote to stdout up to the limit. */
  readonly output: Buffer;
  constructor(executable: string, maxOutputBytes: number, output: Buffer) {
    super(
      `${JSON.stringify(executable)} wrote more than maxOutputBytes (${String(maxOutputBytes)} bytes); it was killed`,
    );
    this.maxOutputBytes = maxOutputBytes;
    this.output = output;
  }
}

/**
 * `getProcessOutput` with `errorOnStderr` (the default, as in Twisted): the
 * child wrote to stderr. `stderr` holds the first chunk it wrote; the child
 * is left to finish, its output is discarded.
 */
export class ProcessStderrError extends TorsionError {
  override readonly code: string = 'TORSION_ERR_PROCESS_STDERR';
  /** What the child wrote to stderr first. */
  readonly stderr: Buffer;
  constructor(executable: string, stderr: Buffer) {
    super(
      `${JSON.stringify(executable)} wrote to stderr: ${JSON.stringify(stderr.subarray(0, 200).toString('utf8'))}`,
    );
    this.stderr = stderr;
  }
}

/**
 * `getProcessOutputAndValue` and `getProcessValue` report a child killed by a
 * signal with this error (Twisted errbacks with the output and the signal).
 */
export class ProcessKilledError extends TorsionError {
  override readonly code: string = 'TORSION_ERR_PROCESS_KILLED';
  /** The signal's name, e.g. `'SIGTERM'`. */
  readonly signal: string;
  /** What the child wrote to stdout. */
  readonly stdout: Buffer;
  /** What the child wrote to stderr. */
  readonly stderr: Buffer;
  constructor(executable: string, signal: string, stdout: Buffer, stderr: Buffer) {
    super(`${JSON.stringify(executable)} was killed by ${signal}`);
    this.signal = signal;
    this.stdout = stdout;
    this.stderr = stderr;
  }
}
