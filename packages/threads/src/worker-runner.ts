/**
 * The entry module of every pool worker (piscina's `filename`): imports the
 * module a task names, calls the export with the task's arguments (awaiting a
 * returned promise), and answers on the task's channel. Never imported by
 * user code; it is not part of the package's public API.
 *
 * Everything the export throws, and any result that cannot be cloned, goes
 * back as an error record: the worker itself never fails because of a task.
 *
 * Tests: test/thread-pool.test.ts
 * @module
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { ThreadModuleError } from './errors.js';
import { importModule } from './internal/import-module.js';
import { toErrorRecord, type TaskMessage, type WorkerMessage } from './internal/messages.js';
import { taskContextStorage, type TaskContext } from './internal/worker-context.js';

type Callable = (...args: unknown[]) => unknown;

async function loadExport(module: string, exportName: string): Promise<Callable> {
  let namespace: Record<string, unknown>;
  try {
    namespace = await importModule(module);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new ThreadModuleError(`Cannot import ${module} in a worker thread: ${why}`, {
      module,
      exportName,
      cause: err,
    });
  }
  const found = namespace[exportName];
  if (typeof found === 'function') return found as Callable;
  const exports = Object.keys(namespace).sort();
  const what =
    exportName in namespace
      ? `its export "${exportName}" is ${found === null ? 'null' : typeof found}, not a function`
      : `it has no export named "${exportName}" (its exports: ${exports.length === 0 ? 'none' : exports.join(', ')})`;
  throw new ThreadModuleError(`Cannot run ${exportName} from ${module}: ${what}`, {
    module,
    exportName,
  });
}

function send(port: MessagePort, message: WorkerMessage): void {
  port.postMessage(message);
}

/** Runs one task. piscina calls it; the answer goes on the task's own channel. */
export default async function runTask(task: TaskMessage): Promise<void> {
  const { port, module, exportName } = task;
  const context: TaskContext = { port, exportName, open: true };
  try {
    const args = (receiveMessageOnPort(port)?.message ?? []) as unknown[];
    let value: unknown;
    try {
      const fn = await loadExport(module, exportName);
      value = await taskContextStorage().run(context, () => fn(...args));
    } catch (err) {
      send(port, { kind: 'error', error: toErrorRecord(err) });
      return;
    }
    try {
      send(port, { kind: 'result', value });
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      send(port, {
        kind: 'error',
        error: toErrorRecord(
          new TypeError(
            `The result of ${exportName} from ${module} cannot be sent to the main thread ` +
              `(results must be structured-cloneable): ${why}`,
            { cause: err },
          ),
        ),
      });
    }
  } finally {
    context.open = false;
    port.close();
  }
}
