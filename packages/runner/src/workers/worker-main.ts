/**
 * The entry module of a worker forked by `torsion --workers N`: serves the
 * command line it is given (the primary's, minus the worker options) with
 * `runServices`, as the `torsion` command would, and tells the primary once
 * every endpoint listens. `node:cluster` routes the worker's `listen` calls
 * through the primary, so all workers share each listening socket.
 *
 * The primary asks a worker to stop with a message, which the worker turns
 * into SIGTERM unless it has had a signal already (WORKER_STOP_MESSAGE).
 * SIGHUP is the primary's business (a rolling restart): a worker ignores it,
 * so that closing the terminal or a stray `kill -HUP` does not end a worker,
 * unless it serves `ssl:` endpoints, whose certificates it then reloads.
 *
 * Tests: test/workers-supervisor.integration.test.ts, test/workers-rolling.integration.test.ts
 * @module
 */
import { runServices } from '../run.js';
import {
  WORKER_ABORT_MESSAGE,
  WORKER_FAREWELL_MESSAGE,
  WORKER_LISTENING_MESSAGE,
  WORKER_STOP_MESSAGE,
  WORKER_STOPPED_MESSAGE,
} from './supervisor.js';

/** Longest wait for the primary's farewell (a primary that is gone never answers). */
const FAREWELL_TIMEOUT_MS = 2000;

/** Tells the primary this worker has stopped and waits for its answer (see WORKER_FAREWELL_MESSAGE). */
async function farewell(): Promise<void> {
  const send = process.send?.bind(process);
  if (send === undefined || !process.connected) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, FAREWELL_TIMEOUT_MS);
    process.on('message', (message: unknown) => {
      if (message === WORKER_FAREWELL_MESSAGE) {
        clearTimeout(timer);
        resolve();
      }
    });
    send(WORKER_STOPPED_MESSAGE);
  });
}

process.on('SIGHUP', () => undefined);

// The primary's stop request becomes the SIGTERM the reactor and the drain
// act on, unless a signal comes by itself (see WORKER_STOP_MESSAGE). A signal
// sent to the whole group reaches every process at the same instant, but the
// primary may act on it before this worker has read it, so the request waits
// STOP_SIGNAL_WINDOW_MS for that signal before sending its own.
const STOP_SIGNAL_WINDOW_MS = 250;
let signalled = false;
const noteSignal = (): void => {
  signalled = true;
};
process.on('SIGTERM', noteSignal);
process.on('SIGINT', noteSignal);
process.on('message', (message: unknown) => {
  if (message === WORKER_ABORT_MESSAGE) {
    process.kill(process.pid, 'SIGTERM');
  } else if (message === WORKER_STOP_MESSAGE && !signalled) {
    setTimeout(() => {
      if (!signalled) process.kill(process.pid, 'SIGTERM');
    }, STOP_SIGNAL_WINDOW_MS);
  }
});

const code = await runServices(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  cwd: process.cwd(),
  onListening: () => {
    process.send?.(WORKER_LISTENING_MESSAGE);
  },
});
await farewell();
// The channel to the primary would keep the process alive, and everything the
// services opened is closed by now: exit at once (stderr, a pipe, is written synchronously).
process.exit(code);
