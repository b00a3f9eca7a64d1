/**
 * The errors `@torsion/threads` reports. Like every Torsion error each has a
 * stable `code`; they reach you as the `Failure` of a Deferred.
 *
 * Tests: test/thread-pool.test.ts
 * @module
 */
import { TorsionError } from '@torsion/core';

/**
 * The pool was stopped (by `stop()` or by the reactor's shutdown): the task
 * was still queued, was running and got terminated, or was submitted after
 * the pool stopped.
 */
export class ThreadPoolStoppedError extends TorsionError {
  override readonly code: string = 'TORSION_ERR_THREAD_POOL_STOPPED';
}

/** Where a {@link ThreadModuleError} looked. */
export interface ThreadModuleErrorOptions extends ErrorOptions {
  /** The module, as the file: URL it was imported from. */
  readonly module: string;
  /** The export that was asked for. */
  readonly exportName: string;
}

/**
 * The module given to `deferToThread`, `callInThread` or `callFromThread`
 * could not be imported, or has no function under the export name asked for.
 * `module` and `exportName` say which; `cause` holds the import error, if any.
 */
export class ThreadModuleError extends TorsionError {
  override readonly code: string = 'TORSION_ERR_THREAD_MODULE';
  /** The module, as the file: URL it was imported from. */
  readonly module: string;
  /** The export that was asked for. */
  readonly exportName: string;

  constructor(message: string, options: ThreadModuleErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.module = options.module;
    this.exportName = options.exportName;
  }
}
