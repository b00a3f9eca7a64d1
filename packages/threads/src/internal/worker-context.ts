/**
 * Which task is running in this worker thread, for `callFromThread`. An
 * AsyncLocalStorage follows the task into its awaits and timers, so a call
 * made from a timer the task started still finds the task's channel.
 *
 * The storage lives on `globalThis` because the worker runner and the user's
 * module may load different copies of this package (the built one and the
 * sources, or two installed versions); every copy in a thread must agree.
 *
 * Tests: test/call-from-thread.test.ts
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { MessagePort } from 'node:worker_threads';

/** The running task, as `callFromThread` in a worker sees it. */
export interface TaskContext {
  /** The worker's end of the task's channel. */
  readonly port: MessagePort;
  /** The export running, for error messages. */
  readonly exportName: string;
  /** False once the task has sent its result: the channel is closed. */
  open: boolean;
}

const SLOT = Symbol.for('@torsion/threads/task-context');

/** The storage shared by every copy of this package in the current thread. */
export function taskContextStorage(): AsyncLocalStorage<TaskContext> {
  const holder = globalThis as unknown as Record<
    symbol,
    AsyncLocalStorage<TaskContext> | undefined
  >;
  let storage = holder[SLOT];
  if (storage === undefined) {
    storage = new AsyncLocalStorage<TaskContext>();
    holder[SLOT] = storage;
  }
  return storage;
}
