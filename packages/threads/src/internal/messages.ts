/**
 * What the pool and a worker say to each other. Each task gets its own
 * MessageChannel: the arguments travel on it ahead of the task, and the
 * worker answers on it with its `callFromThread` calls and then its result,
 * so calls made by a task reach the reactor before the task's result does.
 *
 * Errors are sent as plain records: the structured clone of an Error keeps
 * neither a custom `name` nor `code`, and a custom class arrives as `Error`.
 * A record names the classes of a Torsion error, so the main thread rebuilds
 * it as that class and `failure.check(ConnectError)` works across threads.
 *
 * Tests: test/internal/messages.test.ts, test/errors-across-threads.test.ts,
 * test/thread-pool.test.ts
 * @module
 */
import type { MessagePort } from 'node:worker_threads';
import * as core from '@torsion/core';
import { errorCode, TorsionError } from '@torsion/core';
import { ThreadModuleError, ThreadPoolStoppedError } from '../errors.js';

/** The task piscina carries to the worker runner. */
export interface TaskMessage {
  /** The module, as a file: URL string. */
  readonly module: string;
  readonly exportName: string;
  /** The worker's end of the task's channel; the arguments are waiting on it. */
  readonly port: MessagePort;
}

/** A value of an error's own field that crosses threads as it is. */
export type ErrorField = string | number | boolean | null;

/** An error as it crosses threads. */
export interface ErrorRecord {
  readonly name: string;
  readonly message: string;
  readonly stack: string | undefined;
  readonly code: string | undefined;
  /**
   * For a TorsionError: the names of its class and each ancestor up to
   * `TorsionError`, nearest first, so the main thread can rebuild it as the
   * nearest class it knows. `undefined` for any other error.
   */
  readonly torsionClasses: readonly string[] | undefined;
  /**
   * The error's other own enumerable fields whose values are primitives
   * (`port`, `path`, `syscall`, a ThreadModuleError's `module`…). Fields
   * holding objects are left behind: they may not clone.
   */
  readonly fields: Readonly<Record<string, ErrorField>>;
  /** Whether some own enumerable field was left behind (see `fields`). */
  readonly fieldsLeft: boolean;
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
      torsionClasses: undefined,
      fields: {},
      fieldsLeft: false,
      cause: undefined,
    };
  }
  const { fields, fieldsLeft } = ownFields(thrown);
  return {
    name: safeString(thrown.name),
    message: safeString(thrown.message),
    stack: typeof thrown.stack === 'string' ? thrown.stack : undefined,
    code: errorCode(thrown),
    torsionClasses: thrown instanceof TorsionError ? classNames(thrown) : undefined,
    fields,
    fieldsLeft,
    cause:
      thrown.cause === undefined || depth >= MAX_CAUSES
        ? undefined
        : toErrorRecord(thrown.cause, depth + 1),
  };
}

/** Keys the record carries on its own, or that must not become own properties. */
const NOT_FIELDS = new Set(['name', 'message', 'stack', 'code', 'cause', '__proto__']);

function ownFields(error: Error): { fields: Record<string, ErrorField>; fieldsLeft: boolean } {
  const fields: Record<string, ErrorField> = {};
  let fieldsLeft = false;
  let keys: string[];
  try {
    keys = Object.keys(error);
  } catch {
    return { fields, fieldsLeft: true };
  }
  for (const key of keys) {
    if (NOT_FIELDS.has(key)) continue;
    let value: unknown;
    try {
      value = (error as unknown as Record<string, unknown>)[key];
    } catch {
      fieldsLeft = true;
      continue;
    }
    if (
      value === null ||
      typeof value === 'string' ||
      typeof value === 'number' ||
      typeof value === 'boolean'
    ) {
      fields[key] = value;
    } else if (value !== undefined) {
      fieldsLeft = true;
    }
  }
  return { fields, fieldsLeft };
}

