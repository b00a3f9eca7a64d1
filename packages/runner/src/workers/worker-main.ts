/**
 * The entry module of a worker forked by `torsion --workers N`: serves the
 * command line it is given (the primary's, minus the worker options) with
 * `runServices`, as the `torsion` command would, and tells the primary once
 * every endpoint listens. `node:cluster` routes the worker's `listen` calls
 * through the primary, so all workers share each listening socket.
 *
 * SIGHUP is the primary's business (a rolling restart): a worker ignores it,
 * so that closing the terminal or a stray `kill -HUP` does not end a worker,
 * unless it serves `ssl:` endpoints, whose certificates it then reloads.
 *
 * Tests: test/workers-supervisor.integration.test.ts, test/workers-rolling.integration.test.ts
 * @module
 */
import { runServices } from '../run.js';
import { WORKER_LISTENING_MESSAGE } from './supervisor.js';

process.on('SIGHUP', () => undefined);

const code = await runServices(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  cwd: process.cwd(),
  onListening: () => {
    process.send?.(WORKER_LISTENING_MESSAGE);
  },
});
// The channel to the primary would keep the process alive, and everything the
// services opened is closed by now: exit at once (stderr, a pipe, is written synchronously).
process.exit(code);
