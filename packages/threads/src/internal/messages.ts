/**
 * What the pool and a worker say to each other. Each task gets its own
 * MessageChannel: the arguments travel on it ahead of the task, and the
 * worker answers on it with its `callFromThread` calls and then its result,
 * so calls made by a task reach the reactor before the task's result does.
 *
 * Errors are sent as plain records: the structured clone of an Error keeps
 * neither a custom `name` nor `code`, and a custom class arrives as `Error`.
 *
 * Tests: test/thread-pool.test.ts
 * @module
 */
import type { MessagePort } from 'node:worker_threads';
import { errorCode } from '@torsion/core';
import { ThreadModuleError } from '../errors.js';

/** The task piscina carries to the worker runner. */
export interface TaskMessage {
  /** The module, as a file: URL string. */
  readonly module: string;
  readonly exportName: string;
  /** The worker's end of the task's channel; the arguments are waiting on it. */
  readonly port: MessagePort;
}

/** An error as it crosses threads. */
export interface ErrorRecord {
  readonly name: string;
  readonly message: string;
  readonly stack: string | undefined;
  readonly code: string | undefined;
  /** Set for a {@link ThreadModuleError}. */
  readonly module: string | undefined;
  readonly exportName: string | undefined;
  readonly cause: ErrorRecord | undefined;
}

/** A message from a worker on a task's channel. */
export type WorkerMessage =
  | {
      readonly kind: 'call';
      readonly module: string;
      readonly exportName: string;
      readonly args: readonly unknown[];
    }
  | { readonly kind: 'result'; readonly value: unknown }
  | { readonly kind: 'error'; readonly error: ErrorRecord };

/** How deep `cause` chains are followed; a cycle or a very long chain stops here. */
const MAX_CAUSES = 8;

/** Turns anything thrown into a record that can always be cloned. */
export function toErrorRecord(thrown: unknown, depth = 0): ErrorRecord {
  if (!(thrown instanceof Error)) {
    return {
      name: 'Error',
      message: typeof thrown === 'string' ? thrown : `Non-error thrown: ${safeString(thrown)}`,
      stack: undefined,
      code: undefined,
      module: undefined,
      exportName: undefined,
      cause: undefined,
    };
  }
  const moduleError = thrown instanceof ThreadModuleError ? thrown : null;
  return {
    name: safeString(thrown.name),
    message: safeString(thrown.message),
    stack: typeof thrown.stack === 'string' ? thrown.stack : undefined,
    code: errorCode(thrown),
    module: moduleError?.module,
    exportName: moduleError?.exportName,
    cause:
      thrown.cause === undefined || depth >= MAX_CAUSES
        ? undefined
        : toErrorRecord(thrown.cause, depth + 1),
  };
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return '(unprintable)';
  }
}

/** The built-in classes an error keeps across threads, so `failure.check(TypeError)` works. */
const BUILT_IN: Readonly<Record<string, new (message: string) => Error>> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/**
 * Rebuilds an error from its record: a built-in class or a
 * {@link ThreadModuleError} comes back as that class; any other class comes
 * back as an `Error` with the original `name`. Message, stack and `code` are kept.
 */
export function fromErrorRecord(record: ErrorRecord): Error {
  let error: Error;
  if (
    record.name === 'ThreadModuleError' &&
    record.module !== undefined &&
    record.exportName !== undefined
  ) {
    error = new ThreadModuleError(record.message, {
      module: record.module,
      exportName: record.exportName,
    });
  } else {
    const Class = Object.hasOwn(BUILT_IN, record.name) ? BUILT_IN[record.name] : undefined;
    error = new (Class ?? Error)(record.message);
    if (error.name !== record.name) {
      Object.defineProperty(error, 'name', {
        value: record.name,
        writable: true,
        configurable: true,
      });
    }
    if (record.code !== undefined) {
      Object.defineProperty(error, 'code', {
        value: record.code,
        writable: true,
        configurable: true,
        enumerable: true,
      });
    }
  }
  if (record.stack !== undefined) error.stack = record.stack;
  if (record.cause !== undefined) {
    Object.defineProperty(error, 'cause', {
      value: fromErrorRecord(record.cause),
      writable: true,
      configurable: true,
    });
  }
  return error;
}