/** The class names of a TorsionError from its own class up to `TorsionError`, nearest first. */
function classNames(error: TorsionError): string[] {
  const names: string[] = [];
  for (
    let proto: unknown = Object.getPrototypeOf(error);
    typeof proto === 'object' && proto !== null && proto !== Error.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    const ctor: unknown = Object.getOwnPropertyDescriptor(proto, 'constructor')?.value;
    if (typeof ctor !== 'function') continue;
    names.push(ctor.name);
    if (ctor.name === 'TorsionError') break;
  }
  return names;
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return '(unprintable)';
  }
}

type TorsionErrorClass = abstract new (...args: never[]) => TorsionError;

let torsionClassesByName: ReadonlyMap<string, TorsionErrorClass> | undefined;

/**
 * The error classes a record can name: every TorsionError class core exports,
 * and this package's own. Looked up by name, as the record carries only names.
 */
function knownTorsionClasses(): ReadonlyMap<string, TorsionErrorClass> {
  if (torsionClassesByName !== undefined) return torsionClassesByName;
  const found = new Map<string, TorsionErrorClass>();
  const candidates: unknown[] = [...Object.values(core), ThreadModuleError, ThreadPoolStoppedError];
  for (const value of candidates) {
    if (
      typeof value === 'function' &&
      (value === TorsionError || value.prototype instanceof TorsionError)
    ) {
      found.set(value.name, value as TorsionErrorClass);
    }
  }
  torsionClassesByName = found;
  return found;
}

/**
 * The class to rebuild a TorsionError as: the nearest of its classes known
 * here, so a subclass of your own (`class QuotaRefused extends
 * ConnectionRefusedError`) comes back as a ConnectionRefusedError named
 * `QuotaRefused`. `undefined` when a field would be missing from the rebuilt
 * error (its class has fields that could not cross), or no class is known.
 */
function torsionClassFor(record: ErrorRecord): TorsionErrorClass | undefined {
  if (record.torsionClasses === undefined || record.fieldsLeft) return undefined;
  const known = knownTorsionClasses();
  for (const name of record.torsionClasses) {
    const found = known.get(name);
    if (found !== undefined) return found;
  }
  return undefined;
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

function defineField(error: Error, key: string, value: unknown, enumerable: boolean): void {
  Object.defineProperty(error, key, { value, writable: true, configurable: true, enumerable });
}

/**
 * Rebuilds an error from its record. A TorsionError comes back as an
 * instance of its class (core's, or this package's), or of the nearest
 * ancestor class known here, so `failure.check(ConnectError)` and `instanceof`
 * work. A built-in class comes back as that class. Any other class comes back
 * as an `Error` with the original `name`. Message, stack, `code` and the
 * primitive fields are kept, and `cause` is rebuilt the same way.
 */
export function fromErrorRecord(record: ErrorRecord): Error {
  const Class = torsionClassFor(record);
  let error: Error;
  if (Class !== undefined) {
    // TorsionError's own constructor, run for Class: it sets the prototype, the
    // name and the cross-copy brands without calling Class's constructor,
    // whose parameters differ from class to class (a CannotListenError takes
    // an interface and a port); the fields below then fill what it would.
    error = Reflect.construct(TorsionError, [record.message], Class) as TorsionError;
  } else {
    const BuiltIn = Object.hasOwn(BUILT_IN, record.name) ? BUILT_IN[record.name] : undefined;
    error = new (BuiltIn ?? Error)(record.message);
  }
  if (error.name !== record.name) defineField(error, 'name', record.name, false);
  if (record.code !== undefined) defineField(error, 'code', record.code, true);
  for (const [key, value] of Object.entries(record.fields)) {
    if (!NOT_FIELDS.has(key)) defineField(error, key, value, true);
  }
  if (record.stack !== undefined) error.stack = record.stack;
  if (record.cause !== undefined) defineField(error, 'cause', fromErrorRecord(record.cause), false);
  return error;
}
