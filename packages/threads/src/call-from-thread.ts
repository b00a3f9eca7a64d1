/**
 * `callFromThread`: hand work back to the reactor, as Twisted's
 * `reactor.callFromThread`. Inside a pool worker, the work is a module's
 * export (functions cannot cross threads) and it runs on the main thread's
 * reactor, the one the pool delivers results on. On the main thread it also
 * takes a plain function and runs it on the default reactor soon.
 *
 * Tests: test/call-from-thread.test.ts
 * @module
 */
import { isMainThread } from 'node:worker_threads';
import { getReactor } from '@torsion/core';
import type { WorkerMessage } from './internal/messages.js';
import { ThreadCallQueue } from './internal/thread-call-queue.js';
import { taskContextStorage } from './internal/worker-context.js';
import { checkExportName, toModuleURL, type ModulePath } from './module-path.js';

let mainThreadCalls: ThreadCallQueue | null = null;

/**
 * Runs `fn(...args)` on the default reactor soon (`callLater(0)`). Main
 * thread only: in a worker, name a module and an export instead.
 * @throws TypeError when called in a worker thread.
 */
export function callFromThread<A extends unknown[]>(fn: (...args: A) => unknown, ...args: A): void;
/**
 * Runs `exportName` from `modulePath` with `args` on the reactor.
 *
 * - In a task run by a {@link ThreadPool}: the call is sent to the main
 *   thread, which imports the module and runs the export on the pool's
 *   reactor. Calls arrive in the order they were made, and before the
 *   task's own result. `args` must be structured-cloneable.
 * - On the main thread: the module is imported and the export runs on the
 *   default reactor, so code can use the same call in either place.
 *
 * An error the export throws (or rejects with) is logged on `torsion.threads`
 * with its stack; the caller never sees it.
 *
 * @throws TypeError for a bad module path or export name, for arguments that
 *   cannot be cloned, or for a function passed in a worker.
 * @throws Error in a worker thread outside a pool task, or after the task
 *   that made the call has finished (its channel to the reactor is closed).
 */
export function callFromThread(
  modulePath: ModulePath,
  exportName: string,
  ...args: unknown[]
): void;
export function callFromThread(target: unknown, ...rest: unknown[]): void {
  if (isMainThread) {
    if (typeof target === 'function') {
      getReactor().callLater(0, target as (...a: unknown[]) => unknown, ...rest);
      return;
    }
    const [exportName, ...args] = rest;
    const module = toModuleURL(target, 'callFromThread');
    checkExportName(exportName, 'callFromThread');
    mainThreadCalls ??= new ThreadCallQueue(getReactor);
    mainThreadCalls.call(module, exportName, args);
    return;
  }
  const context = taskContextStorage().getStore();
  if (typeof target === 'function') {
    throw new TypeError(
      'callFromThread() in a worker thread cannot send a function to the main thread: ' +
        "pass a module and an export's name, e.g. callFromThread(new URL('./progress.js', import.meta.url), 'report', 50)",
    );
  }
  const [exportName, ...args] = rest;
  const module = toModuleURL(target, 'callFromThread');
  checkExportName(exportName, 'callFromThread');
  if (context === undefined) {
    throw new Error(
      'callFromThread() was called in a worker thread outside a task run by a Torsion ThreadPool: ' +
        'there is no reactor to hand the call to',
    );
  }
  if (!context.open) {
    throw new Error(
      `callFromThread(${exportName}) was called after its task (${context.exportName}) finished: ` +
        'the channel to the reactor is closed; make the call before the task returns',
    );
  }
  const message: WorkerMessage = { kind: 'call', module, exportName, args };
  try {
    context.port.postMessage(message);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new TypeError(
      `callFromThread(): the arguments for ${exportName} cannot be sent to the main thread ` +
        `(they must be structured-cloneable): ${why}`,
      { cause: err },
    );
  }
}
